package dev.meshlog.proxy.config;

import java.util.List;

/**
 * One VirtualService tcp route: which service ports it takes and where their connections go.
 *
 * @param ports service ports the route applies to; empty = every port
 * @param destinations where connections go, weights summing to 100
 * @param split the precomputed order in which destinations take connections
 */
public record TcpRouteConfig(List<Integer> ports, List<DestinationConfig> destinations,
                             WeightedSplit split) {

  public TcpRouteConfig {
    ports = List.copyOf(ports);
    destinations = List.copyOf(destinations);
    split = split == null ? WeightedSplit.of(destinations) : split;
  }

  /** A route taking connections on {@code ports} (empty = any) to {@code destinations}. */
  public TcpRouteConfig(List<Integer> ports, List<DestinationConfig> destinations) {
    this(ports, destinations, null);
  }

  /** Whether connections to service port {@code port} take this route. */
  public boolean appliesTo(int port) {
    return ports.isEmpty() || ports.contains(port);
  }
}
