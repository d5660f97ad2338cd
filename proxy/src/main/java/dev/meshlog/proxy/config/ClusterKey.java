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

  // Written out: looked up for every request, and the generated ones go through an indy
  // bootstrap that showed in profiles.
  @Override
  public boolean equals(Object o) {
    return this == o || (o instanceof ClusterKey k && host.equals(k.host)
        && Objects.equals(subset, k.subset));
  }

  @Override
  public int hashCode() {
    return 31 * host.hashCode() + (subset == null ? 0 : subset.hashCode());
  }

  @Override
  public String toString() {
    return "outbound||" + (subset == null ? "" : subset) + "|" + host;
  }
}
