package dev.meshlog.proxy.http;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The route and per-try deadlines of one event loop's requests, kept without a timer per
 * request: requests that share a timeout length expire in the order they were armed, so each
 * length is a lane — a linked list in deadline order, whose entries are the exchanges and tries
 * themselves (arming allocates nothing), with one scheduled task for its earliest deadline.
 * Cancelling unlinks in O(1) and leaves that task alone; when it runs it expires what is due and
 * schedules itself again for the lane's new head, so under steady load a lane schedules about
 * one task per timeout length, not one per request (a Vert.x timer per request was a timer
 * object, a boxed id in a concurrent map, a Netty task in the loop's priority queue, and its
 * removal again when the response came).
 *
 * <p>Not thread-safe: one instance per event loop ({@link #of}), used only on that loop, as an
 * exchange is. A lane is kept per distinct length (route timeouts are few); when
 * {@value #LANES} lanes hold other lengths (e.g. callers' varied gRPC deadlines), an entry gets
 * a task of its own.
 */
final class Deadlines {

  /** Runs a task on the event loop after a delay. */
  interface Scheduler {
    void schedule(Runnable task, long delayNanos);
  }

  /** Something that expires; subclassed by what has the deadline, so arming makes no object. */
  abstract static class Entry {
    private Lane lane;
    private Entry prev;
    private Entry next;
    private long deadline;
    /** Bumped by every arm and cancel, so a task of its own ignores an entry re-armed since. */
    private int generation;

    /** Runs on the loop when the deadline has passed, unless cancelled before. */
    protected abstract void expired();

    /** Whether the entry is armed (neither expired nor cancelled since). */
    final boolean armed() {
      return lane != null;
    }
  }

  static final int LANES = 8;

  private static final Logger LOG = LoggerFactory.getLogger(Deadlines.class);
  private static final FastThreadLocal<Deadlines> LOOP_LOCAL = new FastThreadLocal<>();
  /** The lane of entries with a task of their own. */
  private static final Lane SOLO = new Lane(-1);

  private final Lane[] lanes = new Lane[LANES];
  private final Scheduler scheduler;
  private final LongSupplier nanoTime;

  Deadlines(Scheduler scheduler, LongSupplier nanoTime) {
    this.scheduler = scheduler;
    this.nanoTime = nanoTime;
  }

  /** The deadlines of {@code loop}; call on that loop only. */
  static Deadlines of(EventLoop loop) {
    if (!loop.inEventLoop()) {
      throw new IllegalStateException("deadlines are armed on their event loop only");
    }
    Deadlines d = LOOP_LOCAL.get();
    if (d == null) {
      d = new Deadlines((task, nanos) -> loop.schedule(task, nanos, TimeUnit.NANOSECONDS),
          System::nanoTime);
      LOOP_LOCAL.set(d);
    }
    return d;
  }

  /** Arms {@code e} to expire {@code timeoutNanos} from now (re-arms it if it was armed). */
  void arm(Entry e, long timeoutNanos) {
    cancel(e);
    long now = nanoTime.getAsLong();
    e.deadline = now + timeoutNanos;
    Lane lane = laneFor(timeoutNanos);
    if (lane == null) {
      e.lane = SOLO;
      int generation = e.generation;
      scheduler.schedule(() -> {
        if (e.lane == SOLO && e.generation == generation) {
          e.lane = null;
          e.generation++;
          expire(e);
        }
      }, timeoutNanos);
      return;
    }
    e.lane = lane;
    e.prev = lane.tail;
    if (lane.tail == null) {
      lane.head = e;
    } else {
      lane.tail.next = e;
    }
    lane.tail = e;
    if (!lane.pending || e.deadline - lane.pendingAt < 0) {
      schedule(lane, now);
    }
  }

  /** Cancels {@code e} if it is armed; does nothing otherwise. */
  static void cancel(Entry e) {
    Lane lane = e.lane;
    if (lane == null) {
      return;
    }
    e.generation++;
    e.lane = null;
    if (lane == SOLO) {
      return;
    }
    if (e.prev == null) {
      lane.head = e.next;
    } else {
      e.prev.next = e.next;
    }
    if (e.next == null) {
      lane.tail = e.prev;
    } else {
      e.next.prev = e.prev;
    }
    e.prev = null;
    e.next = null;
  }

  /** Entries armed and not yet expired or cancelled (for tests and diagnostics). */
  int armed() {
    int n = 0;
    for (Lane lane : lanes) {
      for (Entry e = lane == null ? null : lane.head; e != null; e = e.next) {
        n++;
      }
    }
    return n;
  }

  /** Tasks waiting in the scheduler for a lane (for tests and diagnostics). */
  int pendingLanes() {
    int n = 0;
    for (Lane lane : lanes) {
      if (lane != null && lane.pending) {
        n++;
      }
    }
    return n;
  }

  private Lane laneFor(long timeoutNanos) {
    Lane free = null;
    int freeAt = -1;
    for (int i = 0; i < lanes.length; i++) {
      Lane lane = lanes[i];
      if (lane == null) {
        if (freeAt < 0) {
          freeAt = i;
        }
      } else if (lane.timeout == timeoutNanos) {
        return lane;
      } else if (free == null && lane.head == null && !lane.pending) {
        free = lane;
      }
    }
    if (free != null) {
      free.timeout = timeoutNanos;
      return free;
    }
    if (freeAt >= 0) {
      lanes[freeAt] = new Lane(timeoutNanos);
      return lanes[freeAt];
    }
    return null;
  }

  private void schedule(Lane lane, long now) {
    long at = lane.head.deadline;
    lane.pending = true;
    lane.pendingAt = at;
    scheduler.schedule(() -> fire(lane, at), Math.max(0, at - now));
  }

  private void fire(Lane lane, long scheduledFor) {
    if (lane.pending && lane.pendingAt == scheduledFor) {
      lane.pending = false;
    }
    long now = nanoTime.getAsLong();
    Entry e;
    while ((e = lane.head) != null && e.deadline - now <= 0) {
      cancel(e);
      expire(e);
    }
    e = lane.head;
    if (e != null && (!lane.pending || e.deadline - lane.pendingAt < 0)) {
      schedule(lane, now);
    }
  }

  private static void expire(Entry e) {
    try {
      e.expired();
    } catch (RuntimeException ex) {
      LOG.warn("a deadline's expiry failed", ex);
    }
  }

  /** The entries of one timeout length, in deadline order. */
  private static final class Lane {
    long timeout;
    Entry head;
    Entry tail;
    /** Whether a task is scheduled, and for which deadline (the earliest such task). */
    boolean pending;
    long pendingAt;

    Lane(long timeout) {
      this.timeout = timeout;
    }
  }
}
