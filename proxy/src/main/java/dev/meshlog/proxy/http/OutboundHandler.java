package dev.meshlog.proxy.http;

import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.cluster.Dataplane;
import dev.meshlog.proxy.config.CorsConfig;
import dev.meshlog.proxy.config.DestinationConfig;
import dev.meshlog.proxy.config.FaultConfig;
import dev.meshlog.proxy.config.GatewayServerConfig;
import dev.meshlog.proxy.config.LbConfig;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.RouteConfig;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.route.HostResolver;
import dev.meshlog.proxy.route.RouteMatch;
import dev.meshlog.proxy.route.Rewrites;
import dev.meshlog.proxy.route.Router;
import dev.meshlog.proxy.telemetry.PeerMetadata;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

/**
 * The outbound listener's request handler: what the local app sends (plain HTTP with the
 * destination in {@code Host}, or an absolute-URI proxy request) is resolved to a service,
 * routed, faulted, mirrored, and forwarded to an endpoint's inbound port. A short chain of steps,
 * each of which may answer locally: guard, resolve, route, fault delay, fault abort, redirect or
 * direct response, then forward.
 */
public final class OutboundHandler implements Handler<HttpServerRequest> {

  private final ProxyRuntime rt;
  private final HostResolver resolver;
  private final Router router;
  private final GatewayBinding gateway;
  private final String direction;
  private final String workload;
  private final int serverPort;
  private final String peer;
  /** Carries WebSocket upgrades ({@link WebSocketTunnel}). */
  private final NetClient net;
  /** A sidecar's requests for hosts outside the mesh; {@code null} for a gateway's listeners. */
  private final Passthrough passthrough;

  /**
   * A sidecar's outbound handler, forwarding through {@code rt}'s current config; a host the
   * mesh does not know is passed through as {@code passthrough} decides (ALLOW_ANY), else 404.
   */
  public OutboundHandler(ProxyRuntime rt, Passthrough passthrough) {
    this(rt, null, -1, Objects.requireNonNull(passthrough, "passthrough"));
  }

  /**
   * The handler of gateway {@code gateway} (a sidecar's when {@code null}): a request's Host
   * must be one of the gateway servers' hosts, and the routes of the gateway's view whose
   * VirtualService hosts match it decide where it goes; from there on it is forwarded as a
   * sidecar forwards (faults, retries, balancing, outlier detection).
   */
  public OutboundHandler(ProxyRuntime rt, GatewayBinding gateway) {
    this(rt, gateway, -1);
  }

  /**
   * The handler of gateway {@code gateway}'s listener for the servers on port
   * {@code serverPort} (-1: every plain HTTP server): over TLS it accepts only the servers that
   * terminate TLS, in clear text only plain HTTP ones.
   */
  public OutboundHandler(ProxyRuntime rt, GatewayBinding gateway, int serverPort) {
    this(rt, Objects.requireNonNull(gateway, "gateway"), serverPort, null);
  }

