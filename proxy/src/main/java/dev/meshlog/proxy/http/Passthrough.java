package dev.meshlog.proxy.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.cluster.Dataplane;
import dev.meshlog.proxy.cluster.LoopGuard;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.OutboundTrafficPolicy;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.RetryConfig;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.config.TrafficPolicyConfig;
import dev.meshlog.proxy.route.HostResolver;
import dev.meshlog.proxy.tcp.PassthroughTunnel;
import io.netty.util.NetUtil;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

/**
 * A sidecar's outbound requests for hosts the mesh does not know, under Istio's
 * {@code outboundTrafficPolicy.mode: ALLOW_ANY}: the host (an IP literal, or a name resolved by
 * Vert.x's resolver, asynchronously) is reached directly through the {@code PassthroughCluster}
 * — HTTP with Istio's {@code allow_any} route (no timeout, no retries) and none of the mesh's
 * own headers, a {@code CONNECT host:port} as a TCP tunnel. The mode in force is the one the
 * proxy's own view carries (from its Sidecar resource), else the proxy's default
 * ({@code --outbound-traffic-policy}, REGISTRY_ONLY unless set). Never to the proxy's own
 * listeners. Consulted only for a host that is not in the snapshot: a mesh host's request
 * never reaches it.
 */
public final class Passthrough {

  /** The route name a passed-through request is logged with (Istio's). */
  public static final String ROUTE = "allow_any";

  private final ProxyRuntime rt;
  private final OutboundTrafficPolicy fallback;
  private final String ownHost;
  private final NetClient net;
  private volatile LoopGuard own = LoopGuard.NONE;

