package dev.meshlog.proxy.lb;

import java.util.List;

/** A random candidate, each as likely as its endpoint weight makes it. */
public final class RandomChoice implements LoadBalancer {

  private final boolean weighted;

  /** Uniform choice: every endpoint weighs the same. */
  public RandomChoice() {
    this(false);
  }

  /** Random choice that honours endpoint weights when {@code weighted}. */
  public RandomChoice(boolean weighted) {
    this.weighted = weighted;
  }

  @Override
  public Upstream choose(List<Upstream> candidates, PickContext context) {
    if (!weighted || candidates.size() == 1) {
      return candidates.get(context.random().nextInt(candidates.size()));
    }
    long total = 0;
    for (Upstream u : candidates) {
      total += u.endpoint().weight();
    }
    long r = context.random().nextLong(total);
    for (Upstream u : candidates) {
      r -= u.endpoint().weight();
      if (r < 0) {
        return u;
      }
    }
    return candidates.get(candidates.size() - 1);
  }
}
