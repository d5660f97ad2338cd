package dev.meshlog.proxy.lb;

import java.util.List;

/** A uniformly random candidate. */
public final class RandomChoice implements LoadBalancer {

  @Override
  public Upstream choose(List<Upstream> candidates, PickContext context) {
    return candidates.get(context.random().nextInt(candidates.size()));
  }
}
