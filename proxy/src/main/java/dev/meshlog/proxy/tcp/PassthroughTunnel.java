package dev.meshlog.proxy.tcp;

import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;

import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.http.ProxyRuntime;
import dev.meshlog.proxy.http.ResponseFlag;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code CONNECT host:port} from the local app to a host outside the mesh, passed through
 * ({@code ALLOW_ANY}): once the proxy is connected to the host, the request's connection is
 * answered 200 and becomes a byte relay to it, logged and counted as a TCP connection of the
 * {@code PassthroughCluster} (one entry when it closes; {@code istio_tcp_*} as it goes).
 */
public final class PassthroughTunnel {

  private static final Logger LOG = LoggerFactory.getLogger(PassthroughTunnel.class);

  private PassthroughTunnel() {}

  /**
   * Relays between the app's {@code CONNECT} request and {@code upstream}, already connected
   * to {@code endpoint}. On the request's event loop.
   *
   * @param host the host the app named, its destination service
   * @param startMillis when the request arrived (the clock's millis)
   * @param startNanos when the request arrived ({@link System#nanoTime()})
   */
  public static void relay(ProxyRuntime rt, HttpServerRequest req, NetSocket upstream,
                           EndpointConfig endpoint, String host, long startMillis,
                           long startNanos) {
    String target = req.uri();
    HalfClose.enable(upstream);
    upstream.pause();
    req.toNetSocket().onComplete(ns -> {
      if (ns.failed()) {
        upstream.close();
        LOG.debug("CONNECT {} not accepted: {}", target, ns.cause().toString());
        return;
      }
      NetSocket downstream = ns.result();
      AccessLog.TcpBytes live = Relay.opened(rt.accessLog(), entry(rt, startMillis, startNanos,
          target, host, endpoint, EnumSet.noneOf(ResponseFlag.class), null));
      new Relay(downstream, upstream, live, rt.tcpConnections(), r -> Relay.closed(
          rt.accessLog(), entry(rt, startMillis, startNanos, target, host, endpoint,
              EnumSet.noneOf(ResponseFlag.class), r), live));
    });
  }

  private static AccessLogEntry entry(ProxyRuntime rt, long startMillis, long startNanos,
                                      String target, String host, EndpointConfig endpoint,
                                      Set<ResponseFlag> flags, Relay relay) {
    long micros = (System.nanoTime() - startNanos) / 1_000;
    return new AccessLogEntry(Instant.ofEpochMilli(startMillis), "outbound", "-", "-", "TCP", 0,
        flags, relay == null ? 0 : relay.bytesFromDownstream(),
        relay == null ? 0 : relay.bytesFromUpstream(), micros / 1_000, -1, null, target, null,
        endpoint.hostPort(), Cluster.PASSTHROUGH, null, 1, rt.identity().workload(), host, null,
        null, null, endpoint, micros);
  }
}
