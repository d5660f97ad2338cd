package dev.meshlog.proxy.config;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the proxy knows about one service host, translated from its discovery view.
 *
 * @param host the fully qualified host, e.g. {@code reviews.default.svc.cluster.local}
 * @param service the service's short name
 * @param namespace the service's namespace
 * @param version the view version this was translated from
 * @param ports the service's ports
 * @param endpoints the service's instances
 * @param policy the host-level traffic policy
 * @param subsets named subsets, by name
 * @param routes http routes in match order; empty = every request to all endpoints
 * @param egressHosts the hosts this service's proxies call (namespace/host patterns); empty = all
 */
public record ServiceConfig(String host, String service, String namespace, long version,
                            List<Integer> ports, List<EndpointConfig> endpoints,
                            TrafficPolicyConfig policy, Map<String, SubsetConfig> subsets,
                            List<RouteConfig> routes, List<String> egressHosts) {

  public ServiceConfig {
    Objects.requireNonNull(host, "host");
    service = service == null || service.isEmpty() ? host.split("\\.", 2)[0] : service;
    namespace = namespace == null || namespace.isEmpty() ? "default" : namespace;
    ports = List.copyOf(ports);
    endpoints = List.copyOf(endpoints);
    policy = policy == null ? TrafficPolicyConfig.DEFAULT : policy;
    subsets = Map.copyOf(subsets);
    routes = List.copyOf(routes);
    egressHosts = List.copyOf(egressHosts);
  }

  /** The routes requests to this host go through: its own, or one to all its endpoints. */
  public List<RouteConfig> effectiveRoutes() {
    return routes.isEmpty() ? List.of(RouteConfig.forwardAll("default", DestinationConfig.to(host,
        null))) : routes;
  }

  /** The traffic policy of {@code subset} ({@code null} = the host's). */
  public TrafficPolicyConfig policyOf(String subset) {
    if (subset == null) {
      return policy;
    }
    SubsetConfig s = subsets.get(subset);
    return s == null ? policy : s.policy();
  }

  /** The endpoints of {@code subset} ({@code null} = all of them). */
  public List<EndpointConfig> endpointsOf(String subset) {
    if (subset == null) {
      return endpoints;
    }
    SubsetConfig s = subsets.get(subset);
    return s == null ? List.of()
        : endpoints.stream().filter(e -> e.hasLabels(s.labels())).toList();
  }
}
