package dev.meshlog.config.controlplane;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The registry's instance keys ordered by the time something is next due for each: a lease that
 * lapses, or a deregistered record whose retention ends. The lease scan asks only for what is due,
 * so a tick costs what expires, not the size of the registry (a full store scan per tick held the
 * single control-plane thread for tens of ms at 10,000 instances, delaying any command behind it).
 *
 * <p>A key may also be scheduled with the lease of an instance that is <em>expected to
 * heartbeat</em> (its lease has not ended); the index keeps the shortest such lease, from which
 * {@link RegistryFlow} tells a registry that went silent from a healthy one's pauses. A key stops
 * counting when it is due, removed or scheduled again without a lease.
 *
 * <p>Only an index: the instances store stays the truth, and whoever acts on a due key reads the
 * record again. One key has at most one due time; scheduling it again replaces it. Not thread-safe
 * (the control-plane task's thread only).
 */
final class LeaseIndex {

  private record Due(long at, String key) implements Comparable<Due> {
    @Override
    public int compareTo(Due o) {
      int byTime = Long.compare(at, o.at);
      return byTime != 0 ? byTime : key.compareTo(o.key);
    }
  }

  /** A key's due time and, if it is expected to heartbeat, its lease (else 0). */
  private record Entry(long at, long lease) {
  }

  private final TreeSet<Due> byTime = new TreeSet<>();
  private final Map<String, Entry> entries = new HashMap<>();
  /** How many keys expected to heartbeat have each lease. */
  private final TreeMap<Long, Integer> expectedLeases = new TreeMap<>();

  /** Makes {@code key} due at {@code atMillis}, replacing its previous due time and lease. */
  void schedule(String key, long atMillis) {
    schedule(key, atMillis, 0);
  }

  /**
   * Makes {@code key} due at {@code atMillis}, replacing its previous due time, and counts it as
   * an instance expected to heartbeat within {@code leaseMillis} (not counted when that is not
   * positive).
   */
  void schedule(String key, long atMillis, long leaseMillis) {
    long lease = Math.max(0, leaseMillis);
    Entry previous = entries.put(key, new Entry(atMillis, lease));
    if (previous != null) {
      byTime.remove(new Due(previous.at(), key));
    }
    byTime.add(new Due(atMillis, key));
    // A heartbeat keeps its lease: the counts only change when the lease or the expectation does.
    long before = previous == null ? 0 : previous.lease();
    if (before != lease) {
      uncount(before);
      count(lease);
    }
  }

  /** Forgets {@code key} (its record was deleted). */
  void remove(String key) {
    Entry previous = entries.remove(key);
    if (previous != null) {
      byTime.remove(new Due(previous.at(), key));
      uncount(previous.lease());
    }
  }

  private void count(long lease) {
    if (lease > 0) {
      expectedLeases.merge(lease, 1, Integer::sum);
    }
  }

  private void uncount(long lease) {
    if (lease > 0) {
      expectedLeases.computeIfPresent(lease, (l, n) -> n == 1 ? null : n - 1);
    }
  }

  /** Removes and returns, earliest first, the keys due at or before {@code nowMillis}. */
  List<String> takeDue(long nowMillis) {
    List<String> due = new ArrayList<>();
    while (!byTime.isEmpty() && byTime.first().at() <= nowMillis) {
      Due first = byTime.pollFirst();
      uncount(entries.remove(first.key()).lease());
      due.add(first.key());
    }
    return due;
  }

  /** The earliest due time, or {@link Long#MAX_VALUE} when nothing is due ever. */
  long nextDue() {
    return byTime.isEmpty() ? Long.MAX_VALUE : byTime.first().at();
  }

  /**
   * The shortest lease of the keys expected to heartbeat, or {@link Long#MAX_VALUE} when none is.
   */
  long shortestExpectedLease() {
    return expectedLeases.isEmpty() ? Long.MAX_VALUE : expectedLeases.firstKey();
  }

  /** How many keys have a due time. */
  int size() {
    return entries.size();
  }
}
