package dev.meshlog.proxy.lb;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Each candidate in turn; with unequal endpoint weights, nginx's smooth weighted round robin:
 * over any run of picks each candidate gets its weight's share, interleaved rather than in
 * bursts.
 */
public final class RoundRobin implements LoadBalancer {

  private final AtomicLong next = new AtomicLong();
  private final boolean weighted;
  private int[] current = new int[0];

  /** Plain round robin: every endpoint weighs the same. */
  public RoundRobin() {
    this(false);
  }

  /** Round robin that honours endpoint weights when {@code weighted}. */
  public RoundRobin(boolean weighted) {
    this.weighted = weighted;
  }

  @Override
  public Upstream choose(List<Upstream> candidates, PickContext context) {
    if (!weighted || candidates.size() == 1) {
      return candidates.get((int) Math.floorMod(next.getAndIncrement(),
          (long) candidates.size()));
    }
    synchronized (this) {
      int total = 0;
      Upstream best = null;
      for (Upstream u : candidates) {
        if (u.index() >= current.length) {
          current = java.util.Arrays.copyOf(current, u.index() + 1);
        }
        int w = u.endpoint().weight();
        current[u.index()] += w;
        total += w;
        if (best == null || current[u.index()] > current[best.index()]) {
          best = u;
        }
      }
      current[best.index()] -= total;
      return best;
    }
  }
}