  private OutboundHandler(ProxyRuntime rt, GatewayBinding gateway, int serverPort,
                          Passthrough passthrough) {
    this.passthrough = passthrough;
    this.serverPort = serverPort;
    this.rt = rt;
    this.gateway = gateway;
    this.resolver = rt.resolver();
    this.router = gateway == null ? rt.router() : new Router(rt.identity().labels(), gateway.ref());
    this.direction = gateway == null ? "outbound" : "gateway";
    this.workload = rt.identity().workload();
    this.peer = PeerMetadata.encode(rt.identity());
    this.net = rt.vertx().createNetClient(new NetClientOptions().setTcpNoDelay(true)
        .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
        .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, rt.limits().idleTimeout().toMillis())));
  }

  @Override
  public void handle(HttpServerRequest req) {
    req.pause();
    ProxyExchange ex = new ProxyExchange(rt, req, direction);
    ex.sourceWorkload = workload;
    MultiMap headers = ProxyExchange.endToEndHeaders(req);
    ex.requestId = HeaderRules.ensureRequestId(headers);
    ex.traceparent = HeaderRules.ensureTraceparent(headers);
    if (!RequestGuard.admit(req, ex, rt.limits())) {
      return;
    }
    if (req.method() == io.vertx.core.http.HttpMethod.CONNECT) {
      connect(ex, req);
      return;
    }
    String uri = req.uri();
    String authority = ProxyExchange.authorityOf(req);
    String pathAndQuery = uri;
    int scheme = uri.indexOf("://");
    if (scheme > 0 && scheme < 6) {
      int start = scheme + 3;
      int end = start;
      while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?') {
        end++;
      }
      authority = uri.substring(start, end);
      pathAndQuery = end == uri.length() ? "/" : uri.substring(end);
      if (pathAndQuery.startsWith("?")) {
        pathAndQuery = "/" + pathAndQuery;
      }
    }
    if (!RequestGuard.plainAuthority(authority, ex)) {
      return;
    }
    ex.authority = authority;
    String target = authority;
    Dataplane dp = rt.holder().current();
    ServiceConfig service;
    GatewayServerConfig server = null;
    int port;
    if (gateway == null) {
      service = resolver.resolve(dp.snapshot(), authority).orElse(null);
      port = HostResolver.portOf(authority, 80);
    } else {
      service = dp.snapshot().service(gateway.host()).orElse(null);
      server = service == null ? null
          : serverFor(service, authority, req.isSSL(), serverPort);
      port = server == null ? 0 : server.port();
      if (server == null) {
        service = null;
      }
      HeaderRules.removeControlHeaders(headers);
      String client = req.remoteAddress() == null ? null : req.remoteAddress().hostAddress();
      if (client != null) {
        String xff = headers.get("x-forwarded-for");
        headers.set("x-forwarded-for", xff == null ? client : xff + ", " + client);
        headers.set("x-envoy-external-address", client);
      }
    }
    if (service == null) {
      if (passthrough != null && passthrough.allowsAny(dp) && rt.holder().configured()) {
        passThrough(ex, req, headers, authority, pathAndQuery);
        return;
      }
      if (!rt.holder().configured()) {
        ex.localReply(503, "no config yet for " + HostResolver.hostOf(authority)
            + ": the proxy has not read the mesh's views", ResponseFlag.NC);
      } else {
        ex.localReply(404, "no route to " + HostResolver.hostOf(authority), ResponseFlag.NR);
      }
      return;
    }
    ex.destinationService = service.host();
    int q = pathAndQuery.indexOf('?');
    String path = RequestGuard.normalizePath(q < 0 ? pathAndQuery : pathAndQuery.substring(0, q));
    if (path == null) {
      RequestGuard.refusePath(pathAndQuery, ex);
      return;
    }
    String query = q < 0 ? null : pathAndQuery.substring(q + 1);
    if (server != null && server.httpsRedirect() && !req.isSSL()) {
      httpsRedirect(ex, authority, path, query);
      return;
    }
    VertxRequestFacts facts = new VertxRequestFacts(req, path, query, authority);
    RouteMatch match = router.route(service, facts, port).orElse(null);
    if (match == null) {
      ex.localReply(404, "no route for " + req.method() + " " + path + " on " + service.host(),
          ResponseFlag.NR);
      return;
    }
    RouteConfig route = match.route();
    ex.route = route.name();
    if (route.cors() != null && !route.answersLocally() && cors(ex, req, route.cors())) {
      return;
    }
    FaultConfig fault = route.fault();
    RandomGenerator random = rt.random().get();
    if (fault.delay() != null && roll(random, fault.delayPercent())) {
      ex.flag(ResponseFlag.DI);
      rt.vertx().setTimer(Math.max(1, fault.delay().toMillis()), id -> {
        if (!ex.finished()) {
          afterDelay(ex, dp, match, facts, headers, path, query, target);
        }
      });
      return;
    }
    afterDelay(ex, dp, match, facts, headers, path, query, authority);
  }

  private void afterDelay(ProxyExchange ex, Dataplane dp, RouteMatch match,
                          VertxRequestFacts facts, MultiMap headers, String path, String query,
                          String authority) {
    RouteConfig route = match.route();
    FaultConfig fault = route.fault();
    RandomGenerator random = rt.random().get();
    if (fault.aborts() && roll(random, fault.abortPercent())) {
      if (fault.abortGrpcStatus() >= 0) {
        ex.grpcStatusReply(fault.abortGrpcStatus(), "fault filter abort", ResponseFlag.FI);
      } else {
        ex.localReply(fault.abortStatus(), "fault filter abort", ResponseFlag.FI);
      }
      return;
    }
    String scheme = ex.request().isSSL() ? "https" : "http";
    if (route.redirect() != null) {
      RouteConfig.Redirect r = route.redirect();
      MultiMap h = HttpHeaders.headers().add(HttpHeaders.LOCATION,
          Rewrites.location(r, scheme, authority, path, query));
      ex.localReply(r.status() == 0 ? 301 : r.status(), "", h);
      return;
    }
    if (route.directResponse() != null) {
      ex.localReply(route.directResponse().status(), route.directResponse().body());
      return;
    }
    DestinationConfig dest = dp.nextDestination(route);
    Cluster cluster = dp.cluster(dest);
    ex.destinationService = dest.host();
    HeaderRules.apply(route.requestHeaders(), headers);
    HeaderRules.apply(dest.requestHeaders(), headers);
    headers.set(HeaderRules.SOURCE_WORKLOAD, workload);
    headers.set(HeaderRules.SOURCE_PEER, peer);
    headers.set("x-forwarded-proto", scheme);
    String upstreamAuthority = route.rewrite() != null && route.rewrite().authority() != null
        ? route.rewrite().authority() : authority;
    headers.set(HttpHeaders.HOST, upstreamAuthority);
    String uri = Rewrites.rewritePath(route.rewrite(), match.match(), path, query);
    // Only a consistent hash on a cookie may create one: no list for the others.
    List<String> cookie = cluster.policy().loadBalancer().policy() == LbConfig.Policy.RING_HASH
        ? ProxyExchange.cookieSink() : List.of();
    String hashKey = ProxyExchange.hashKey(cluster.policy().loadBalancer(), facts, cookie);
    ServiceConfig target = dp.snapshot().service(dest.host()).orElse(null);
    int port = dest.port() != null ? dest.port() : HostResolver.portOf(authority, 80);
    ProxyExchange.Plan plan = new ProxyExchange.Plan(cluster, uri, headers, route.retries(),
        route.timeout(), List.of(route.responseHeaders(), dest.responseHeaders()), hashKey,
        cookie.isEmpty() ? null : cookie.get(0), RequestGuard.chunked(ex.request()),
        upstreamProtocol(ex, target, port),
        cluster.policy().forPort(port), directPort(target, port));
    if (WebSocketTunnel.requested(ex.request())) {
      WebSocketTunnel.open(ex, plan, net);
      return;
    }
    boolean mirror = route.mirror() != null && roll(random, route.mirrorPercent());
    long buffer = route.retries().attempts() > 0 || mirror ? rt.limits().retryBufferBytes() : 0;
    ex.forward(plan, buffer, facts);
    if (mirror) {
      MultiMap copy = HttpHeaders.headers().addAll(headers);
      DestinationConfig to = route.mirror();
      ServiceConfig mirrorTarget = dp.snapshot().service(to.host()).orElse(null);
      int mirrorPort = to.port() != null ? to.port() : HostResolver.portOf(authority, 80);
      HttpVersion mirrorProtocol = upstreamProtocol(ex, mirrorTarget, mirrorPort);
      int mirrorDirectPort = directPort(mirrorTarget, mirrorPort);
      ex.body().whole().onSuccess(body -> Mirror.send(rt, dp, to, mirrorProtocol, mirrorPort,
          mirrorDirectPort, ex.request().method(), uri, copy, body, upstreamAuthority));
    }
  }

  /**
   * The route's CORS policy, before faults as Istio orders Envoy's filters (and skipped for a
   * redirect or direct response, as Envoy skips it): a preflight it takes is answered here, 200
   * without reaching the app; an actual request from an allowed origin has its response marked.
   * Whether the request was answered.
   */
  private static boolean cors(ProxyExchange ex, HttpServerRequest req, CorsConfig policy) {
    String origin = req.getHeader(Cors.ORIGIN);
    switch (Cors.decide(policy, req.method(), origin, req.getHeader(Cors.REQUEST_METHOD))) {
      case ANSWER_PREFLIGHT -> {
        ex.localReply(200, "", Cors.preflightResponse(policy, req.headers(), policy.allows(origin)));
        return true;
      }
      case MARK_RESPONSE -> ex.corsOrigin(policy, origin);
      default -> { }
    }
    return false;
  }

  /**
   * A gateway server's {@code tls.httpsRedirect}: 301 to the same host, path and query over
   * https, before any route (Envoy's {@code require_tls: ALL}). The port is dropped, so the
   * client reaches https's default port rather than the plain one (Envoy keeps the Host as sent
   * unless the listener strips ports).
   */
  private static void httpsRedirect(ProxyExchange ex, String authority, String path,
                                    String query) {
    String location = "https://" + HostResolver.hostOf(authority) + path
        + (query == null ? "" : "?" + query);
    ex.localReply(301, "", HttpHeaders.headers().add(HttpHeaders.LOCATION, location));
  }

  /**
   * A request for a host the mesh does not know, under ALLOW_ANY: to that host itself
   * ({@link Passthrough#forward}). Out of {@link #handle}, which a mesh host's request runs.
   */
  private void passThrough(ProxyExchange ex, HttpServerRequest req, MultiMap headers,
                           String authority, String pathAndQuery) {
    int q = pathAndQuery.indexOf('?');
    String path = RequestGuard.normalizePath(q < 0 ? pathAndQuery : pathAndQuery.substring(0, q));
    if (path == null) {
      RequestGuard.refusePath(pathAndQuery, ex);
      return;
    }
    String query = q < 0 ? null : pathAndQuery.substring(q + 1);
    passthrough.forward(ex, authority, headers, query == null ? path : path + "?" + query,
        new VertxRequestFacts(req, path, query, authority), net);
  }

  /**
   * A {@code CONNECT host:port} on the sidecar's outbound listener: under ALLOW_ANY a tunnel to
   * a host outside the mesh ({@link Passthrough#connect}); a mesh host's TCP ports have listeners
   * of their own and its HTTP ports take plain requests, so a CONNECT to one, and any CONNECT
   * otherwise, is 501 as before.
   */
  private void connect(ProxyExchange ex, HttpServerRequest req) {
    String target = req.uri();
    ex.authority = target;
    Dataplane dp = rt.holder().current();
    if (passthrough == null || !passthrough.allowsAny(dp) || !rt.holder().configured()) {
      ex.localReply(501, "CONNECT tunnels are not supported (expected: plain HTTP with the "
          + "destination in Host, or an absolute URI)", ResponseFlag.DPE);
      return;
    }
    ServiceConfig mesh = resolver.resolve(dp.snapshot(), target).orElse(null);
    if (mesh != null) {
      ex.destinationService = mesh.host();
      ex.localReply(501, "CONNECT " + target + ": " + mesh.host() + " is a mesh host (expected:"
          + " plain HTTP with the destination in Host, or its TCP port's local listener)",
          ResponseFlag.DPE);
      return;
    }
    passthrough.connect(ex, target);
  }

  /**
   * The gateway server that accepts {@code authority}: one serving its host on the port it
   * names, else the first serving its host (the gateway may listen on another port than its
   * servers declare); {@code null} when none serves it.
   */
  private static GatewayServerConfig serverFor(ServiceConfig gatewayView, String authority,
                                               boolean tls, int serverPort) {
    String host = HostResolver.hostOf(authority);
    int port = serverPort >= 0 ? serverPort : HostResolver.portOf(authority, -1);
    GatewayServerConfig first = null;
    for (GatewayServerConfig s : gatewayView.gatewayServers()) {
      if (!(tls ? s.https() : s.plainHttp()) || !s.serves(host)
          || (serverPort >= 0 && s.port() != serverPort)) {
        continue;
      }
      if (s.port() == port) {
        return s;
      }
      if (first == null) {
        first = s;
      }
    }
    return first;
  }

  /**
   * Where a ServiceEntry endpoint of {@code target} serves {@code port}: 0 (the endpoint's own
   * port) for the entry's first port, which is the one views give endpoints, or a port the entry
   * does not declare; else that port's target port (as {@code OutboundTcp} reaches it). Istio's
   * egress TLS origination routes port 80 to 443, which must reach the endpoint's 443.
   */
  private static int directPort(ServiceConfig target, int port) {
    if (target == null || target.ports().isEmpty() || target.ports().get(0).number() == port) {
      return 0;
    }
    for (PortConfig p : target.ports()) {
      if (p.number() == port) {
        return p.workloadPort();
      }
    }
    return 0;
  }

  /** The upstream's HTTP version for {@code port} of {@code target} (null: not in the mesh). */
  private static HttpVersion upstreamProtocol(ProxyExchange ex, ServiceConfig target, int port) {
    return ProxyExchange.upstreamProtocol(ex,
        target == null ? PortConfig.Protocol.UNSPECIFIED : target.protocolOf(port));
  }

  private static boolean roll(RandomGenerator random, double percent) {
    return percent >= 100 || (percent > 0 && random.nextDouble() * 100 < percent);
  }
}
