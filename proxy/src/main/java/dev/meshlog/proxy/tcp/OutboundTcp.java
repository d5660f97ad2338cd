package dev.meshlog.proxy.tcp;

import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;

import javax.net.ssl.SSLException;

import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.cluster.Dataplane;
import dev.meshlog.proxy.config.DestinationConfig;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.LbConfig;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.config.TcpRouteConfig;
import dev.meshlog.proxy.config.TrafficPolicyConfig;
import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.http.HeaderRules;
import dev.meshlog.proxy.http.ProxyRuntime;
import dev.meshlog.proxy.http.ResponseFlag;
import dev.meshlog.proxy.lb.PickContext;
import dev.meshlog.proxy.lb.Upstream;
import dev.meshlog.proxy.resilience.AttemptOutcome;
import dev.meshlog.proxy.resilience.CircuitBreaker;
import dev.meshlog.proxy.telemetry.PeerMetadata;
import dev.meshlog.proxy.upstream.UpstreamTls;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection the local app opened to a TCP destination, relayed to an endpoint: the tcp
 * route's weighted split picks the destination, its cluster's balancer picks the endpoint
 * (healthy, not ejected, closest locality), {@code maxConnections} bounds the connections, and
 * a failed connect is tried again at another endpoint (up to {@value #MAX_CONNECT_ATTEMPTS}
 * tries). A mesh endpoint is reached through its sidecar's inbound port with an HTTP/1.1
 * {@code CONNECT host:port} tunnel; a ServiceEntry endpoint directly. Under a DestinationRule
 * tls of SIMPLE or MUTUAL (the port's, else the subset's or host's) the connection to the
 * endpoint is TLS, inside the tunnel for a mesh endpoint; a failed handshake is a failed
 * connect, its reason in the access log. On a gateway's TLS PASSTHROUGH server the route is
 * the tls route matching the ClientHello's SNI instead, which is then the access log's
 * authority (Envoy's {@code REQUESTED_SERVER_NAME}).
 */
final class OutboundTcp {

  /** Tries to connect before giving up on a connection (flag UF). */
  static final int MAX_CONNECT_ATTEMPTS = 3;
  /** Prefix of the instance ids config-service gives ServiceEntry endpoints (no sidecar). */
  static final String SERVICE_ENTRY_PREFIX = "ServiceEntry/";

  private static final Logger LOG = LoggerFactory.getLogger(OutboundTcp.class);

  private final ProxyRuntime rt;
  private final NetClient net;
  private final NetSocket downstream;
  private final TcpTarget target;
  private final String direction;
  private final Context context;
  private final long startMillis;
  /** This proxy's {@code x-meshlog-peer}, which names the caller at the tunnel's other end. */
  private final String peer;
  private final long startNanos = System.nanoTime();
  private final Set<ResponseFlag> flags = EnumSet.noneOf(ResponseFlag.class);
  private Cluster cluster;
  /** The cluster's policy for the destination port (its port-level tls, if any). */
  private TrafficPolicyConfig policy;
  private ServiceConfig destination;
  private int destinationPort;
  /** Why the last connect's TLS handshake failed (Envoy's transport failure reason). */
  private String transportFailure;
  private Upstream upstream;
  private int attempts;
  private boolean holdsSlot;
  private boolean downstreamClosed;
  private boolean finished;
  private CircuitBreaker.Waiter waiter;
  private Relay relay;
  /** Where the open connection's bytes are counted (metrics, telemetry); NONE until it opens. */
  private AccessLog.TcpBytes live = AccessLog.TcpBytes.NONE;
  /** Whether a tls route picks the destination by the ClientHello's SNI (a TLS server's). */
  private boolean bySni;
  /** The ClientHello's server name, or {@code null} (none, or not TLS). */
  private String sni;
  /** What the client sent while its ClientHello was read, relayed first; null = it went away. */
  private Buffer hello;

  private OutboundTcp(ProxyRuntime rt, NetClient net, NetSocket downstream, TcpTarget target,
                      String direction) {
    this.direction = direction;
    this.rt = rt;
    this.net = net;
    this.downstream = downstream;
    this.target = target;
    this.context = Vertx.currentContext();
    this.startMillis = rt.clock().millis();
    this.peer = PeerMetadata.encode(rt.identity());
  }

  /** Relays a connection the app opened to {@code target}; runs on its event loop. */
  static void accept(ProxyRuntime rt, NetClient net, NetSocket downstream, TcpTarget target) {
    accept(rt, net, downstream, target, "outbound");
  }

  /**
   * Relays a connection to {@code target}; {@code direction} names it in the access log
   * ({@code outbound}, or {@code gateway} for a gateway's TCP server, whose target is the
   * gateway's view and the server's port).
   */
  static void accept(ProxyRuntime rt, NetClient net, NetSocket downstream, TcpTarget target,
                     String direction) {
    // Before the first read: a client that writes and shuts down its output at once must not
    // be taken for one that went away.
    HalfClose.enable(downstream);
    downstream.pause();
    new OutboundTcp(rt, net, downstream, target, direction).start();
  }

  /**
   * Relays a connection to a gateway's TLS PASSTHROUGH server on {@code target} (the gateway's
   * view and the server's port) along the tls route its ClientHello's {@code sni} matches;
   * {@code hello} is what the client sent so far (the ClientHello), relayed first, or
   * {@code null} when the client went away before it was whole. No SNI, or one no route takes,
   * closes the connection (flag NR), as Envoy does when no filter chain matches.
   */
  static void acceptSni(ProxyRuntime rt, NetClient net, NetSocket downstream, TcpTarget target,
                        String sni, Buffer hello) {
    HalfClose.enable(downstream);
    downstream.pause();
    OutboundTcp c = new OutboundTcp(rt, net, downstream, target, "gateway");
    c.bySni = true;
    c.sni = sni;
    c.hello = hello;
    c.start();
  }

  private void start() {
    downstream.closeHandler(v -> {
      downstreamClosed = true;
      if (relay == null) {
        flags.add(ResponseFlag.DC);
        abandon();
      }
    });
    Dataplane dp = rt.holder().current();
    ServiceConfig service = dp.snapshot().service(target.host()).orElse(null);
    if (service == null) {
      fail(ResponseFlag.NR);
      return;
    }
    if (bySni && hello == null) {
      fail(ResponseFlag.DC);
      return;
    }
    TcpRouteConfig route = !bySni ? service.tcpRoute(target.port())
        : sni == null ? null : service.tlsRoute(target.port(), sni);
    if (route == null) {
      LOG.debug("gateway tls server {}: no tls route for SNI {}", target, sni);
      fail(ResponseFlag.NR);
      return;
    }
    DestinationConfig dest = dp.nextDestination(route);
    cluster = dp.cluster(dest.cluster());
    destination = dp.snapshot().service(dest.host()).orElse(service);
    destinationPort = dest.port() != null ? dest.port()
        : service.gateway() ? soleTcpPort(destination, target.port()) : target.port();
    if (cluster == null) {
      fail(ResponseFlag.NR);
      return;
    }
    policy = cluster.policy().forPort(destinationPort);
    CircuitBreaker breaker = cluster.breaker();
    waiter = () -> context.runOnContext(v -> {
      if (finished) {
        breaker.release();
        return;
      }
      holdsSlot = true;
      attempt();
    });
    switch (breaker.acquire(waiter)) {
      case ADMITTED -> {
        holdsSlot = true;
        attempt();
      }
      case QUEUED -> { }
      case OVERFLOW -> fail(ResponseFlag.UO);
    }
  }

  private void attempt() {
    if (finished) {
      return;
    }
    String hashKey = null;
    LbConfig.HashKey key = cluster.policy().loadBalancer().hashKey();
    if (key != null && key.sourceIp() && downstream.remoteAddress() != null) {
      hashKey = downstream.remoteAddress().hostAddress();
    }
    Upstream u = cluster.pick(new PickContext(hashKey, rt.random().get())).orElse(null);
    if (u == null) {
      fail(ResponseFlag.UH);
      return;
    }
    attempts++;
    upstream = u;
    u.stats().begin();
    connect(u.endpoint()).onComplete(ar -> {
      if (ar.failed()) {
        String tlsReason = UpstreamTls.failureReason(ar.cause());
        if (tlsReason != null) {
          transportFailure = tlsReason;
        }
        u.stats().end(true);
        cluster.record(u, AttemptOutcome.connectFailure());
        LOG.debug("tcp connect to {} for {} failed: {}", u, target, ar.cause().toString());
        if (attempts < MAX_CONNECT_ATTEMPTS && !finished) {
          attempt();
        } else {
          fail(ResponseFlag.UF);
        }
        return;
      }
      NetSocket up = ar.result();
      if (finished) {
        up.close();
        u.stats().end(false);
        return;
      }
      cluster.record(u, AttemptOutcome.response(200));
      live = Relay.opened(rt.accessLog(), entry());
      relay = new Relay(downstream, up, live, rt.tcpConnections(), hello, r -> {
        u.stats().end(false);
        finish();
      });
      if (downstreamClosed) {
        up.close();
      }
    });
  }

  /**
   * The port a gateway's tcp route without a destination port reaches: the destination's only
   * opaque port when it has exactly one, else {@code fallback} (the server's port).
   */
  private static int soleTcpPort(ServiceConfig destination, int fallback) {
    var opaque = destination.opaquePorts();
    return opaque.size() == 1 ? opaque.get(0).number() : fallback;
  }

  private Future<NetSocket> connect(EndpointConfig e) {
    int timeout = (int) Math.min(Integer.MAX_VALUE,
        policy.limits().connectTimeout().toMillis());
    // DestinationRule tls (SIMPLE, MUTUAL) is originated to the endpoint the rule's host names,
    // as Envoy's tcp_proxy does with an upstream TLS transport socket: the app's bytes go in it.
    UpstreamTls tls = policy.originatesTls() ? UpstreamTls.of(policy.tls()) : null;
    String sni = tls == null ? null : policy.tls().sniFor(cluster.key().host());
    if (e.instanceId().startsWith(SERVICE_ENTRY_PREFIX)) {
      ConnectOptions direct = new ConnectOptions().setHost(e.address()).setPort(directPort(e))
          .setTimeout(timeout);
      if (tls != null) {
        direct.setSsl(true).setSslOptions(tls.tcpOptions()).setSniServerName(sni);
      }
      return net.connect(direct);
    }
    // Through the destination's sidecar, which alone knows where its app listens. A raw
    // socket, not the HTTP client, so that the tunnel can be half-closed.
    return ConnectTunnel.open(net, e.address(), e.port(), timeout,
            destination.host() + ":" + destinationPort,
            HeaderRules.SOURCE_WORKLOAD + ": " + rt.identity().workload(),
            HeaderRules.SOURCE_PEER + ": " + peer)
        .compose(opened -> {
          NetSocket socket = opened.socket();
          if (tls == null) {
            if (opened.early().length() > 0) {
              // What the destination said at once goes first; the relay then takes over.
              downstream.write(opened.early());
            }
            return Future.succeededFuture(socket);
          }
          if (opened.early().length() > 0) {
            // A TLS server waits for the client's hello: these bytes are not TLS.
            socket.close();
            return Future.failedFuture(new SSLException("the destination sent "
                + opened.early().length() + " bytes before the TLS handshake"));
          }
          // TLS inside the tunnel, to the app behind the destination's sidecar.
          return socket.upgradeToSsl(tls.tcpOptions(), sni).transform(ar -> {
            if (ar.failed()) {
              socket.close();
              return Future.failedFuture(ar.cause());
            }
            return Future.succeededFuture(socket);
          });
        });
  }

  /**
   * The port a ServiceEntry endpoint serves {@code destinationPort} on: the endpoint's own port
   * for the service's first port (how views describe endpoints), else the port's target port.
   */
  private int directPort(EndpointConfig e) {
    if (destination.ports().isEmpty() || destination.ports().get(0).number() == destinationPort) {
      return e.port();
    }
    return destination.port(destinationPort).map(PortConfig::workloadPort)
        .orElse(destinationPort);
  }

  private void fail(ResponseFlag flag) {
    flags.add(flag);
    downstream.close();
    finish();
  }

  private void abandon() {
    if (!holdsSlot && waiter != null && cluster != null) {
      cluster.breaker().cancel(waiter);
    }
    finish();
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    if (holdsSlot) {
      holdsSlot = false;
      cluster.breaker().release();
    }
    Relay.closed(rt.accessLog(), entry(), live);
  }

  /**
   * The connection's access log entry as it stands; with the endpoint of the last connect (it
   * names the destination's version, zone and cluster in metrics and telemetry), as HTTP's.
   */
  private AccessLogEntry entry() {
    long micros = (System.nanoTime() - startNanos) / 1_000;
    EndpointConfig endpoint = upstream == null ? null : upstream.endpoint();
    return new AccessLogEntry(Instant.ofEpochMilli(startMillis), direction, "-",
        "-", "TCP", 0, flags, relay == null ? 0 : relay.bytesFromDownstream(),
        relay == null ? 0 : relay.bytesFromUpstream(), micros / 1_000, -1, null,
        sni != null ? sni : target.toString(), null,
        upstream == null ? null : upstream.endpoint().hostPort(),
        cluster == null ? null : cluster.key().toString(), null, attempts,
        rt.identity().workload(), destination == null ? target.host() : destination.host(),
        null, null, null, endpoint, micros, transportFailure);
  }

}
