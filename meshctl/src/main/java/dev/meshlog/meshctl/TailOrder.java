package dev.meshlog.meshctl;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The time order of {@code meshctl telemetry tail}: events read from several partitions, each in
 * the order it was written, printed oldest first across the topic. Events wait here until no
 * partition that holds them back can still deliver an older one: every partition that holds back
 * has delivered an event at least as late ({@link #watermark}). Which partitions hold back, and
 * for how long an event may wait, is the caller's ({@link #ready}): while reading a backlog,
 * those not read to their end, with no time limit; when following, those that have delivered
 * anything, for at most a short reorder window. Not thread-safe.
 */
final class TailOrder {

  /** One event as tail prints it, and where it was read: ordered by time, then partition, offset, place in its record. */
  record Tailed(Instant time, int partition, long offset, int index, String line) {}

  /** Oldest first; events of one time in the order they were read. */
  static final Comparator<Tailed> ORDER = Comparator.comparing(Tailed::time)
      .thenComparingInt(Tailed::partition).thenComparingLong(Tailed::offset).thenComparingInt(Tailed::index);

  private record Waiting(Tailed event, Instant since) {}

  private final PriorityQueue<Waiting> waiting = new PriorityQueue<>(
      Comparator.comparing(Waiting::event, ORDER));
  private final Map<Integer, Instant> latest = new HashMap<>();

  /** Adds an event read at {@code now}. */
  void add(Tailed event, Instant now) {
    waiting.add(new Waiting(event, now));
    latest.merge(event.partition(), event.time(), (a, b) -> a.isAfter(b) ? a : b);
  }

  /** Notes that {@code partition} delivered a record without an event to print (all filtered out). */
  void saw(int partition, Instant time) {
    latest.merge(partition, time, (a, b) -> a.isAfter(b) ? a : b);
  }

  /** The partitions that have delivered an event. */
  Set<Integer> seen() {
    return Set.copyOf(latest.keySet());
  }

  /**
   * The time up to which every one of {@code holdingBack} has delivered events; null when one of
   * them has delivered none yet (nothing is known to be complete); {@link Instant#MAX} when none
   * holds back.
   */
  Instant watermark(Set<Integer> holdingBack) {
    Instant w = Instant.MAX;
    for (int p : holdingBack) {
      Instant t = latest.get(p);
      if (t == null) {
        return null;
      }
      w = t.isBefore(w) ? t : w;
    }
    return w;
  }

  /**
   * The partitions to pause while {@code unread} hold back: those that have delivered an event
   * past their {@link #watermark}. Nothing of theirs can be printed before the slowest unread
   * partition catches up, so reading on would only fill memory; the partition that sets the
   * watermark is never among them, so reading always moves on.
   */
  Set<Integer> ahead(Set<Integer> unread) {
    Instant w = watermark(unread);
    Set<Integer> ahead = new java.util.TreeSet<>();
    if (w == null || unread.isEmpty()) {
      return ahead;
    }
    latest.forEach((p, t) -> {
      if (t.isAfter(w)) {
        ahead.add(p);
      }
    });
    return ahead;
  }

  /**
   * The events that can be printed now, oldest first, taken out: those no later than the
   * {@link #watermark} of {@code holdingBack}, and, when {@code maxWait} is given, those that
   * have waited that long since {@code now} (with everything older than them).
   */
  List<Tailed> ready(Set<Integer> holdingBack, Instant now, Duration maxWait) {
    Instant w = watermark(holdingBack);
    // an event past its wait takes every event before it along: lines stay in order
    Instant overdue = null;
    if (maxWait != null) {
      Instant limit = now.minus(maxWait);
      for (Waiting x : waiting) {
        if (!x.since().isAfter(limit) && (overdue == null || x.event().time().isAfter(overdue))) {
          overdue = x.event().time();
        }
      }
    }
    List<Tailed> out = new ArrayList<>();
    while (!waiting.isEmpty()) {
      Instant t = waiting.peek().event().time();
      boolean complete = w != null && !t.isAfter(w);
      boolean waited = overdue != null && !t.isAfter(overdue);
      if (!complete && !waited) {
        break;
      }
      out.add(waiting.poll().event());
    }
    return out;
  }

  /** Everything still waiting, oldest first, taken out. */
  List<Tailed> drain() {
    List<Tailed> out = new ArrayList<>();
    while (!waiting.isEmpty()) {
      out.add(waiting.poll().event());
    }
    return out;
  }

  /** How many events wait. */
  int size() {
    return waiting.size();
  }

  /**
   * The {@code n} newest of the events offered, kept as they come (memory for {@code n} events,
   * whatever the backlog's size), and given oldest first.
   */
  static final class Newest {
    private final int n;
    private final PriorityQueue<Tailed> kept = new PriorityQueue<>(ORDER);

    Newest(int n) {
      this.n = n;
    }

    void offer(Tailed event) {
      kept.add(event);
      if (kept.size() > n) {
        kept.poll();
      }
    }

    /** How many are kept (at most n). */
    int size() {
      return kept.size();
    }

    /** The kept events, oldest first. */
    List<Tailed> oldestFirst() {
      List<Tailed> out = new ArrayList<>(kept);
      out.sort(ORDER);
      return out;
    }
  }
}
