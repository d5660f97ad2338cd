package dev.meshlog.proxy.config;

import java.util.Objects;

/**
 * One weighted destination of a route: a host, optionally one of its subsets.
 *
 * @param host the destination's fully qualified host
 * @param subset the subset name, or {@code null} for all of the host's endpoints
 * @param port the destination port, or {@code null} for the request's
 * @param weight share of the route's traffic, 0..100
 * @param requestHeaders changes to requests sent here
 * @param responseHeaders changes to responses from here
 */
public record DestinationConfig(String host, String subset, Integer port, int weight,
                                HeaderOps requestHeaders, HeaderOps responseHeaders) {

  public DestinationConfig {
    Objects.requireNonNull(host, "host");
    requestHeaders = requestHeaders == null ? HeaderOps.NONE : requestHeaders;
    responseHeaders = responseHeaders == null ? HeaderOps.NONE : responseHeaders;
  }

  /** A destination taking all traffic to {@code host} (optionally a subset). */
  public static DestinationConfig to(String host, String subset) {
    return new DestinationConfig(host, subset, null, 100, HeaderOps.NONE, HeaderOps.NONE);
  }

  /** The cluster this destination sends to. */
  public ClusterKey cluster() {
    return new ClusterKey(host, subset);
  }
}
