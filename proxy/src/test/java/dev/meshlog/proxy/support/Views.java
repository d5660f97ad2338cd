package dev.meshlog.proxy.support;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.discovery.Destination;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.RetryPolicy;
import dev.meshlog.events.discovery.RouteDestination;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.StringMatch;
import dev.meshlog.events.discovery.Subset;

/** Short builders for discovery views in tests. */
public final class Views {

  /** The instant views are generated at. */
  public static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");

  private Views() {}

  /** The fully qualified host of {@code service} in namespace default. */
  public static String host(String service) {
    return service + ".default.svc.cluster.local";
  }

  /** A view builder for {@code service} in namespace default, version 1. */
  public static ServiceView.Builder view(String service) {
    return ServiceView.newBuilder().setHost(host(service)).setService(service)
        .setNamespace("default").setVersion(1).setGeneratedAt(T0);
  }

  /** A healthy endpoint on 127.0.0.1:{@code port} with labels app=?, version={@code version}. */
  public static Endpoint endpoint(int port, String version, String zone) {
    return Endpoint.newBuilder().setInstanceId("ep-" + port).setAddress("127.0.0.1").setPort(port)
        .setLabels(Map.of("version", version)).setZone(zone).setCluster("c1")
        .setHealth(EndpointHealth.HEALTHY).build();
  }

  /**
   * The endpoint of a sidecar'd instance of {@code service} {@code version} whose inbound port
   * is {@code inboundPort}: labels app and version, zone-a, cluster c1, healthy.
   */
  public static Endpoint sidecarEndpoint(String service, String version, int inboundPort) {
    return Endpoint.newBuilder().setInstanceId(service + "-" + version).setAddress("127.0.0.1")
        .setPort(inboundPort).setLabels(Map.of("app", service, "version", version))
        .setZone("zone-a").setCluster("c1").setHealth(EndpointHealth.HEALTHY).build();
  }

  /** {@code service}'s view with the one {@code endpoint} and one route, "r", to its {@code version}. */
  public static ServiceView allTo(String service, String version, Endpoint endpoint) {
    return view(service).setEndpoints(List.of(endpoint)).setSubsets(List.of(subset(version)))
        .setHttpRoutes(List.of(route("r", List.of(), to(service, version, 100)).build())).build();
  }

  /** A subset {@code name} selecting label version={@code name}. */
  /**
   * {@code service} with one healthy endpoint, the app at {@code appPort} on loopback reached
   * directly (no sidecar before it), port 9080 declared {@code protocol}, and one route to it
   * with {@code retries} ({@code null}: none set, so the proxy's default applies).
   */
  public static ServiceView oneApp(String service, int appPort, Protocol protocol,
                                   RetryPolicy retries) {
    HttpRoute.Builder route = HttpRoute.newBuilder().setName("r")
        .setDestinations(List.of(RouteDestination.newBuilder().setWeight(100)
            .setDestination(Destination.newBuilder().setHost(host(service)).build()).build()));
    if (retries != null) {
      route.setRetries(retries);
    }
    return view(service).setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId(service + "-1").setAddress("127.0.0.1").setPort(appPort)
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setPorts(List.of(ServicePort.newBuilder().setName("web").setNumber(9080)
            .setProtocol(protocol).build()))
        .setHttpRoutes(List.of(route.build())).build();
  }

  public static Subset subset(String name) {
    return Subset.newBuilder().setName(name).setLabels(Map.of("version", name)).build();
  }

  /** A string match. */
  public static StringMatch match(MatchType type, String value) {
    return StringMatch.newBuilder().setType(type).setValue(value).build();
  }

  /** A destination of {@code service}'s {@code subset} with {@code weight}. */
  public static RouteDestination to(String service, String subset, int weight) {
    return RouteDestination.newBuilder().setWeight(weight)
        .setDestination(Destination.newBuilder().setHost(host(service)).setSubset(subset).build())
        .build();
  }

  /** A route builder with the given matches and destinations. */
  public static HttpRoute.Builder route(String name, List<HttpMatch> matches,
                                        RouteDestination... destinations) {
    return HttpRoute.newBuilder().setName(name).setMatches(matches)
        .setDestinations(List.of(destinations));
  }
}
