package dev.meshlog.proxy.resilience;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicLong;

import dev.meshlog.proxy.config.PoolLimits;

/**
 * A cluster's connection-pool limits, enforced: a request holds a connection slot while it is in
 * flight; when all {@code maxConnections} are busy it waits in a queue of at most
 * {@code maxPendingRequests}; beyond that, or beyond {@code maxRequests} in all, it overflows and
 * is answered 503 with flag UO at once. Retries in flight are capped by {@code maxRetries}.
 */
public final class CircuitBreaker {

  /** Called when a queued request gets its slot; the owner must run on its own thread. */
  public interface Waiter {
    /** The request now holds a slot; it must {@link #release()} it when done. */
    void admitted();
  }

  /** The answer to {@link #acquire}. */
  public enum Admission {
    /** The request holds a slot now. */
    ADMITTED,
    /** The request waits; its {@link Waiter} is called when it gets a slot. */
    QUEUED,
    /** Over a limit: answer 503 UO. */
    OVERFLOW
  }

  private volatile PoolLimits limits;
  private final Deque<Waiter> queue = new ArrayDeque<>();
  private int active;
  private int retries;
  private final AtomicLong overflows = new AtomicLong();
  private final AtomicLong retryOverflows = new AtomicLong();

  /** A breaker with {@code limits}. */
  public CircuitBreaker(PoolLimits limits) {
    this.limits = limits;
  }

  /** Applies new limits; requests in flight and waiting keep their places. */
  public void limits(PoolLimits limits) {
    this.limits = limits;
  }

  /** The limits in force. */
  public PoolLimits limits() {
    return limits;
  }

  /** Asks for a slot for a new request. */
  public Admission acquire(Waiter waiter) {
    PoolLimits l = limits;
    synchronized (this) {
      if ((long) active + queue.size() >= l.maxRequests()) {
        overflows.incrementAndGet();
        return Admission.OVERFLOW;
      }
      if (active < l.maxConnections()) {
        active++;
        return Admission.ADMITTED;
      }
      if (queue.size() < l.maxPendingRequests()) {
        queue.addLast(waiter);
        return Admission.QUEUED;
      }
    }
    overflows.incrementAndGet();
    return Admission.OVERFLOW;
  }

  /** Gives back a slot; the first waiter, if any, takes it. */
  public void release() {
    Waiter next;
    synchronized (this) {
      next = active <= limits.maxConnections() ? queue.pollFirst() : null;
      if (next == null) {
        active = Math.max(0, active - 1);
      }
    }
    if (next != null) {
      next.admitted();
    }
  }

  /** Removes a waiter that gave up (its request timed out or was cancelled). */
  public synchronized boolean cancel(Waiter waiter) {
    return queue.remove(waiter);
  }

  /** Takes a retry slot, or returns false when {@code maxRetries} are in flight. */
  public boolean tryAcquireRetry() {
    PoolLimits l = limits;
    synchronized (this) {
      if (retries >= l.maxRetries()) {
        retryOverflows.incrementAndGet();
        return false;
      }
      retries++;
      return true;
    }
  }

  /** Gives back a retry slot. */
  public synchronized void releaseRetry() {
    retries = Math.max(0, retries - 1);
  }

  /** Requests holding a slot. */
  public synchronized int active() {
    return active;
  }

  /** Requests waiting for a slot. */
  public synchronized int pending() {
    return queue.size();
  }

  /** Retries in flight. */
  public synchronized int retriesActive() {
    return retries;
  }

  /** Requests refused with UO so far. */
  public long overflows() {
    return overflows.get();
  }

  /** Retries not made because {@code maxRetries} were in flight. */
  public long retryOverflows() {
    return retryOverflows.get();
  }
}
