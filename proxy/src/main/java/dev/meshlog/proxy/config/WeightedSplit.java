package dev.meshlog.proxy.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The order in which a route's weighted destinations take requests: a smooth weighted
 * round-robin schedule, computed once, so that any run of {@code period()} consecutive picks
 * gives each destination exactly its weight's share, interleaved rather than in bursts.
 */
public final class WeightedSplit {

  private final int[] schedule;

  private WeightedSplit(int[] schedule) {
    this.schedule = schedule;
  }

  /** The schedule for {@code destinations}' weights; destinations with weight 0 never appear. */
  public static WeightedSplit of(List<DestinationConfig> destinations) {
    int n = destinations.size();
    if (n <= 1) {
      return new WeightedSplit(new int[] {0});
    }
    int[] weights = new int[n];
    int gcd = 0;
    for (int i = 0; i < n; i++) {
      weights[i] = Math.max(0, destinations.get(i).weight());
      gcd = gcd(gcd, weights[i]);
    }
    if (gcd == 0) {
      return new WeightedSplit(new int[] {0});
    }
    int total = 0;
    for (int i = 0; i < n; i++) {
      weights[i] /= gcd;
      total += weights[i];
    }
    // nginx's smooth weighted round robin, run once for a whole period.
    int[] current = new int[n];
    List<Integer> order = new ArrayList<>(total);
    for (int step = 0; step < total; step++) {
      int best = -1;
      for (int i = 0; i < n; i++) {
        current[i] += weights[i];
        if (weights[i] > 0 && (best < 0 || current[i] > current[best])) {
          best = i;
        }
      }
      current[best] -= total;
      order.add(best);
    }
    return new WeightedSplit(order.stream().mapToInt(Integer::intValue).toArray());
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /** The index of the destination taking the {@code n}-th request (n counted from 0). */
  public int pick(long n) {
    return schedule[(int) Math.floorMod(n, (long) schedule.length)];
  }

  /** The length of one full cycle of the schedule. */
  public int period() {
    return schedule.length;
  }
}
