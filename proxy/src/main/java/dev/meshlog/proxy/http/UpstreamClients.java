package dev.meshlog.proxy.http;

import java.time.Duration;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.config.PoolLimits;
import dev.meshlog.proxy.upstream.Http1Pool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;

/**
 * The proxy's upstream connection pools: for HTTP/1.1 tries (clear text, or the TLS a
 * DestinationRule originates) the proxy's own {@link Http1Pool}, one per event loop (unless {@code MESHLOG_UPSTREAM_CLIENT} /
 * {@code -Dmeshlog.upstream.client} says {@code vertx}); for the rest (h2c, mirrors, endpoints
 * named by host name) Vert.x's clients: a shared one for clusters without an idle timeout, one
 * per distinct {@code connectionPool.idleTimeout} (Vert.x closes a pooled connection with no
 * request in flight for that long, to the second), and the count of requests each of their
 * connections carried, for {@code maxRequestsPerConnection}.
 */
public final class UpstreamClients {

  /** Which client carries clear-text HTTP/1.1 tries. */
  public enum Kind {
    /** The proxy's own per-event-loop pool on plain Netty channels (the default). */
    NETTY,
    /** Vert.x's {@code HttpClient}, as before the own pool. */
    VERTX;

    /** {@code netty} or {@code vertx}, any case; empty or null = netty. */
    public static Kind parse(String text) {
      String t = text == null ? "" : text.trim().toUpperCase(Locale.ROOT);
      if (t.isEmpty()) {
        return NETTY;
      }
      try {
        return valueOf(t);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("upstream client: " + text
            + " (expected: netty or vertx)", e);
      }
    }

    /** From {@code -Dmeshlog.upstream.client}, else {@code MESHLOG_UPSTREAM_CLIENT}. */
    static Kind configured() {
      String p = System.getProperty("meshlog.upstream.client");
      return parse(p != null ? p : System.getenv("MESHLOG_UPSTREAM_CLIENT"));
    }
  }

  /** How long an idle pooled connection is kept when the cluster sets no idle timeout. */
  public static final Duration DEFAULT_IDLE = Duration.ofSeconds(60);

  private final Vertx vertx;
  private final Kind kind;
  private final ChannelFactory<? extends Channel> channels;
  private final Map<EventLoop, Http1Pool> http1Pools = new ConcurrentHashMap<>();
  private volatile boolean closed;
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
    this(vertx, shared, perEndpoint, Kind.configured());
  }

  /** Pools around {@code shared}, HTTP/1.1 tries going through {@code kind}. */
  public UpstreamClients(Vertx vertx, HttpClient shared, int perEndpoint, Kind kind) {
    this.vertx = vertx;
    this.shared = shared;
    this.perEndpoint = perEndpoint;
    this.kind = kind;
    this.channels = kind == Kind.NETTY && vertx instanceof VertxInternal vi
        ? vi.transport().channelFactory(false) : null;
  }

  /** Which client carries clear-text HTTP/1.1 tries. */
  public Kind kind() {
    return kind;
  }

  /**
   * The own HTTP/1.1 pool of the event loop running {@code context}, created on first use;
   * {@code null} when tries go through Vert.x (switched so, closed, or not on an event loop).
   */
  Http1Pool http1Pool(Context context) {
    if (channels == null || closed || !(context instanceof ContextInternal ci)) {
      return null;
    }
    EventLoop loop = ci.nettyEventLoop();
    if (loop == null || !loop.inEventLoop()) {
      return null;
    }
    Http1Pool pool = http1Pools.get(loop);
    if (pool == null) {
      pool = new Http1Pool(loop, channels, perEndpoint, DEFAULT_IDLE);
      http1Pools.put(loop, pool);
    }
    return pool;
  }

  /**
   * Closes the own pools (idle connections now, busy ones after their response), each on its
   * event loop; Vert.x's clients close with Vert.x.
   */
  public void close() {
    closed = true;
    for (Http1Pool pool : http1Pools.values()) {
      try {
        pool.loop().execute(pool::close);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // the loop already stopped, and its channels with it
      }
    }
    http1Pools.clear();
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
