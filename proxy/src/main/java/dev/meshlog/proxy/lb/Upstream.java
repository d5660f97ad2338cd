package dev.meshlog.proxy.lb;

import dev.meshlog.proxy.config.EndpointConfig;

/**
 * An endpoint as a member of one cluster: its config, its position in the cluster, its locality
 * rank (0 = closest to the proxy) and its runtime stats.
 */
public final class Upstream {

  private final EndpointConfig endpoint;
  private final int index;
  private final int rank;
  private final EndpointStats stats;
  /** {@code address:port}, printed in every access-log line: built once. */
  private final String hostPort;

  /** A member at {@code index} of its cluster, {@code rank} away from the proxy. */
  public Upstream(EndpointConfig endpoint, int index, int rank, EndpointStats stats) {
    this.endpoint = endpoint;
    this.index = index;
    this.rank = rank;
    this.stats = stats;
    this.hostPort = endpoint.hostPort();
  }

  /** The endpoint's config. */
  public EndpointConfig endpoint() {
    return endpoint;
  }

  /** Its position among the cluster's members. */
  public int index() {
    return index;
  }

  /** Its locality rank: 0 for the proxy's zone, growing with distance. */
  public int rank() {
    return rank;
  }

  /** Its runtime stats. */
  public EndpointStats stats() {
    return stats;
  }

  /** {@code address:port}. */
  @Override
  public String toString() {
    return hostPort;
  }
}
