package dev.meshlog.proxy;

import java.util.List;
import java.util.Objects;

import dev.meshlog.proxy.cluster.LoopGuard;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.OutboundTrafficPolicy;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.http.InboundHandler;
import dev.meshlog.proxy.http.Listener;
import dev.meshlog.proxy.http.ListenerLimits;
import dev.meshlog.proxy.http.OutboundHandler;
import dev.meshlog.proxy.http.Passthrough;
import dev.meshlog.proxy.http.ProxyRuntime;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;

/**
 * One running sidecar: the outbound listener the local app calls, the inbound listener other
 * proxies call, and the upstream client they share, all on the runtime's Vert.x instance.
 */
public final class Sidecar {

  /**
   * Where a sidecar listens and where its app is.
   *
   * @param outboundHost the address the outbound listener binds, normally {@code 127.0.0.1}
   *     (only the local app may use it)
   * @param outboundPort the outbound listener's port (0 = any free one)
   * @param inboundHost the address the inbound listener binds, reachable by other proxies
   * @param inboundPort the inbound listener's port (0 = any free one)
   * @param appHost the local app's address, normally {@code 127.0.0.1}
   * @param appPort the local app's port
   * @param appTcpPorts the app's TCP ports other proxies may tunnel to, besides those its
   *     view declares
   */
  public record Ports(String outboundHost, int outboundPort, String inboundHost, int inboundPort,
                      String appHost, int appPort, List<PortConfig> appTcpPorts) {

    /** Ports of an app that serves HTTP only (or whose view declares its TCP ports). */
    public Ports(String outboundHost, int outboundPort, String inboundHost, int inboundPort,
                 String appHost, int appPort) {
      this(outboundHost, outboundPort, inboundHost, inboundPort, appHost, appPort, List.of());
    }

    public Ports {
      appTcpPorts = List.copyOf(appTcpPorts);
    }

    /** Everything on loopback: for tests and the one-machine mesh. */
    public static Ports loopback(int outboundPort, int inboundPort, int appPort) {
      return new Ports("127.0.0.1", outboundPort, "127.0.0.1", inboundPort, "127.0.0.1",
          appPort);
    }
  }

  private final ProxyRuntime runtime;
  private final Listener outbound;
  private final Listener inbound;

  private Sidecar(ProxyRuntime runtime, Listener outbound, Listener inbound) {
    this.runtime = runtime;
    this.outbound = outbound;
    this.inbound = inbound;
  }

  /**
   * An upstream client with keep-alive pools of {@code perEndpoint} HTTP/1.1 connections per
   * endpoint, closing connections idle for 60 s; it also speaks h2c with prior knowledge to
   * requests that ask for HTTP/2.
   */
  public static HttpClientAgent newClient(io.vertx.core.Vertx vertx, int perEndpoint) {
    return newClient(vertx, perEndpoint, 60);
  }

  /** An upstream client like {@link #newClient(io.vertx.core.Vertx, int)}, idle for {@code idleSeconds}. */
  public static HttpClientAgent newClient(io.vertx.core.Vertx vertx, int perEndpoint,
                                          int idleSeconds) {
    return vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
            .setKeepAliveTimeout(idleSeconds).setProtocolVersion(HttpVersion.HTTP_2)
            .setHttp2ClearTextUpgrade(false).setHttp2KeepAliveTimeout(idleSeconds)
            // An app's response headers may be as large as a caller's request headers.
            .setMaxHeaderSize(ListenerLimits.ENVOY_HEADER_BYTES)
            .setInitialSettings(new io.vertx.core.http.Http2Settings()
                .setMaxHeaderListSize(ListenerLimits.ENVOY_HEADER_BYTES)),
        new PoolOptions().setHttp1MaxSize(perEndpoint).setMaxWaitQueueSize(-1));
  }

  /**
   * Starts both listeners; fails if either cannot bind. Once bound, the config leaves out any
   * endpoint that is the outbound listener itself ({@link LoopGuard}).
   */
  public static Future<Sidecar> start(ProxyRuntime runtime, Ports ports) {
    return start(runtime, ports, OutboundTrafficPolicy.REGISTRY_ONLY);
  }

  /**
   * Starts both listeners, as {@link #start(ProxyRuntime, Ports)}; a host the mesh does not know
   * is passed through when the sidecar's own view says ALLOW_ANY, or says nothing and
   * {@code outboundDefault} is ALLOW_ANY ({@link Passthrough}).
   */
  public static Future<Sidecar> start(ProxyRuntime runtime, Ports ports,
                                      OutboundTrafficPolicy outboundDefault) {
    Objects.requireNonNull(ports, "ports");
    Passthrough passthrough = new Passthrough(runtime, outboundDefault);
    Future<Listener> out = Listener.start(runtime, "outbound", ports.outboundHost(),
        ports.outboundPort(), new OutboundHandler(runtime, passthrough));
    Future<Listener> in = Listener.start(runtime, "inbound", ports.inboundHost(),
        ports.inboundPort(), new InboundHandler(runtime, ports.appHost(), ports.appPort(),
            ports.appTcpPorts()));
    return Future.all(out, in).map(v -> {
      // Only now is the outbound port known (0 = any): an endpoint that is this listener is a
      // request loop. The inbound listener is not guarded: a service may call itself.
      LoopGuard.Listener outbound = new LoopGuard.Listener("outbound", ports.outboundHost(),
          out.result().port());
      runtime.holder().guardLoops(LoopGuard.of(List.of(outbound)));
      // A request passed through leaves the mesh: it must not come back in at either listener.
      passthrough.guard(LoopGuard.of(List.of(outbound, new LoopGuard.Listener("inbound",
          ports.inboundHost(), in.result().port()))));
      return new Sidecar(runtime, out.result(), in.result());
    });
  }

  /** The port the local app sends outbound requests to. */
  public int outboundPort() {
    return outbound.port();
  }

  /** The port other proxies send this instance's requests to. */
  public int inboundPort() {
    return inbound.port();
  }

  /** The config this sidecar runs. */
  public SnapshotHolder holder() {
    return runtime.holder();
  }

  /** What its listeners share. */
  public ProxyRuntime runtime() {
    return runtime;
  }

  /**
   * Stops both listeners, then closes the TCP connections its runtime still relays (each
   * reported closed, see {@link dev.meshlog.proxy.tcp.TcpConnections#endAll}), then the upstream
   * pools (busy connections after their response).
   */
  public Future<Void> close() {
    return Future.all(outbound.close(), inbound.close()).<Void>mapEmpty()
        .eventually(() -> runtime.tcpConnections().endAll())
        .onComplete(ar -> runtime.upstreams().close());
  }
}
