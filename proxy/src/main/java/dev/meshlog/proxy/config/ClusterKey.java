package dev.meshlog.proxy.config;

import java.util.Objects;

/**
 * Names a set of upstream endpoints: a host's, or one subset's (Envoy's "cluster").
 *
 * @param host the fully qualified host
 * @param subset the subset, or {@code null} for every endpoint of the host
 */
public record ClusterKey(String host, String subset) {

  public ClusterKey {
    Objects.requireNonNull(host, "host");
  }

  @Override
  public String toString() {
    return "outbound||" + (subset == null ? "" : subset) + "|" + host;
  }
}
