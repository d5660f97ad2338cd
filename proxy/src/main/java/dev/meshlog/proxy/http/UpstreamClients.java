package dev.meshlog.proxy.http;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.config.PoolLimits;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpConnection;

/**
 * The proxy's upstream connection pools: a shared client for clusters without an idle timeout,
 * one client per distinct {@code connectionPool.idleTimeout} (Vert.x closes a pooled connection
 * with no request in flight for that long, to the second), and the count of requests each
 * connection carried, for {@code maxRequestsPerConnection}.
 */
public final class UpstreamClients {

  private final Vertx vertx;
  private final HttpClient shared;
  private final int perEndpoint;
  private final Map<Long, HttpClient> byIdleSeconds = new ConcurrentHashMap<>();
  private final Map<HttpConnection, int[]> uses =
      Collections.synchronizedMap(new WeakHashMap<>());

  /**
   * Pools around {@code shared}, the client of clusters without an idle timeout.
   *
   * @param perEndpoint HTTP/1.1 connections per endpoint in the pools created here
   */
  public UpstreamClients(Vertx vertx, HttpClient shared, int perEndpoint) {
    this.vertx = vertx;
    this.shared = shared;
    this.perEndpoint = perEndpoint;
  }

  /** The shared client. */
  public HttpClient shared() {
    return shared;
  }

  /** The client whose pools close connections idle longer than {@code limits.idleTimeout()}. */
  public HttpClient client(PoolLimits limits) {
    Duration idle = limits.idleTimeout();
    if (idle.isZero() || idle.isNegative()) {
      return shared;
    }
    long seconds = Math.max(1, (idle.toMillis() + 999) / 1000);
    return byIdleSeconds.computeIfAbsent(seconds,
        s -> Sidecar.newClient(vertx, perEndpoint, (int) Math.min(Integer.MAX_VALUE, s)));
  }

  /**
   * Counts one more request on {@code connection}; true when it is the last the connection
   * may carry under {@code maxRequestsPerConnection} (0 = unlimited).
   */
  public boolean countRequest(HttpConnection connection, int maxRequestsPerConnection) {
    if (maxRequestsPerConnection <= 0 || connection == null) {
      return false;
    }
    int[] n = uses.computeIfAbsent(connection, c -> new int[1]);
    synchronized (n) {
      return ++n[0] >= maxRequestsPerConnection;
    }
  }
}
