package dev.meshlog.proxy.config;

import java.util.Map;
import java.util.Objects;

/**
 * One instance of a service as the proxy sees it: where to connect and where it runs.
 *
 * @param instanceId the instance's id in the registry
 * @param address IP address or host name of the instance's inbound (sidecar) port
 * @param port that port
 * @param labels workload labels (app, version, ...), compared with subsets' labels
 * @param region the region it runs in, or empty
 * @param zone the zone it runs in, or empty
 * @param cluster the cluster it runs in, or empty
 * @param healthy whether the registry considers it able to serve
 * @param weight its relative weight, at least 1
 */
public record EndpointConfig(String instanceId, String address, int port,
                             Map<String, String> labels, String region, String zone,
                             String cluster, boolean healthy, int weight) {

  public EndpointConfig {
    Objects.requireNonNull(address, "address");
    instanceId = instanceId == null || instanceId.isEmpty() ? address + ":" + port : instanceId;
    labels = Map.copyOf(labels);
    region = region == null ? "" : region;
    zone = zone == null ? "" : zone;
    cluster = cluster == null ? "" : cluster;
    weight = Math.max(1, weight);
  }

  /** A healthy endpoint with the given labels and locality (for tests and tools). */
  public static EndpointConfig of(String address, int port, Map<String, String> labels,
                                  String zone, String cluster) {
    return new EndpointConfig(address + ":" + port, address, port, labels, "", zone, cluster,
        true, 1);
  }

  /** {@code address:port}, the identity of the endpoint on the wire. */
  public String hostPort() {
    return address + ":" + port;
  }

  /** Whether every one of {@code selector}'s labels is on this endpoint with the same value. */
  public boolean hasLabels(Map<String, String> selector) {
    for (Map.Entry<String, String> e : selector.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
