package dev.meshlog.proxy.tcp;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.http.ProxyRuntime;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbound TCP listeners: one local port per TCP (or TLS passthrough) port of every service
 * in the snapshot but the proxy's own, opened and closed as snapshots change. An app reaches
 * {@code db.prod:5432} by connecting to the local port listed for it: by default the same
 * number ({@code 127.0.0.1:5432}), or any free port when that one is taken or chosen otherwise.
 * The mapping is announced as it changes and listed by the admin API ({@code /listeners}).
 */
public final class TcpListeners implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TcpListeners.class);

  /** Prefers the service port's own number as the local port. */
  public static final ToIntFunction<TcpTarget> SAME_PORT = TcpTarget::port;
  /** Prefers any free port. */
  public static final ToIntFunction<TcpTarget> ANY_PORT = t -> 0;

  private final ProxyRuntime rt;
  private final String bindHost;
  private final ToIntFunction<TcpTarget> preferredPort;
  private final Consumer<String> announce;
  private final NetClient net;
  private final Map<TcpTarget, NetServer> servers = new TreeMap<>();
  private boolean closed;

  /**
   * Listeners on {@code bindHost}; call {@link #start()}.
   *
   * @param preferredPort the local port to try first for a target (0 = any); when it cannot be
   *     bound, any free port is used
   * @param announce told one line per listener opened or closed
   */
  public TcpListeners(ProxyRuntime rt, String bindHost, ToIntFunction<TcpTarget> preferredPort,
                      Consumer<String> announce) {
    this.rt = rt;
    this.bindHost = bindHost;
    this.preferredPort = preferredPort;
    this.announce = announce;
    this.net = rt.vertx().createNetClient(new NetClientOptions().setTcpNoDelay(true));
  }

  /** Opens the listeners of the current snapshot and follows later ones; completes once bound. */
  public Future<Void> start() {
    rt.holder().onSwap(dp -> sync(dp.snapshot()));
    return sync(rt.holder().snapshot());
  }

  /** The TCP destinations of {@code snapshot} an app may call: every service's but its own. */
  static Set<TcpTarget> targets(ProxySnapshot snapshot, String ownHost) {
    Set<TcpTarget> out = new TreeSet<>();
    for (ServiceConfig s : snapshot.services().values()) {
      if (s.host().equals(ownHost) || s.gateway()) {
        continue;
      }
      for (PortConfig p : s.opaquePorts()) {
        out.add(new TcpTarget(s.host(), p.number()));
      }
    }
    return out;
  }

  /** The local port of each listening TCP destination. */
  public synchronized Map<TcpTarget, Integer> ports() {
    Map<TcpTarget, Integer> out = new TreeMap<>();
    servers.forEach((t, s) -> {
      if (s.actualPort() > 0) {
        out.put(t, s.actualPort());
      }
    });
    return out;
  }

  /** Opens and closes listeners to match {@code snapshot}. */
  synchronized Future<Void> sync(ProxySnapshot snapshot) {
    if (closed) {
      return Future.succeededFuture();
    }
    Set<TcpTarget> wanted = targets(snapshot, rt.identity().host(rt.domain()));
    List<Future<?>> pending = new ArrayList<>();
    for (TcpTarget t : new ArrayList<>(servers.keySet())) {
      if (!wanted.contains(t)) {
        NetServer s = servers.remove(t);
        int port = s.actualPort();
        pending.add(s.close().onComplete(ar -> announce.accept("meshlog-proxy tcp " + t
            + " closed (was " + bindHost + ":" + port + ")")));
      }
    }
    for (TcpTarget t : wanted) {
      if (!servers.containsKey(t)) {
        pending.add(open(t));
      }
    }
    return Future.join(pending).mapEmpty();
  }

  private Future<NetServer> open(TcpTarget target) {
    int preferred = Math.max(0, preferredPort.applyAsInt(target));
    NetServer server = server(target, preferred);
    servers.put(target, server);
    return server.listen().recover(e -> {
      if (preferred == 0) {
        return Future.failedFuture(e);
      }
      LOG.info("tcp {}: local port {} not available ({}), using any free port", target,
          preferred, e.getMessage());
      NetServer any = server(target, 0);
      synchronized (this) {
        if (servers.get(target) != server) {
          return Future.failedFuture("listener no longer wanted");
        }
        servers.put(target, any);
      }
      return any.listen();
    }).onSuccess(s -> announce.accept("meshlog-proxy tcp " + target + " -> " + bindHost + ":"
        + s.actualPort()))
        .onFailure(e -> LOG.warn("tcp {}: no local listener: {}", target, e.getMessage()));
  }

  private NetServer server(TcpTarget target, int port) {
    return rt.vertx().createNetServer(new NetServerOptions().setHost(bindHost).setPort(port)
            .setTcpNoDelay(true).setIdleTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
            .setIdleTimeout((int) Math.min(Integer.MAX_VALUE,
                rt.limits().idleTimeout().toMillis())))
        .connectHandler(socket -> OutboundTcp.accept(rt, net, socket, target));
  }

  /**
   * What relays the connections a gateway's TCP server accepts: {@code target} is the gateway's
   * view host and the server's port, whose tcp routes pick the destination.
   */
  public static Handler<NetSocket> gatewayConnections(ProxyRuntime rt, NetClient net,
                                                      TcpTarget target) {
    return socket -> OutboundTcp.accept(rt, net, socket, target, "gateway");
  }

  /**
   * What relays the connections a gateway's TLS PASSTHROUGH server accepts: each is read until
   * its ClientHello is whole (at most {@value ClientHello#MAX_BYTES} bytes), then relayed, those
   * bytes first, along the tls route its SNI matches; {@code target} is the gateway's view host
   * and the server's port.
   */
  public static Handler<NetSocket> gatewaySniConnections(ProxyRuntime rt, NetClient net,
                                                         TcpTarget target) {
    long deadlineMillis = rt.limits().headerTimeout().toMillis();
    return socket -> {
      HalfClose.enable(socket);
      Buffer seen = Buffer.buffer();
      boolean[] handedOver = {false};
      // The ClientHello must be whole within the header deadline (--header-timeout, as a
      // request's head must; Envoy's listener filters get 15 s), else the connection is closed:
      // a client trickling a ClientHello of up to 64 KiB holds no connection for long.
      long timer = deadlineMillis <= 0 ? -1 : rt.vertx().setTimer(deadlineMillis, id -> {
        if (!handedOver[0]) {
          handedOver[0] = true;
          LOG.debug("gateway tls server {}: no whole ClientHello from {} within {} ms: closed",
              target, socket.remoteAddress(), deadlineMillis);
          socket.close();
        }
      });
      Handler<Void> gone = v -> {
        if (!handedOver[0]) {
          handedOver[0] = true;
          rt.vertx().cancelTimer(timer);
          OutboundTcp.acceptSni(rt, net, socket, target, null, null);
        }
      };
      socket.endHandler(gone);
      socket.closeHandler(gone);
      socket.handler(data -> {
        if (handedOver[0]) {
          return;
        }
        seen.appendBuffer(data);
        ClientHello.Result hello = ClientHello.parse(seen);
        if (hello.status() == ClientHello.Status.NEED_MORE) {
          return;
        }
        handedOver[0] = true;
        rt.vertx().cancelTimer(timer);
        // The relay replaces these handlers; the bytes after the ClientHello wait until it does.
        socket.pause();
        OutboundTcp.acceptSni(rt, net, socket, target, hello.sni(), seen);
      });
    };
  }

  /**
   * Closes every listener and the client its connections' upstream sockets came from; a stopping
   * sidecar then ends whatever it still relays, in order ({@link TcpConnections#endAll}).
   */
  @Override
  public synchronized void close() {
    closed = true;
    servers.values().forEach(NetServer::close);
    servers.clear();
    net.close();
  }
}
