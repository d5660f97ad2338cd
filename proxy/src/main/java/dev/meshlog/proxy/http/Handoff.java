package dev.meshlog.proxy.http;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A bounded hand-off from event loops to one thread of its own, which drains it every
 * {@code interval} (sooner when a quarter of the capacity is in use). {@link #offer} never blocks
 * and wakes the thread at most once per quarter: on a sidecar's one or two cores a wake-up per
 * item preempts the event loop each time. The access log and request telemetry both ride on it.
 *
 * <p>Capacity counts items from {@link #offer} until their owner calls {@link #release}: at
 * {@link #poll} time for a plain queue, or later (e.g. when Kafka acknowledges) to bound what
 * is in flight as well.
 *
 * @param <T> the items, immutable
 */
public final class Handoff<T> {

  private final int capacity;
  private final long intervalNanos;
  private final Runnable drain;
  private final ConcurrentLinkedQueue<T> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger inUse = new AtomicInteger();
  private final Thread thread;
  private volatile boolean stopped;

  /**
   * A hand-off whose thread (named {@code threadName}, a daemon, started by {@link #start})
   * calls {@code drain} every {@code interval} and once more when stopped.
   */
  public Handoff(String threadName, int capacity, Duration interval, Runnable drain) {
    if (capacity < 1) {
      throw new IllegalArgumentException(threadName + ": capacity " + capacity
          + " (expected: at least 1)");
    }
    this.capacity = capacity;
    this.intervalNanos = interval.toNanos();
    this.drain = drain;
    this.thread = new Thread(this::run, threadName);
    thread.setDaemon(true);
  }

  /** Starts the draining thread; call it once its owner is fully built. */
  public Handoff<T> start() {
    thread.start();
    return this;
  }

  /** Queues {@code item} unless the capacity is in use or the hand-off stopped; false: not taken. */
  public boolean offer(T item) {
    if (stopped) {
      return false;
    }
    int n = inUse.incrementAndGet();
    if (n > capacity) {
      inUse.decrementAndGet();
      return false;
    }
    queue.offer(item);
    if (n == capacity / 4) {
      LockSupport.unpark(thread);
    }
    return true;
  }

  /** The next queued item, or null; for the draining thread. */
  public T poll() {
    return queue.poll();
  }

  /** One offered item no longer counts against the capacity. */
  public void release() {
    inUse.decrementAndGet();
  }

  /** Items offered and not yet released. */
  public int inUse() {
    return inUse.get();
  }

  /** The capacity. */
  public int capacity() {
    return capacity;
  }

  /** Whether {@link #stop} has begun. */
  public boolean stopped() {
    return stopped;
  }

  /** Takes no more items, lets the thread drain what is queued, and waits up to {@code join} for it. */
  public void stop(Duration join) {
    stopped = true;
    LockSupport.unpark(thread);
    try {
      thread.join(Math.max(1, join.toMillis()));
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    while (!stopped) {
      LockSupport.parkNanos(this, intervalNanos);
      drain.run();
    }
    drain.run();
  }
}
