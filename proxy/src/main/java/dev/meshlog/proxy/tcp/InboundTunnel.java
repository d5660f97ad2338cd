package dev.meshlog.proxy.tcp;

import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.http.HeaderRules;
import dev.meshlog.proxy.http.ProxyRuntime;
import dev.meshlog.proxy.http.ResponseFlag;
import dev.meshlog.proxy.route.HostResolver;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inbound end of a TCP tunnel: another proxy sent {@code CONNECT host:port}; if the port is
 * one of this service's TCP ports (declared by its view, or on the command line), the proxy
 * connects to the app on that port's target port, answers 200 and relays bytes both ways.
 * Other ports are refused with 403: the inbound listener is not an open relay.
 */
public final class InboundTunnel {

  private static final Logger LOG = LoggerFactory.getLogger(InboundTunnel.class);

  private final ProxyRuntime rt;
  private final String appHost;
  private final List<PortConfig> declared;
  private final NetClient net;

  /**
   * A tunnel end relaying to the app on {@code appHost}.
   *
   * @param declared the app's ports given on the command line, besides its view's
   */
  public InboundTunnel(ProxyRuntime rt, String appHost, List<PortConfig> declared) {
    this.rt = rt;
    this.appHost = appHost;
    this.declared = List.copyOf(declared);
    this.net = rt.vertx().createNetClient();
  }

  /** The app's TCP port serving service port {@code port}, if it is one. */
  Optional<PortConfig> tcpPort(int port) {
    ServiceConfig own = rt.holder().snapshot().service(rt.identity().host(rt.domain()))
        .orElse(null);
    if (own != null) {
      Optional<PortConfig> p = own.port(port).filter(x -> x.protocol().opaque());
      if (p.isPresent()) {
        return p;
      }
    }
    return declared.stream().filter(p -> p.number() == port && p.protocol().opaque())
        .findFirst();
  }

  /** Handles a CONNECT request that arrived on the inbound listener. */
  public void handle(HttpServerRequest req) {
    req.pause();
    long startMillis = rt.clock().millis();
    long startNanos = System.nanoTime();
    String target = req.uri();
    int port = HostResolver.portOf(target, -1);
    String source = req.getHeader(HeaderRules.SOURCE_WORKLOAD);
    String sourceWorkload = source == null || source.isBlank() ? "unknown" : source;
    // the caller's sidecar names itself on the CONNECT, as on its HTTP requests
    String peer = req.getHeader(HeaderRules.SOURCE_PEER);
    Optional<PortConfig> tcp = tcpPort(port);
    if (tcp.isEmpty()) {
      req.response().setStatusCode(403).putHeader("content-type", "text/plain")
          .end("CONNECT " + target + ": not a TCP port of " + rt.identity().host(rt.domain())
              + " (expected one of its TCP ports)");
      log(startMillis, startNanos, target, sourceWorkload, peer, null,
          EnumSet.of(ResponseFlag.NR), null);
      return;
    }
    int appPort = tcp.get().workloadPort();
    String app = appHost + ":" + appPort;
    net.connect(new ConnectOptions().setHost(appHost).setPort(appPort)).onComplete(ar -> {
      if (ar.failed()) {
        req.response().setStatusCode(503).end("app not reachable on " + app);
        log(startMillis, startNanos, target, sourceWorkload, peer, app,
            EnumSet.of(ResponseFlag.UF), null);
        return;
      }
      NetSocket upstream = ar.result();
      HalfClose.enable(upstream);
      upstream.pause();
      req.toNetSocket().onComplete(ns -> {
        if (ns.failed()) {
          upstream.close();
          LOG.debug("CONNECT {} not accepted: {}", target, ns.cause().toString());
          return;
        }
        NetSocket downstream = ns.result();
        AccessLog.TcpBytes live = Relay.opened(rt.accessLog(), entry(startMillis, startNanos,
            target, sourceWorkload, peer, app, EnumSet.noneOf(ResponseFlag.class), null));
        new Relay(downstream, upstream, live, rt.tcpConnections(), r -> Relay.closed(
            rt.accessLog(), entry(startMillis, startNanos, target, sourceWorkload, peer, app,
                EnumSet.noneOf(ResponseFlag.class), r), live));
      });
    });
  }

  /** A connection that never opened: one entry, with its flags. */
  private void log(long startMillis, long startNanos, String target, String sourceWorkload,
                   String peer, String app, Set<ResponseFlag> flags, Relay relay) {
    Relay.closed(rt.accessLog(), entry(startMillis, startNanos, target, sourceWorkload, peer,
        app, flags, relay), AccessLog.TcpBytes.NONE);
  }

  /** The connection's entry; {@code peer} the caller's {@code x-meshlog-peer}, or null. */
  private AccessLogEntry entry(long startMillis, long startNanos, String target,
                               String sourceWorkload, String peer, String app,
                               Set<ResponseFlag> flags, Relay relay) {
    long micros = (System.nanoTime() - startNanos) / 1_000;
    return new AccessLogEntry(Instant.ofEpochMilli(startMillis), "inbound", "-",
        "-", "TCP", 0, flags, relay == null ? 0 : relay.bytesFromDownstream(),
        relay == null ? 0 : relay.bytesFromUpstream(), micros / 1_000, -1, null, target, null,
        app, "inbound|" + HostResolver.portOf(target, 0) + "|" + rt.identity().host(rt.domain()),
        null, 1, sourceWorkload, rt.identity().host(rt.domain()), null, null, peer, null,
        micros);
  }
}
