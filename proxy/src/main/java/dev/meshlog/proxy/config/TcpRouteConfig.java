package dev.meshlog.proxy.config;

import java.util.List;

/**
 * One VirtualService tcp route, or one match of a tls route: which service ports (and, for a
 * tls route, which SNI names) it takes and where their connections go.
 *
 * @param ports service ports the route applies to; empty = every port
 * @param destinations where connections go, weights summing to 100
 * @param split the precomputed order in which destinations take connections
 * @param sniHosts for a tls route, the SNI names it takes (exact, {@code *.suffix} or
 *     {@code *}); empty = a tcp route, which takes connections by port alone
 */
public record TcpRouteConfig(List<Integer> ports, List<DestinationConfig> destinations,
                             WeightedSplit split, List<String> sniHosts) {

  public TcpRouteConfig {
    ports = List.copyOf(ports);
    destinations = List.copyOf(destinations);
    split = split == null ? WeightedSplit.of(destinations) : split;
    sniHosts = sniHosts == null ? List.of() : List.copyOf(sniHosts);
  }

  /** A tcp route with a precomputed split. */
  public TcpRouteConfig(List<Integer> ports, List<DestinationConfig> destinations,
                        WeightedSplit split) {
    this(ports, destinations, split, List.of());
  }

  /** A route taking connections on {@code ports} (empty = any) to {@code destinations}. */
  public TcpRouteConfig(List<Integer> ports, List<DestinationConfig> destinations) {
    this(ports, destinations, null, List.of());
  }

  /** Whether this is (a match of) a tls route, routing by SNI. */
  public boolean tls() {
    return !sniHosts.isEmpty();
  }

  /** Whether connections to service port {@code port} take this route. */
  public boolean appliesTo(int port) {
    return ports.isEmpty() || ports.contains(port);
  }

  /**
   * How closely this tls route's SNI names match {@code sni}: -1 not at all, else the length of
   * the matching name, longest for an exact one (Envoy picks the most specific server name, not
   * the first).
   */
  public int sniMatch(String sni) {
    int best = -1;
    for (String pattern : sniHosts) {
      if (HostPattern.matches(pattern, sni)) {
        int score = pattern.startsWith("*") ? pattern.length() - 1 : Integer.MAX_VALUE;
        best = Math.max(best, score);
      }
    }
    return best;
  }
}
