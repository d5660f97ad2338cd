package dev.meshlog.config.controlplane;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The registry's instance keys ordered by the time something is next due for each: a lease that
 * lapses, or a deregistered record whose retention ends. The lease scan asks only for what is due,
 * so a tick costs what expires, not the size of the registry (a full store scan per tick held the
 * single control-plane thread for tens of ms at 10,000 instances, delaying any command behind it).
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

  private final TreeSet<Due> byTime = new TreeSet<>();
  private final Map<String, Long> dueAt = new HashMap<>();

  /** Makes {@code key} due at {@code atMillis}, replacing its previous due time. */
  void schedule(String key, long atMillis) {
    Long previous = dueAt.put(key, atMillis);
    if (previous != null) {
      byTime.remove(new Due(previous, key));
    }
    byTime.add(new Due(atMillis, key));
  }

  /** Forgets {@code key} (its record was deleted). */
  void remove(String key) {
    Long previous = dueAt.remove(key);
    if (previous != null) {
      byTime.remove(new Due(previous, key));
    }
  }

  /** Removes and returns, earliest first, the keys due at or before {@code nowMillis}. */
  List<String> takeDue(long nowMillis) {
    List<String> due = new ArrayList<>();
    while (!byTime.isEmpty() && byTime.first().at() <= nowMillis) {
      Due first = byTime.pollFirst();
      dueAt.remove(first.key());
      due.add(first.key());
    }
    return due;
  }

  /** The earliest due time, or {@link Long#MAX_VALUE} when nothing is due ever. */
  long nextDue() {
    return byTime.isEmpty() ? Long.MAX_VALUE : byTime.first().at();
  }

  /** How many keys have a due time. */
  int size() {
    return dueAt.size();
  }
}