  /**
   * Passthrough for the sidecar running on {@code rt}.
   *
   * @param fallback the mode when the proxy's own view sets none (UNSPECIFIED = REGISTRY_ONLY)
   */
  public Passthrough(ProxyRuntime rt, OutboundTrafficPolicy fallback) {
    this.rt = Objects.requireNonNull(rt, "rt");
    this.fallback = fallback == null ? OutboundTrafficPolicy.REGISTRY_ONLY
        : fallback.or(OutboundTrafficPolicy.REGISTRY_ONLY);
    this.ownHost = rt.identity().host(rt.domain());
    long connect = TrafficPolicyConfig.DEFAULT.limits().connectTimeout().toMillis();
    this.net = rt.vertx().createNetClient(new NetClientOptions().setTcpNoDelay(true)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, connect)));
  }

  /**
   * Refuses, from now on, a destination that is one of {@code listeners} (the proxy's own
   * outbound and inbound listeners; set once they are bound).
   */
  public void guard(LoopGuard listeners) {
    this.own = Objects.requireNonNull(listeners, "listeners");
  }

  /** The mode in force under {@code dp}: the proxy's own view's, else the proxy's default. */
  public OutboundTrafficPolicy mode(Dataplane dp) {
    ServiceConfig self = dp.snapshot().services().get(ownHost);
    return (self == null ? OutboundTrafficPolicy.UNSPECIFIED : self.outboundTrafficPolicy())
        .or(fallback);
  }

  /** Whether a host outside the mesh is passed through under {@code dp}. */
  boolean allowsAny(Dataplane dp) {
    return mode(dp) == OutboundTrafficPolicy.ALLOW_ANY;
  }

  /**
   * A host and port to pass through to, from an authority ({@code host[:port]}), or
   * {@code null} when it is not one: a DNS name or an IP literal (IPv6 in brackets), a port
   * 1..65535.
   */
  record Target(String host, String address, int port) {

    static Target parse(String authority, int defaultPort) {
      if (authority == null) {
        return null;
      }
      String host = HostResolver.hostOf(authority);
      String a = authority.trim();
      int bracket = a.lastIndexOf(']');
      int colon = a.lastIndexOf(':');
      int port = defaultPort;
      if (colon > bracket && (bracket >= 0 || a.indexOf(':') == colon)) {
        String p = a.substring(colon + 1);
        if (p.isEmpty() || p.length() > 5 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
          return null;
        }
        port = Integer.parseInt(p);
      }
      if (port < 1 || port > 65_535 || host.isEmpty()) {
        return null;
      }
      if (host.startsWith("[") && host.endsWith("]")) {
        String v6 = host.substring(1, host.length() - 1);
        return NetUtil.isValidIpV6Address(v6) ? new Target(host, v6, port) : null;
      }
      if (NetUtil.isValidIpV4Address(host)) {
        return new Target(host, host, port);
      }
      return dnsName(host) ? new Target(host, null, port) : null;
    }

    /** Letters, digits, {@code -} and {@code _} in dot-separated labels of 1..63, 253 in all. */
    private static boolean dnsName(String host) {
      if (host.length() > 253) {
        return false;
      }
      int label = 0;
      for (int i = 0; i < host.length(); i++) {
        char c = host.charAt(i);
        if (c == '.') {
          if (label == 0) {
            return false;
          }
          label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
          if (++label > 63) {
            return false;
          }
        } else {
          return false;
        }
      }
      return label > 0;
    }

    String hostPort() {
      return host + ":" + port;
    }
  }

  /**
   * The address {@code target} names: its IP literal as it is, a name through Vert.x's resolver
   * (its hosts file, then DNS; never blocking the event loop); completed on the caller's
   * context.
   */
  private Future<InetAddress> resolve(Target target) {
    if (target.address() != null) {
      try {
        return Future.succeededFuture(InetAddress.getByAddress(target.host(),
            NetUtil.createByteArrayFromIpAddressString(target.address())));
      } catch (UnknownHostException e) {
        return Future.failedFuture(e);
      }
    }
    Context context = Vertx.currentContext();
    Future<InetAddress> resolved = ((VertxInternal) rt.vertx()).nameResolver()
        .resolve(target.host());
    if (context == null) {
      return resolved;
    }
    return Future.future(p -> resolved.onComplete(ar -> {
      if (Vertx.currentContext() == context) {
        p.handle(ar);
      } else {
        context.runOnContext(v -> p.handle(ar));
      }
    }));
  }

  /**
   * The endpoint {@code target} resolved to, or {@code null} when {@code ex} has been answered:
   * 503 {@code DF} for a name that did not resolve, 503 {@code UH} for one of the proxy's own
   * listeners (a request loop, as {@link LoopGuard} leaves such endpoints out).
   */
  private EndpointConfig endpoint(ProxyExchange ex, Target target, InetAddress resolved,
                                  Throwable failure) {
    if (failure != null) {
      ex.localReply(503, "DNS resolution failure: " + target.host() + " ("
          + failure.getMessage() + ")", ResponseFlag.DF);
      return null;
    }
    EndpointConfig endpoint = new EndpointConfig(Cluster.PASSTHROUGH + "/" + target.hostPort(),
        NetUtil.toAddressString(resolved), target.port(), Map.of(), "", "", "", true, 1);
    LoopGuard.Listener loop = own.loopsInto(endpoint).orElse(null);
    if (loop != null) {
      ex.localReply(503, "no healthy upstream: " + target.hostPort() + " (" + endpoint.hostPort()
          + ") is this proxy's own " + loop + " listener (a request loop)", ResponseFlag.UH);
      return null;
    }
    return endpoint;
  }

  /**
   * Forwards {@code ex}, a request for {@code authority} that no mesh host answers, to that host
   * itself; answers it locally when the authority is not a host and port, does not resolve, or
   * is the proxy.
   *
   * @param headers the request's end-to-end headers, forwarded without the mesh's own
   * @param uri the path (normalized) and query sent upstream
   * @param ws the client that carries WebSocket upgrades
   */
  void forward(ProxyExchange ex, String authority, MultiMap headers, String uri,
               VertxRequestFacts facts, NetClient ws) {
    Target target = Target.parse(authority, 80);
    if (target == null) {
      ex.route = ROUTE;
      ex.localReply(400, "authority " + authority + " is not a host to pass through to "
          + "(expected: a DNS name or IP address, and a port 1..65535)", ResponseFlag.DPE);
      return;
    }
    reach(ex, target, endpoint -> {
      HeaderRules.removeMeshHeaders(headers);
      headers.set(HttpHeaders.HOST, authority);
      headers.set("x-forwarded-proto", "http");
      ProxyExchange.Plan plan = new ProxyExchange.Plan(Cluster.passthrough(endpoint, rt.clock()),
          uri, headers, RetryConfig.NONE, Duration.ZERO, List.of(), null, null,
          RequestGuard.chunked(ex.request()),
          ProxyExchange.upstreamProtocol(ex, PortConfig.Protocol.UNSPECIFIED));
      if (WebSocketTunnel.requested(ex.request())) {
        WebSocketTunnel.open(ex, plan, ws);
        return;
      }
      ex.forward(plan, 0, facts);
    });
  }

  /**
   * Opens a TCP tunnel for {@code ex}, a {@code CONNECT} to {@code target} outside the mesh:
   * 200 once connected, then bytes both ways ({@link PassthroughTunnel}); 503 {@code UF} when
   * the host refuses or does not answer within the connect timeout.
   */
  void connect(ProxyExchange ex, String authority) {
    Target target = Target.parse(authority, -1);
    if (target == null) {
      ex.route = ROUTE;
      ex.localReply(400, "CONNECT " + authority + ": not a host and port to tunnel to "
          + "(expected: host:port)", ResponseFlag.DPE);
      return;
    }
    reach(ex, target, endpoint -> {
      net.connect(new ConnectOptions().setHost(endpoint.address()).setPort(endpoint.port()))
          .onComplete(c -> {
            if (c.failed()) {
              ex.resetReply(503, "connection failure, transport failure reason: "
                  + c.cause().getMessage(), ResponseFlag.UF);
              return;
            }
            if (ex.finished()) {
              c.result().close();
              return;
            }
            ex.handedOver();
            PassthroughTunnel.relay(rt, ex.request(), c.result(), endpoint, target.host(),
                ex.startMillis(), ex.startNanos());
          });
    });
  }

  /**
   * Names {@code ex}'s route and destination for {@code target}, resolves it and hands the
   * endpoint to {@code then} on the request's context — unless the exchange has ended meanwhile,
   * or the name did not resolve or is this proxy's own listener (answered by {@link #endpoint}).
   */
  private void reach(ProxyExchange ex, Target target, Consumer<EndpointConfig> then) {
    ex.route = ROUTE;
    ex.destinationService = target.host();
    resolve(target).onComplete(ar -> {
      if (ex.finished()) {
        return;
      }
      EndpointConfig endpoint = endpoint(ex, target, ar.result(), ar.cause());
      if (endpoint != null) {
        then.accept(endpoint);
      }
    });
  }
}
