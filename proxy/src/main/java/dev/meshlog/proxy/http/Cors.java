package dev.meshlog.proxy.http;

import dev.meshlog.proxy.config.CorsConfig;
import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;

/**
 * A route's CORS policy applied to one request, as Envoy's CORS filter applies it (Istio puts
 * that filter before the fault filter and the router): a preflight is answered by the proxy, an
 * actual request from an allowed origin has its response marked for the browser. Requests
 * without an {@code Origin} are not CORS requests and pass untouched.
 */
final class Cors {

  static final AsciiString ORIGIN = AsciiString.cached("origin");
  static final AsciiString REQUEST_METHOD = AsciiString.cached("access-control-request-method");
  static final AsciiString REQUEST_HEADERS = AsciiString.cached("access-control-request-headers");
  static final AsciiString ALLOW_ORIGIN = AsciiString.cached("access-control-allow-origin");
  static final AsciiString ALLOW_CREDENTIALS = AsciiString.cached("access-control-allow-credentials");
  static final AsciiString ALLOW_METHODS = AsciiString.cached("access-control-allow-methods");
  static final AsciiString ALLOW_HEADERS = AsciiString.cached("access-control-allow-headers");
  static final AsciiString MAX_AGE = AsciiString.cached("access-control-max-age");
  static final AsciiString EXPOSE_HEADERS = AsciiString.cached("access-control-expose-headers");
  private static final String TRUE = "true";

  /** What the CORS step decided for a request. */
  enum Outcome {
    /** Not a CORS request, or one from an origin not allowed: forward, add nothing. */
    PASS,
    /** An actual request from an allowed origin: forward, and mark the response. */
    MARK_RESPONSE,
    /** A preflight the proxy answers itself: {@link #preflightResponse}. */
    ANSWER_PREFLIGHT
  }

  private Cors() {}

  /**
   * What {@code policy} does with a request of {@code method} carrying {@code origin} (null or
   * empty when absent) and {@code requestMethod} ({@code access-control-request-method}).
   */
  static Outcome decide(CorsConfig policy, HttpMethod method, String origin, String requestMethod) {
    if (origin == null || origin.isEmpty()) {
      return Outcome.PASS;
    }
    boolean allowed = policy.allows(origin);
    boolean preflight = method == HttpMethod.OPTIONS && requestMethod != null
        && !requestMethod.isEmpty();
    if (!preflight) {
      return allowed ? Outcome.MARK_RESPONSE : Outcome.PASS;
    }
    return allowed || !policy.forwardUnmatchedPreflights() ? Outcome.ANSWER_PREFLIGHT
        : Outcome.PASS;
  }

  /**
   * The headers of the 200 the proxy answers a preflight with. An origin not allowed (IGNORE)
   * gets no {@code access-control-allow-origin}, so the browser refuses; the other headers are
   * sent either way, as Envoy sends them. {@code *} in allowMethods or allowHeaders echoes what
   * the preflight asks for.
   */
  static MultiMap preflightResponse(CorsConfig policy, MultiMap request, boolean allowed) {
    MultiMap out = HttpHeaders.headers();
    if (allowed) {
      out.set(ALLOW_ORIGIN, request.get(ORIGIN));
    }
    if (policy.allowCredentials()) {
      out.set(ALLOW_CREDENTIALS, TRUE);
    }
    echoOrSet(out, ALLOW_METHODS, policy.allowMethods(), request.get(REQUEST_METHOD));
    echoOrSet(out, ALLOW_HEADERS, policy.allowHeaders(), request.get(REQUEST_HEADERS));
    if (!policy.maxAge().isEmpty()) {
      out.set(MAX_AGE, policy.maxAge());
    }
    return out;
  }

  /**
   * Marks the response to an actual request from allowed {@code origin}: the origin allowed,
   * credentials if the policy allows them, the exposed headers. Runs after the route's own
   * response header operations, so it has the last word, as the CORS filter has in Envoy.
   */
  static void markResponse(CorsConfig policy, String origin, MultiMap response) {
    response.set(ALLOW_ORIGIN, origin);
    if (policy.allowCredentials()) {
      response.set(ALLOW_CREDENTIALS, TRUE);
    }
    if (!policy.exposeHeaders().isEmpty()) {
      response.set(EXPOSE_HEADERS, policy.exposeHeaders());
    }
  }

  private static void echoOrSet(MultiMap out, AsciiString name, String configured, String asked) {
    if (configured.isEmpty()) {
      return;
    }
    String value = configured.equals("*") ? asked : configured;
    if (value != null && !value.isEmpty()) {
      out.set(name, value);
    }
  }
}
