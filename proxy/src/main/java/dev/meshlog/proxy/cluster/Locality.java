package dev.meshlog.proxy.cluster;

import java.util.List;

import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.LbConfig;
import dev.meshlog.proxy.config.ProxyIdentity;

/**
 * Ranks endpoints by closeness to the proxy: 0 for its zone in its cluster, 1 for elsewhere in
 * its cluster, 2 for its zone in another cluster, 3 for the rest; or, with failover priorities,
 * by how many of the listed labels match in order (Istio's {@code failoverPriority}).
 */
public final class Locality {

  private Locality() {}

  /** The rank of {@code e} for a proxy {@code me} under {@code lb}. */
  public static int rank(EndpointConfig e, ProxyIdentity me, LbConfig lb) {
    if (!lb.localityEnabled()) {
      return 0;
    }
    List<String> priorities = lb.failoverPriorities();
    if (!priorities.isEmpty()) {
      int matched = 0;
      for (String label : priorities) {
        String mine = labelOf(me, label);
        if (mine == null || !mine.equals(endpointLabel(e, label))) {
          break;
        }
        matched++;
      }
      return priorities.size() - matched;
    }
    boolean sameRegion = me.region().isEmpty() || e.region().isEmpty()
        || me.region().equals(e.region());
    boolean sameZone = sameRegion && me.zone().equals(e.zone());
    boolean sameCluster = me.cluster().equals(e.cluster());
    return (sameZone ? 0 : 1) + (sameCluster ? 0 : 2);
  }

  private static String labelOf(ProxyIdentity me, String label) {
    return switch (label) {
      case ProxyIdentity.REGION_LABEL -> me.region();
      case ProxyIdentity.ZONE_LABEL -> me.zone();
      case ProxyIdentity.CLUSTER_LABEL -> me.cluster();
      default -> me.labels().get(label);
    };
  }

  private static String endpointLabel(EndpointConfig e, String label) {
    return switch (label) {
      case ProxyIdentity.REGION_LABEL -> e.region();
      case ProxyIdentity.ZONE_LABEL -> e.zone();
      case ProxyIdentity.CLUSTER_LABEL -> e.cluster();
      default -> e.labels().get(label);
    };
  }
}
