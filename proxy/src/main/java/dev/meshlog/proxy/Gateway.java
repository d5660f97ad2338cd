package dev.meshlog.proxy;

import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.http.GatewayBinding;
import dev.meshlog.proxy.http.Listener;
import dev.meshlog.proxy.http.OutboundHandler;
import dev.meshlog.proxy.http.ProxyRuntime;
import io.vertx.core.Future;

/**
 * One running ingress gateway: a listener that takes requests from outside the mesh, matches
 * their Host against the gateway view's servers and routes, and forwards them to mesh
 * destinations as a sidecar's outbound listener would.
 */
public final class Gateway {

  private final ProxyRuntime runtime;
  private final GatewayBinding binding;
  private final Listener listener;

  private Gateway(ProxyRuntime runtime, GatewayBinding binding, Listener listener) {
    this.runtime = runtime;
    this.binding = binding;
    this.listener = listener;
  }

  /** Starts the gateway's listener on {@code host:port} (0 = any free port). */
  public static Future<Gateway> start(ProxyRuntime runtime, GatewayBinding binding, String host,
                                      int port) {
    return Listener.start(runtime, "gateway", host, port, new OutboundHandler(runtime, binding))
        .map(l -> new Gateway(runtime, binding, l));
  }

  /** The port it listens on. */
  public int port() {
    return listener.port();
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

  /** Stops listening. */
  public Future<Void> close() {
    return listener.close();
  }
}
