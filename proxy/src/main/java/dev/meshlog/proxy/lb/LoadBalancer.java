package dev.meshlog.proxy.lb;

import java.util.List;

/**
 * Picks one endpoint among the usable ones of a cluster: the seam between the cluster (which
 * knows health, ejection and locality) and the balancing algorithm.
 */
public interface LoadBalancer {

  /**
   * The endpoint for this request.
   *
   * @param candidates the usable endpoints, never empty, in cluster order
   */
  Upstream choose(List<Upstream> candidates, PickContext context);
}
