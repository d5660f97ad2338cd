package dev.meshlog.proxy.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Who this proxy is: its workload, where it runs, and the labels routes' {@code sourceLabels}
 * and locality-aware balancing compare against.
 *
 * @param proxyId unique id of the proxy (and its instance)
 * @param service the workload's service name
 * @param namespace its namespace
 * @param version its version label
 * @param region region, or empty
 * @param zone zone, or empty
 * @param cluster cluster, or empty
 * @param serviceAccount service account, or empty
 * @param labels workload labels; {@code app} and {@code version} are added from the fields
 */
public record ProxyIdentity(String proxyId, String service, String namespace, String version,
                            String region, String zone, String cluster, String serviceAccount,
                            Map<String, String> labels) {

  /** Label carrying the region in failover priorities (Kubernetes' well-known label). */
  public static final String REGION_LABEL = "topology.kubernetes.io/region";
  /** Label carrying the zone in failover priorities. */
  public static final String ZONE_LABEL = "topology.kubernetes.io/zone";
  /** Label carrying the cluster in failover priorities (Istio's). */
  public static final String CLUSTER_LABEL = "topology.istio.io/cluster";

  public ProxyIdentity {
    Objects.requireNonNull(service, "service");
    namespace = namespace == null || namespace.isEmpty() ? "default" : namespace;
    version = version == null ? "" : version;
    region = region == null ? "" : region;
    zone = zone == null ? "" : zone;
    cluster = cluster == null ? "" : cluster;
    serviceAccount = serviceAccount == null ? "" : serviceAccount;
    proxyId = proxyId == null || proxyId.isEmpty() ? service + "-" + version : proxyId;
    Map<String, String> l = new LinkedHashMap<>(labels);
    l.putIfAbsent("app", service);
    if (!version.isEmpty()) {
      l.putIfAbsent("version", version);
    }
    labels = Map.copyOf(l);
  }

  /** A proxy for {@code service} version {@code version} in {@code zone} of {@code cluster}. */
  public static ProxyIdentity of(String service, String namespace, String version, String zone,
                                 String cluster) {
    return new ProxyIdentity(null, service, namespace, version, "", zone, cluster, "", Map.of());
  }

  /** The workload's name as telemetry reports it: {@code service-version}, or the service. */
  public String workload() {
    return version.isEmpty() ? service : service + "-" + version;
  }

  /** The fully qualified host of its own service in {@code domain}. */
  public String host(String domain) {
    return service + "." + namespace + ".svc." + domain;
  }
}
