package dev.meshlog.config.model;

import java.util.Arrays;
import java.util.Optional;
import java.util.Set;

/** The resource kinds Meshlog accepts, with their API groups. */
public enum Kind {
  VIRTUAL_SERVICE("VirtualService", "networking.istio.io"),
  DESTINATION_RULE("DestinationRule", "networking.istio.io"),
  SERVICE_ENTRY("ServiceEntry", "networking.istio.io"),
  GATEWAY("Gateway", "networking.istio.io"),
  SIDECAR("Sidecar", "networking.istio.io"),
  PEER_AUTHENTICATION("PeerAuthentication", "security.istio.io"),
  AUTHORIZATION_POLICY("AuthorizationPolicy", "security.istio.io"),
  REQUEST_AUTHENTICATION("RequestAuthentication", "security.istio.io"),
  RATE_LIMIT("RateLimit", "policy.meshlog.dev");

  /** apiVersion suffixes accepted for every group. */
  public static final Set<String> VERSIONS = Set.of("v1", "v1beta1", "v1alpha3");

  private final String kindName;
  private final String group;

  Kind(String kindName, String group) {
    this.kindName = kindName;
    this.group = group;
  }

  /** The name users write in {@code kind:}. */
  public String kindName() {
    return kindName;
  }

  /** The API group of {@code apiVersion: <group>/<version>}. */
  public String group() {
    return group;
  }

  /** The kind users call {@code name} (exact, as Kubernetes does). */
  public static Optional<Kind> byName(String name) {
    return Arrays.stream(values()).filter(k -> k.kindName.equals(name)).findFirst();
  }

  /**
   * The kind named by a user on the command line: exact, lower-case, or plural lower-case
   * ({@code VirtualService}, {@code virtualservice}, {@code virtualservices}), or Istio's short
   * names ({@code vs}, {@code dr}, {@code se}, {@code gw}, {@code pa}, {@code ap}, {@code ra}).
   */
  public static Optional<Kind> byUserName(String name) {
    String lower = name.toLowerCase(java.util.Locale.ROOT);
    for (Kind kind : values()) {
      String k = kind.kindName.toLowerCase(java.util.Locale.ROOT);
      if (lower.equals(k) || lower.equals(k + "s") || lower.equals(kind.shortName())) {
        return Optional.of(kind);
      }
    }
    return Optional.empty();
  }

  private String shortName() {
    return switch (this) {
      case VIRTUAL_SERVICE -> "vs";
      case DESTINATION_RULE -> "dr";
      case SERVICE_ENTRY -> "se";
      case GATEWAY -> "gw";
      case SIDECAR -> "sidecar";
      case PEER_AUTHENTICATION -> "pa";
      case AUTHORIZATION_POLICY -> "ap";
      case REQUEST_AUTHENTICATION -> "ra";
      case RATE_LIMIT -> "rl";
    };
  }
}
