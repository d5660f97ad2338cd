package dev.meshlog.proxy.lb;

import java.util.List;

/**
 * The power of two choices: of two distinct random candidates, the one with fewer requests in
 * flight (Envoy's LEAST_REQUEST with its default choice count).
 */
public final class LeastRequest implements LoadBalancer {

  @Override
  public Upstream choose(List<Upstream> candidates, PickContext context) {
    int n = candidates.size();
    if (n == 1) {
      return candidates.get(0);
    }
    int a = context.random().nextInt(n);
    int b = context.random().nextInt(n - 1);
    if (b >= a) {
      b++;
    }
    Upstream first = candidates.get(a);
    Upstream second = candidates.get(b);
    return second.stats().active() < first.stats().active() ? second : first;
  }
}
