package dev.meshlog.proxy.config;

import java.util.Locale;

/**
 * What a sidecar does with a request for a host the mesh does not know (Istio's
 * {@code outboundTrafficPolicy.mode}): refuse it, or pass it through to that host itself.
 */
public enum OutboundTrafficPolicy {
  /** No Sidecar resource sets it: the proxy's own default applies. */
  UNSPECIFIED,
  /** Only the mesh's hosts (services and ServiceEntries): any other is 404 {@code NR}. */
  REGISTRY_ONLY,
  /** Any other host is reached directly, through the {@code PassthroughCluster}. */
  ALLOW_ANY;

  /** This mode, or {@code fallback} when it is {@link #UNSPECIFIED}. */
  public OutboundTrafficPolicy or(OutboundTrafficPolicy fallback) {
    return this == UNSPECIFIED ? fallback : this;
  }

  /**
   * The mode {@code text} names ({@code REGISTRY_ONLY} or {@code ALLOW_ANY}, in any case).
   *
   * @throws IllegalArgumentException naming what was expected
   */
  public static OutboundTrafficPolicy parse(String text) {
    String t = text == null ? "" : text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    return switch (t) {
      case "REGISTRY_ONLY" -> REGISTRY_ONLY;
      case "ALLOW_ANY" -> ALLOW_ANY;
      default -> throw new IllegalArgumentException("outbound traffic policy: " + text
          + " (expected: REGISTRY_ONLY or ALLOW_ANY)");
    };
  }
}
