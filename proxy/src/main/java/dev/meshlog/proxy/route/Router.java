package dev.meshlog.proxy.route;

import java.util.Map;
import java.util.Optional;

import dev.meshlog.proxy.config.MatchConfig;
import dev.meshlog.proxy.config.RouteConfig;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.config.StringMatcher;

/**
 * Chooses a request's route with VirtualService semantics: routes in order, the first with a
 * satisfied match wins; a match holds when all of its conditions do. A sidecar's router uses
 * the matches bound to the mesh; a gateway's, those bound to the gateway, of routes whose
 * VirtualService hosts match the request's Host.
 */
public final class Router {

  private final Map<String, String> sourceLabels;
  private final String gateway;

  /** A router for a sidecar whose workload carries {@code sourceLabels} (app, version, ...). */
  public Router(Map<String, String> sourceLabels) {
    this(sourceLabels, null);
  }

  /**
   * A router for gateway {@code gateway} ({@code namespace/name}), or for a sidecar when it is
   * {@code null}.
   */
  public Router(Map<String, String> sourceLabels, String gateway) {
    this.sourceLabels = Map.copyOf(sourceLabels);
    this.gateway = gateway;
  }

  /**
   * The route {@code request} to {@code service} takes, or empty (no route: a 404 NR).
   *
   * @param port the destination port the app called
   */
  public Optional<RouteMatch> route(ServiceConfig service, RequestFacts request, int port) {
    String host = gateway == null ? null : HostResolver.hostOf(request.authority());
    for (RouteConfig r : gateway == null ? service.effectiveRoutes() : service.routes()) {
      if (host != null && !r.servesHost(host)) {
        continue;
      }
      if (r.matches().isEmpty()) {
        return Optional.of(new RouteMatch(service, r, MatchConfig.ANY));
      }
      for (MatchConfig m : r.matches()) {
        if (matches(m, request, port)) {
          return Optional.of(new RouteMatch(service, r, m));
        }
      }
    }
    return Optional.empty();
  }

  /** Whether every condition of {@code m} holds for {@code request} on {@code port}. */
  public boolean matches(MatchConfig m, RequestFacts request, int port) {
    if (gateway == null ? !m.appliesToMesh() : !m.appliesToGateway(gateway)) {
      return false;
    }
    if (m.port() != null && m.port() != port) {
      return false;
    }
    if (m.uri() != null && !m.uri().matches(request.path(), m.ignoreUriCase())) {
      return false;
    }
    if (m.method() != null && !m.method().matches(request.method())) {
      return false;
    }
    if (m.scheme() != null && !m.scheme().matches(request.scheme())) {
      return false;
    }
    if (m.authority() != null && !m.authority().matches(request.authority())
        && !m.authority().matches(HostResolver.hostOf(request.authority()))) {
      return false;
    }
    for (Map.Entry<String, StringMatcher> h : m.headers().entrySet()) {
      if (!h.getValue().matches(request.header(h.getKey()))) {
        return false;
      }
    }
    for (Map.Entry<String, StringMatcher> h : m.withoutHeaders().entrySet()) {
      if (h.getValue().matches(request.header(h.getKey()))) {
        return false;
      }
    }
    for (Map.Entry<String, StringMatcher> q : m.queryParams().entrySet()) {
      if (!q.getValue().matches(request.queryParam(q.getKey()))) {
        return false;
      }
    }
    for (Map.Entry<String, String> l : m.sourceLabels().entrySet()) {
      if (!l.getValue().equals(sourceLabels.get(l.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
