package dev.meshlog.proxy.http;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded hand-off from event loops to one thread of its own: a preallocated ring that its
 * thread drains every {@code interval}, sooner when a mark (by default a quarter of the
 * capacity) was queued since the last drain (on a sidecar's one or two cores a wake-up per item would preempt the event
 * loop each time). The access log and request telemetry both ride on it.
 *
 * <p>Capacity counts items from {@link #offer} until their owner calls {@link #release}: at
 * {@link #poll} time for a plain queue (the access log), or later — when Kafka acknowledges the
 * record holding a batch of events, {@link #release(int)} — to bound what is in flight as well
 * (telemetry).
 *
 * <p>Why a ring of our own and not a linked or library queue: on the request path an
 * {@link #offer} is one compare-and-set that claims a slot and a unit of capacity at once, and
 * one ordered store; nothing is allocated (a linked queue's node per item was garbage held for
 * up to a drain interval), and the event loop touches no counter that another thread writes per
 * item (the count of released items, written e.g. by Kafka's sender thread, is read only when
 * the ring looks full). A library ring (JCTools' {@code MpscArrayQueue}) bounds only what is
 * queued, so the in-flight bound would need a second shared counter and a second atomic
 * operation per item.
 *
 * <p>Many offering threads, one polling thread (the hand-off's own, through the {@code drain}
 * task); {@link #release} from any thread.
 *
 * <p>{@link #stop} closes admission in the same counter that offers compare-and-set (its sign
 * bit), so an offer either claims a slot before the close — and the final drain waits for it and
 * takes it — or is refused: every offer that returned true is taken exactly once, also when it
 * races the stop (before, an offer that had passed its check of the stop flag could fill a slot
 * after the final drain: neither taken nor refused).
 *
 * @param <T> the items, immutable
 */
public final class Handoff<T> {

  private static final Logger LOG = LoggerFactory.getLogger(Handoff.class);

  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);

  private final int capacity;
  private final int wakeAfter;
  private final long intervalNanos;
  private final Runnable drain;
  private final Object[] slots;
  private final int mask;
  /**
   * The counters each written by one side, 128 bytes apart so that no two share a cache line
   * (the event loop's CAS would otherwise lose its line to the sender's increment each event):
   * {@link #ADMITTED} items ever admitted, the next slot to fill (offering threads), with
   * {@link #CLOSED} set once {@link #stop} closed admission;
   * {@link #RELEASED} items ever released (whoever completes an item; offers read it only when
   * the ring looks full); {@link #TAKEN} the next slot to take (the polling thread).
   */
  private final AtomicLongArray counters = new AtomicLongArray(64);
  private static final int ADMITTED = 16;
  private static final int RELEASED = 32;
  private static final int TAKEN = 48;
  /** The bit of {@link #ADMITTED} that closes admission: a closed count reads negative. */
  private static final long CLOSED = Long.MIN_VALUE;
  /** A recent count of released items, so that offers need not read it each time. */
  private volatile long releasedSeen;
  /** The count of admitted items when the last drain began: what came since decides a wake-up. */
  private volatile long drainedFrom;
  private final Thread thread;
  private volatile boolean stopped;

  /**
   * A ring for {@code capacity} items whose thread ({@code threadName}, a daemon, started by
   * {@link #start}) calls {@code drain} every {@code interval} and once more when stopped.
   */
  public Handoff(String threadName, int capacity, Duration interval, Runnable drain) {
    this(threadName, capacity, Math.max(1, capacity / 4), interval, drain);
  }

  /**
   * A ring for {@code capacity} items whose thread is woken before its {@code interval} once
   * {@code wakeAfter} items were queued since the last drain. A small mark bounds how many
   * items wait at once under load — what a young collection finds alive and has to copy (see
   * the access log's).
   */
  public Handoff(String threadName, int capacity, int wakeAfter, Duration interval,
                 Runnable drain) {
    if (capacity < 1 || capacity > 1 << 30) {
      throw new IllegalArgumentException(threadName + ": capacity " + capacity
          + " (expected: 1.." + (1 << 30) + ")");
    }
    if (wakeAfter < 1 || wakeAfter > capacity) {
      throw new IllegalArgumentException(threadName + ": wake after " + wakeAfter
          + " items (expected: 1.." + capacity + ")");
    }
    this.capacity = capacity;
    this.wakeAfter = wakeAfter;
    this.intervalNanos = interval.toNanos();
    this.drain = drain;
    int size = Integer.highestOneBit(capacity);
    if (size < capacity) {
      size <<= 1;
    }
    this.slots = new Object[size];
    this.mask = size - 1;
    this.thread = new Thread(this::run, threadName);
    thread.setDaemon(true);
  }

  /** Starts the draining thread; call it once the owner is fully built. */
  public Handoff<T> start() {
    thread.start();
    return this;
  }

  /**
   * Queues {@code item} unless the capacity is in use (queued or unreleased) or the ring
   * stopped; false: not taken. Never blocks, never allocates.
   */
  public boolean offer(T item) {
    long a;
    do {
      a = counters.get(ADMITTED);
      if (a < 0) {
        return false; // stopped: CLOSED is set
      }
      if (a - releasedSeen >= capacity) {
        long r = counters.get(RELEASED);
        releasedSeen = r;
        if (a - r >= capacity) {
          return false;
        }
      }
    } while (!counters.compareAndSet(ADMITTED, a, a + 1));
    // The slot is free: its previous item was taken (a - released < capacity <= slots.length,
    // and an item is released only once taken, which cleared its slot).
    SLOT.setRelease(slots, (int) (a & mask), item);
    if (a + 1 - drainedFrom == wakeAfter) {
      LockSupport.unpark(thread);
    }
    return true;
  }

  /**
   * The next queued item, or null when none is (or the next one's offer has not finished
   * storing it: it is taken by the next drain); for the draining thread.
   */
  @SuppressWarnings("unchecked")
  public T poll() {
    long taken = counters.getPlain(TAKEN);
    int i = (int) (taken & mask);
    Object item = SLOT.getAcquire(slots, i);
    if (item == null) {
      if (stopped && taken < (counters.get(ADMITTED) & ~CLOSED)) {
        // Stopping: an offer claimed this slot and is about to fill it; wait for it (admission
        // is closed, so the count compared with is final and the final drain takes them all).
        while ((item = SLOT.getAcquire(slots, i)) == null) {
          Thread.onSpinWait();
        }
      } else {
        return null;
      }
    }
    SLOT.setRelease(slots, i, null);
    counters.setPlain(TAKEN, taken + 1);
    return (T) item;
  }

  /** One taken item no longer counts against the capacity. */
  public void release() {
    counters.incrementAndGet(RELEASED);
  }

  /**
   * {@code n} taken items no longer count against the capacity — e.g. the events of one Kafka
   * record, acknowledged together — in one atomic add.
   */
  public void release(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("release: " + n + " items (expected: at least 0)");
    }
    if (n > 0) {
      counters.addAndGet(RELEASED, n);
    }
  }

  /** Items offered and not yet released. */
  public int inUse() {
    return (int) ((counters.get(ADMITTED) & ~CLOSED) - counters.get(RELEASED));
  }

  /** The capacity. */
  public int capacity() {
    return capacity;
  }

  /** Whether {@link #stop} has begun. */
  public boolean stopped() {
    return stopped;
  }

  /**
   * Takes no more items, lets the thread drain what is queued — every item whose offer returned
   * true — and waits up to {@code join}.
   */
  public void stop(Duration join) {
    long a;
    do {
      a = counters.get(ADMITTED);
    } while (a >= 0 && !counters.compareAndSet(ADMITTED, a, a | CLOSED));
    // set after admission closed: once the thread sees it, the admitted count is final
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
      drainedFrom = counters.get(ADMITTED) & ~CLOSED;
      drainGuarded();
    }
    drainGuarded();
  }

  /**
   * One drain; one that throws (a bug in the owner's drain, a sink that breaks its contract) is
   * logged and the thread goes on draining at the next turn — a dead thread would leave the ring
   * to fill and every later item refused for the life of the proxy. The JVM's own errors (out of
   * memory, stack overflow) are left to end the thread as they would any other.
   */
  private void drainGuarded() {
    try {
      drain.run();
    } catch (VirtualMachineError fatal) {
      throw fatal;
    } catch (Throwable t) {
      LOG.error("{}: a drain failed; the thread keeps draining", thread.getName(), t);
    }
  }
}
