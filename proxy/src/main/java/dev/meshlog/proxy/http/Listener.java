package dev.meshlog.proxy.http;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;

/**
 * One listening socket of the proxy (outbound, inbound or admin), speaking HTTP/1.1 and h2c
 * (prior knowledge, or an HTTP/1.1 {@code Upgrade: h2c}), with the listener limits applied:
 * header size and count, request-line length, a deadline for request headers, and an idle
 * timeout.
 */
public final class Listener {

  private final String name;
  private final HttpServer server;

  private Listener(String name, HttpServer server) {
    this.name = name;
    this.server = server;
  }

  /**
   * Starts a listener on {@code host:port} (port 0 picks a free one).
   *
   * @param name for logs, e.g. {@code outbound}
   */
  public static Future<Listener> start(ProxyRuntime rt, String name, String host, int port,
                                       Handler<HttpServerRequest> handler) {
    HttpServer server = rt.vertx().createHttpServer(options(rt, host, port))
        .requestHandler(handler);
    watchConnections(rt, name, server);
    return server.listen()
        .recover(e -> Future.failedFuture(new ListenerBindException(name, host, port, e)))
        .map(s -> new Listener(name, s));
  }

  /**
   * Puts {@code rt}'s deadline for request headers on {@code server}'s HTTP/1 connections, and
   * Envoy's answer to a malformed stream ({@link Http2ProtocolErrors}) on its HTTP/2 ones, logged
   * as {@code direction}.
   */
  public static HttpServer watchConnections(ProxyRuntime rt, String direction,
                                            HttpServer server) {
    Duration deadline = rt.limits().headerTimeout();
    server.connectionHandler(conn -> {
      if (!deadline.isZero()) {
        HeaderDeadline.watch(conn, deadline);
      }
      Http2ProtocolErrors.install(rt, direction, conn);
    });
    return server;
  }

  /**
   * The options every listener of the proxy starts from: HTTP/1.1 and h2c, the limits of
   * {@code rt}, on {@code host:port}.
   */
  public static HttpServerOptions options(ProxyRuntime rt, String host, int port) {
    ListenerLimits limits = rt.limits();
    return new HttpServerOptions()
        .setHost(host).setPort(port)
        .setMaxHeaderSize(limits.maxHeaderBytes())
        .setMaxInitialLineLength(limits.maxInitialLineBytes())
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, limits.idleTimeout().toMillis()))
        .setHandle100ContinueAutomatically(true)
        .setHttp2ClearTextEnabled(true)
        .setInitialSettings(new Http2Settings().setMaxHeaderListSize(limits.maxHeaderBytes()))
        .setCompressionSupported(false)
        .setDecompressionSupported(false)
        // The proxy accepts no WebSocket of its own (Upgrade is hop-by-hop): without these
        // Vert.x puts a WebSocket extension handler in every connection's pipeline, which looks
        // at every request and response on its way (≈1% of the event loop at saturation).
        .setPerFrameWebSocketCompressionSupported(false)
        .setPerMessageWebSocketCompressionSupported(false)
        .setTcpNoDelay(true);
  }

  /** The port it listens on. */
  public int port() {
    return server.actualPort();
  }

  /** Its name. */
  public String name() {
    return name;
  }

  /** Stops listening and closes its connections. */
  public Future<Void> close() {
    return server.close();
  }
}
