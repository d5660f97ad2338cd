package dev.meshlog.proxy.http;

import java.time.Duration;
import java.util.List;

import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.config.ClusterKey;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.RetryConfig;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.route.HostResolver;
import dev.meshlog.proxy.tcp.InboundTunnel;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

/**
 * The inbound listener's request handler: what callers' proxies send to this instance is
 * forwarded, streamed, to the local app on {@code 127.0.0.1:appPort}; a {@code CONNECT} opens a
 * TCP tunnel to one of the app's TCP ports ({@link InboundTunnel}).
 */
public final class InboundHandler implements Handler<HttpServerRequest> {

  private final ProxyRuntime rt;
  private final Cluster app;
  private final InboundTunnel tunnel;
  private final String host;
  private final int appPort;
  /** Carries WebSocket upgrades to the app ({@link WebSocketTunnel}). */
  private final NetClient net;

  /** A handler forwarding to the app listening on {@code appHost:appPort}. */
  public InboundHandler(ProxyRuntime rt, String appHost, int appPort) {
    this(rt, appHost, appPort, List.of());
  }

  /**
   * A handler forwarding HTTP to the app on {@code appHost:appPort}, and TCP tunnels to the
   * app's TCP ports: those its view declares and {@code tcpPorts}.
   */
  public InboundHandler(ProxyRuntime rt, String appHost, int appPort, List<PortConfig> tcpPorts) {
    this.rt = rt;
    this.tunnel = new InboundTunnel(rt, appHost, tcpPorts);
    this.host = rt.identity().host(rt.domain());
    this.appPort = appPort;
    this.net = rt.vertx().createNetClient(new NetClientOptions().setTcpNoDelay(true)
        .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
        .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, rt.limits().idleTimeout().toMillis())));
    this.app = Cluster.fixed(new ClusterKey("inbound|" + appPort + "|" + host, null),
        EndpointConfig.of(appHost, appPort, rt.identity().labels(), rt.identity().zone(),
            rt.identity().cluster()), rt.clock());
  }

  /**
   * The protocol the app's port declares in this instance's own view: the service port the
   * caller addressed ({@code authority}'s), else the one served on the app's port; UNSPECIFIED
   * without a view or a declaration.
   */
  private PortConfig.Protocol appProtocol(String authority) {
    ServiceConfig own = rt.holder().snapshot().service(host).orElse(null);
    if (own == null) {
      return PortConfig.Protocol.UNSPECIFIED;
    }
    int addressed = authority == null ? -1 : HostResolver.portOf(authority, -1);
    PortConfig.Protocol fallback = PortConfig.Protocol.UNSPECIFIED;
    for (PortConfig p : own.ports()) {
      if (p.number() == addressed) {
        return p.protocol();
      }
      if (p.workloadPort() == appPort && fallback == PortConfig.Protocol.UNSPECIFIED) {
        fallback = p.protocol();
      }
    }
    return fallback;
  }

  @Override
  public void handle(HttpServerRequest req) {
    if (req.method() == HttpMethod.CONNECT) {
      tunnel.handle(req);
      return;
    }
    req.pause();
    ProxyExchange ex = new ProxyExchange(rt, req, "inbound");
    ex.route = "inbound";
    ex.destinationService = host;
    MultiMap headers = ProxyExchange.endToEndHeaders(req);
    ex.requestId = HeaderRules.ensureRequestId(headers);
    ex.traceparent = HeaderRules.ensureTraceparent(headers);
    ex.sourcePeer = req.getHeader(HeaderRules.SOURCE_PEER);
    String source = req.getHeader(HeaderRules.SOURCE_WORKLOAD);
    ex.sourceWorkload = source == null || source.isBlank() ? "unknown" : source;
    // The mesh's own headers stop here, as Istio's peer metadata does: the app gets none.
    headers.remove(HeaderRules.SOURCE_PEER);
    headers.remove(HeaderRules.SOURCE_WORKLOAD);
    ex.authority = ProxyExchange.authorityOf(req);
    if (!RequestGuard.admit(req, ex, rt.limits())) {
      return;
    }
    String uri = req.uri();
    int scheme = uri.indexOf("://");
    if (scheme > 0 && scheme < 6) {
      int slash = uri.indexOf('/', scheme + 3);
      uri = slash < 0 ? "/" : uri.substring(slash);
    }
    String target = uri;
    uri = RequestGuard.normalizeTarget(uri);
    if (uri == null) {
      RequestGuard.refusePath(target, ex);
      return;
    }
    if (ex.http2() && ex.authority != null) {
      headers.set(HttpHeaders.HOST, ex.authority);
    }
    // The app hears its port's declared protocol, else the one the caller spoke.
    ProxyExchange.Plan plan = new ProxyExchange.Plan(app, uri, headers, RetryConfig.NONE,
        Duration.ZERO, List.of(), null, null, RequestGuard.chunked(req),
        ProxyExchange.upstreamProtocol(ex, appProtocol(ex.authority)));
    if (WebSocketTunnel.requested(req)) {
      WebSocketTunnel.open(ex, plan, net);
      return;
    }
    ex.forward(plan, 0, null);
  }
}
