package dev.meshlog.proxy;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;

import dev.meshlog.proxy.cluster.LoopGuard;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.http.GatewayBinding;
import dev.meshlog.proxy.http.Listener;
import dev.meshlog.proxy.http.OutboundHandler;
import dev.meshlog.proxy.http.ProxyRuntime;

import io.vertx.core.Future;

/**
 * One running ingress gateway: a listener that takes requests from outside the mesh, matches
 * their Host against the gateway view's servers and routes, and forwards them to mesh
 * destinations as a sidecar's outbound listener would; plus a listener per HTTPS server
 * (terminating TLS), per TCP server (relaying bytes along the view's tcp routes) and per TLS
 * PASSTHROUGH server (relaying TLS untouched along the tls route its SNI matches).
 */
public final class Gateway {

  private final ProxyRuntime runtime;
  private final GatewayBinding binding;
  private final Listener listener;
  private final GatewayServers servers;

  private Gateway(ProxyRuntime runtime, GatewayBinding binding, Listener listener,
                  GatewayServers servers) {
    this.runtime = runtime;
    this.binding = binding;
    this.listener = listener;
    this.servers = servers;
  }

  /**
   * Starts the gateway's listener on {@code host:port} (0 = any free port); its HTTPS, TCP and TLS
   * servers listen on any free port each.
   */
  public static Future<Gateway> start(ProxyRuntime runtime, GatewayBinding binding, String host,
                                      int port) {
    return start(runtime, binding, host, port, serverPort -> 0, line -> { });
  }

  /**
   * Starts the gateway's plain HTTP listener on {@code host:port} (0 = any free port), and a
   * listener for each HTTPS, TCP and TLS server of its view, following config changes.
   *
   * @param serverPorts the local port to try first for a server port (0 = any free port); when
   *     it cannot be bound, any free port is used
   * @param announce told one line per server listener opened or closed
   */
  public static Future<Gateway> start(ProxyRuntime runtime, GatewayBinding binding, String host,
                                      int port, IntUnaryOperator serverPorts,
                                      Consumer<String> announce) {
    GatewayServers servers = new GatewayServers(runtime, binding, host, serverPorts, announce);
    return Listener.start(runtime, "gateway", host, port, new OutboundHandler(runtime, binding))
        .compose(l -> {
          // An endpoint that is this listener would be a request loop (see LoopGuard).
          runtime.holder().guardLoops(LoopGuard.of(List.of(
              new LoopGuard.Listener("gateway", host, l.port()))));
          return servers.start().map(v -> new Gateway(runtime, binding, l, servers));
        });
  }

  /** The port it listens on. */
  public int port() {
    return listener.port();
  }

  /** The local port of each HTTPS, TCP or TLS server port of its view that is listening. */
  public Map<Integer, Integer> serverPorts() {
    return servers.ports();
  }

  /** Which Gateway it runs as. */
  public GatewayBinding binding() {
    return binding;
  }

  /** The config it runs. */
  public SnapshotHolder holder() {
    return runtime.holder();
  }

  /** What its listener uses. */
  public ProxyRuntime runtime() {
    return runtime;
  }

  /**
   * Stops listening, then closes the TCP connections its TCP servers still relay (each reported
   * closed, see {@link dev.meshlog.proxy.tcp.TcpConnections#endAll}).
   */
  public Future<Void> close() {
    servers.close();
    return listener.close()
        .eventually(() -> runtime.tcpConnections().endAll());
  }
}
