package dev.meshlog.proxy.config;

import java.util.List;
import java.util.Map;

/**
 * One VirtualService match: every condition set here must hold for the match to hold.
 *
 * @param name the match's name, for logs
 * @param uri the request path (without query), or {@code null} for any
 * @param method the request method, or {@code null}
 * @param authority the Host / :authority, or {@code null}
 * @param scheme the request scheme, or {@code null}
 * @param headers conditions on request headers, by lower-case name
 * @param withoutHeaders headers that must not match (absent ones do not)
 * @param queryParams conditions on query parameters
 * @param sourceLabels labels the calling workload (this proxy's) must carry
 * @param port the destination port, or {@code null} for any
 * @param ignoreUriCase compare exact and prefix uris case-insensitively
 * @param gateways gateways the match is for; empty or containing {@code mesh} applies to sidecars
 */
public record MatchConfig(String name, StringMatcher uri, StringMatcher method,
                          StringMatcher authority, StringMatcher scheme,
                          Map<String, StringMatcher> headers,
                          Map<String, StringMatcher> withoutHeaders,
                          Map<String, StringMatcher> queryParams,
                          Map<String, String> sourceLabels, Integer port, boolean ignoreUriCase,
                          List<String> gateways) {

  /** A match that every request satisfies. */
  public static final MatchConfig ANY = new MatchConfig("", null, null, null, null, Map.of(),
      Map.of(), Map.of(), Map.of(), null, false, List.of());

  public MatchConfig {
    name = name == null ? "" : name;
    headers = Map.copyOf(headers);
    withoutHeaders = Map.copyOf(withoutHeaders);
    queryParams = Map.copyOf(queryParams);
    sourceLabels = Map.copyOf(sourceLabels);
    gateways = List.copyOf(gateways);
  }

  /** Whether this match can apply at gateway {@code namespace/name}. */
  public boolean appliesToGateway(String gateway) {
    return gateways.isEmpty() || gateways.contains(gateway);
  }

  /** Whether this match can apply to a sidecar (as opposed to only to named gateways). */
  public boolean appliesToMesh() {
    return gateways.isEmpty() || gateways.contains("mesh");
  }
}
