package dev.meshlog.proxy.lb;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Each candidate in turn. */
public final class RoundRobin implements LoadBalancer {

  private final AtomicLong next = new AtomicLong();

  @Override
  public Upstream choose(List<Upstream> candidates, PickContext context) {
    return candidates.get((int) Math.floorMod(next.getAndIncrement(), (long) candidates.size()));
  }
}
