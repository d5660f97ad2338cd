package dev.meshlog.proxy.config;

import java.util.List;

/**
 * A route's CORS policy (Istio's {@code corsPolicy}), run as Envoy's CORS filter runs it. The
 * header values are joined once here, per config, as Istio joins them for Envoy.
 *
 * @param allowOrigins an Origin any of these matches is allowed; one that matches {@code *}
 *     allows every origin, as in Envoy
 * @param allowMethods the {@code access-control-allow-methods} value; empty = not sent
 * @param allowHeaders the {@code access-control-allow-headers} value; empty = not sent, {@code *}
 *     = the preflight's {@code access-control-request-headers} echoed
 * @param exposeHeaders the {@code access-control-expose-headers} value; empty = not sent
 * @param maxAge the {@code access-control-max-age} value in seconds; empty = not sent
 * @param allowCredentials whether {@code access-control-allow-credentials: true} is sent
 * @param forwardUnmatchedPreflights whether a preflight from an origin not allowed goes on to the
 *     app (Istio's FORWARD, the default) or is answered 200 without an allowed origin (IGNORE)
 */
public record CorsConfig(List<StringMatcher> allowOrigins, String allowMethods, String allowHeaders,
                         String exposeHeaders, String maxAge, boolean allowCredentials,
                         boolean forwardUnmatchedPreflights, boolean anyOrigin) {

  /** A policy; whether it allows any origin is worked out here, once. */
  public CorsConfig(List<StringMatcher> allowOrigins, String allowMethods, String allowHeaders,
                    String exposeHeaders, String maxAge, boolean allowCredentials,
                    boolean forwardUnmatchedPreflights) {
    this(allowOrigins, allowMethods, allowHeaders, exposeHeaders, maxAge, allowCredentials,
        forwardUnmatchedPreflights, allowOrigins.stream().anyMatch(m -> m.matches("*")));
  }

  /** See the class comment; {@code anyOrigin}: a matcher matches {@code *}. */
  public CorsConfig {
    allowOrigins = List.copyOf(allowOrigins);
    allowMethods = allowMethods == null ? "" : allowMethods;
    allowHeaders = allowHeaders == null ? "" : allowHeaders;
    exposeHeaders = exposeHeaders == null ? "" : exposeHeaders;
    maxAge = maxAge == null ? "" : maxAge;
  }

  /**
   * Whether {@code origin} (a request's non-empty {@code Origin}) is allowed: a matcher matches
   * it, or matches {@code *} (Envoy's wildcard: {@code exact: "*"}, {@code prefix: "*"}, or a
   * regex such as {@code .*}).
   */
  public boolean allows(String origin) {
    if (anyOrigin) {
      return true;
    }
    for (int i = 0; i < allowOrigins.size(); i++) {
      if (allowOrigins.get(i).matches(origin)) {
        return true;
      }
    }
    return false;
  }
}
