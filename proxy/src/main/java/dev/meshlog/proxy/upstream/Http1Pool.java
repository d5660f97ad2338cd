package dev.meshlog.proxy.upstream;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * The HTTP/1.1 keep-alive connections of one event loop to every upstream endpoint it talks to:
 * per endpoint (address, port, idle timeout) a stack of idle connections (the most recently used
 * first, so the others age out), the count of open and connecting ones against a maximum, and a
 * queue of requests waiting for one. No locks: everything runs on the loop that owns the pool, and
 * its channels are created on that loop with the listener's transport. Admission (the circuit
 * breaker) happens before a request gets here, so the queue is bounded by it. An endpoint whose
 * policy originates TLS has connections of its own (keyed by its {@link UpstreamTls} and SNI),
 * each handed over only once its handshake succeeded.
 */
public final class Http1Pool {

  /** Receives a connection, or the reason none could be made. */
  public interface Acquirer {
    /** The connection is the acquirer's until it sends a request or gives it back. */
    void connected(Http1Connection connection);

    /** The connect failed (refused, timed out, no route). */
    void connectFailed(Throwable cause);
  }

  /** A request waiting for a connection; {@link #cancel()} leaves the queue. */
  public static final class Waiter {
    private final Endpoint endpoint;
    private final Acquirer acquirer;
    private final boolean fresh;
    private final int connectTimeoutMillis;
    private boolean queued = true;

    private Waiter(Endpoint endpoint, Acquirer acquirer, boolean fresh, int connectTimeoutMillis) {
      this.endpoint = endpoint;
      this.acquirer = acquirer;
      this.fresh = fresh;
      this.connectTimeoutMillis = connectTimeoutMillis;
    }

    /** Leaves the queue if still in it; a connect made for it goes to the idle connections. */
    public void cancel() {
      if (queued) {
        queued = false;
        endpoint.waiters.remove(this);
      }
    }
  }

  /** An endpoint's connections: plain text ({@code tls} null) or TLS with one SNI. */
  private record Key(String address, int port, long idleNanos, UpstreamTls tls, String sni) {}

  /** The connections to one endpoint. */
  final class Endpoint {
    private final Key key;
    private final ArrayDeque<Http1Connection> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private int open;
    private int connecting;

    private Endpoint(Key key) {
      this.key = key;
    }

    void release(Http1Connection c) {
      if (closed || c.isClosed()) {
        c.close();
        return;
      }
      c.idleSinceNanos = System.nanoTime();
      idle.push(c);
      dispatch(this);
    }

    void closed(Http1Connection c) {
      idle.remove(c);
      if (!c.uncounted) {
        open--;
      }
      dispatch(this);
      forgetIfUnused(this);
    }
  }

  private final EventLoop loop;
  private final ChannelFactory<? extends Channel> channels;
  private final int perEndpoint;
  private final long defaultIdleNanos;
  private final Map<Key, Endpoint> endpoints = new HashMap<>();
  /** The endpoint the last request went to, while it is in {@link #endpoints}. */
  private Endpoint last;
  private final ScheduledFuture<?> sweeper;
  private boolean closed;

  /**
   * A pool on {@code loop} whose channels {@code channels} makes (the listener's transport).
   *
   * @param perEndpoint connections per endpoint at most
   * @param defaultIdle how long an idle connection is kept when a cluster sets no idle timeout
   */
  public Http1Pool(EventLoop loop, ChannelFactory<? extends Channel> channels, int perEndpoint,
                   Duration defaultIdle) {
    this.loop = Objects.requireNonNull(loop, "loop");
    this.channels = Objects.requireNonNull(channels, "channels");
    if (perEndpoint < 1) {
      throw new IllegalArgumentException("perEndpoint: " + perEndpoint + " (expected: >= 1)");
    }
    this.perEndpoint = perEndpoint;
    this.defaultIdleNanos = defaultIdle.toNanos();
    // One timer per pool sweeps idle connections every second, instead of a timer per write.
    this.sweeper = loop.scheduleAtFixedRate(this::sweep, 1, 1, TimeUnit.SECONDS);
  }

  /** The event loop that owns this pool; every call must come from it. */
  public EventLoop loop() {
    return loop;
  }

  /**
   * Hands {@code acquirer} a connection to {@code address:port}: an idle one at once, a new one
   * once connected, or the next one freed when the endpoint has {@code perEndpoint} open.
   *
   * @param idleTimeout close the endpoint's connections idle this long; zero = the pool's default
   * @param fresh only a newly opened connection will do (after a reused one failed)
   * @return the waiter, to cancel while it waits; {@code null} when served at once
   */
  public Waiter acquire(String address, int port, Duration idleTimeout, int connectTimeoutMillis,
                        boolean fresh, Acquirer acquirer) {
    return acquire(address, port, null, null, idleTimeout, connectTimeoutMillis, fresh, acquirer);
  }

  /**
   * As {@link #acquire(String, int, Duration, int, boolean, Acquirer)}, the connection speaking
   * TLS with {@code tls} and {@code sni} when {@code tls} is not null (plain text else): handed
   * over once its handshake succeeded; a failed handshake is a failed connect whose cause is an
   * {@link UpstreamTlsException}.
   */
  public Waiter acquire(String address, int port, UpstreamTls tls, String sni,
                        Duration idleTimeout, int connectTimeoutMillis, boolean fresh,
                        Acquirer acquirer) {
    if (closed) {
      acquirer.connectFailed(new UpstreamResetException("upstream pool closed"));
      return null;
    }
    long idleNanos = idleTimeout.isZero() || idleTimeout.isNegative() ? defaultIdleNanos
        : idleTimeout.toNanos();
    // Most requests go where the one before went: that endpoint is checked first, without a key
    // object and the record's generated hashCode/equals per request.
    Endpoint e = last;
    if (e == null || e.key.port() != port || e.key.idleNanos() != idleNanos
        || !e.key.address().equals(address) || e.key.tls() != tls
        || (tls != null && !e.key.sni().equals(sni))) {
      e = endpoints.computeIfAbsent(new Key(address, port, idleNanos, tls, sni), Endpoint::new);
      last = e;
    }
    if (!fresh && e.waiters.isEmpty()) {
      Http1Connection c = pollIdle(e);
      if (c != null) {
        acquirer.connected(c);
        return null;
      }
    }
    Waiter w = new Waiter(e, acquirer, fresh, connectTimeoutMillis);
    e.waiters.add(w);
    dispatch(e);
    return w.queued ? w : null;
  }

  private Http1Connection pollIdle(Endpoint e) {
    Http1Connection c;
    while ((c = e.idle.poll()) != null) {
      if (!c.isClosed()) {
        return c;
      }
    }
    return null;
  }

  private void dispatch(Endpoint e) {
    while (!e.waiters.isEmpty() && !e.waiters.peekFirst().fresh && !e.idle.isEmpty()) {
      Http1Connection c = pollIdle(e);
      if (c == null) {
        break;
      }
      Waiter w = e.waiters.pollFirst();
      w.queued = false;
      w.acquirer.connected(c);
    }
    while (!closed && e.waiters.size() > e.connecting) {
      if (e.open >= perEndpoint) {
        // A waiter that needs a fresh connection must not wait behind idle ones forever.
        Http1Connection oldest = e.idle.pollLast();
        if (oldest == null || !hasFresh(e)) {
          if (oldest != null) {
            e.idle.addLast(oldest);
          }
          break;
        }
        // Counted out now, so its channelInactive must not count it again.
        oldest.uncounted = true;
        e.open--;
        oldest.close();
      }
      connect(e, e.waiters.peekLast().connectTimeoutMillis);
    }
  }

  private static boolean hasFresh(Endpoint e) {
    for (Waiter w : e.waiters) {
      if (w.fresh) {
        return true;
      }
    }
    return false;
  }

  private void connect(Endpoint e, int connectTimeoutMillis) {
    e.open++;
    e.connecting++;
    ResponseDecoder decoder = new ResponseDecoder();
    Http1Connection connection = new Http1Connection(e, decoder);
    Bootstrap b = new Bootstrap().group(loop).channelFactory(channels)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.max(1, connectTimeoutMillis))
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            UpstreamTls tls = e.key.tls();
            if (tls != null) {
              SslHandler h = tls.newHttp1Handler(ch.alloc(), e.key.sni(), e.key.port());
              h.setHandshakeTimeoutMillis(Math.max(1, connectTimeoutMillis));
              ch.pipeline().addLast("tls", h);
            }
            ch.pipeline().addLast("decoder", decoder).addLast("encoder", new HttpRequestEncoder())
                .addLast("exchange", connection);
          }
        });
    ChannelFuture f = b.connect(e.key.address(), e.key.port());
    f.addListener(done -> {
      if (!done.isSuccess()) {
        e.connecting--;
        e.open--;
        Waiter w = e.waiters.pollFirst();
        if (w != null) {
          w.queued = false;
          w.acquirer.connectFailed(done.cause());
        }
        dispatch(e);
        forgetIfUnused(e);
        return;
      }
      if (e.key.tls() == null) {
        e.connecting--;
        ready(e, connection);
        return;
      }
      SslHandler tls = f.channel().pipeline().get(SslHandler.class);
      // Still connecting until the handshake ends: only then is the connection of use.
      tls.handshakeFuture().addListener(hs -> {
        e.connecting--;
        if (hs.isSuccess()) {
          ready(e, connection);
          return;
        }
        // The channel is open: its close counts it out of the endpoint (channelInactive).
        connection.close();
        Waiter w = e.waiters.pollFirst();
        if (w != null) {
          w.queued = false;
          w.acquirer.connectFailed(new UpstreamTlsException(hs.cause()));
        }
        dispatch(e);
        forgetIfUnused(e);
      });
    });
  }

  /** A connection is up (and its TLS handshake done): the first waiter gets it, else it idles. */
  private void ready(Endpoint e, Http1Connection connection) {
    if (closed) {
      connection.close();
      return;
    }
    Waiter w = e.waiters.pollFirst();
    if (w != null) {
      w.queued = false;
      w.acquirer.connected(connection);
    } else {
      e.release(connection);
    }
  }

  /** Drops an endpoint with nothing open, idle or waiting, so the map follows the endpoints in use. */
  private void forgetIfUnused(Endpoint e) {
    if (e.open <= 0 && e.waiters.isEmpty() && e.idle.isEmpty() && e.connecting == 0) {
      endpoints.remove(e.key, e);
      if (last == e) {
        last = null;
      }
    }
  }

  private void sweep() {
    long now = System.nanoTime();
    List<Http1Connection> expired = null;
    for (Endpoint e : endpoints.values()) {
      for (Iterator<Http1Connection> it = e.idle.descendingIterator(); it.hasNext(); ) {
        Http1Connection c = it.next();
        if (now - c.idleSinceNanos >= e.key.idleNanos()) {
          it.remove();
          if (expired == null) {
            expired = new ArrayList<>();
          }
          expired.add(c);
        }
      }
    }
    if (expired != null) {
      expired.forEach(Http1Connection::close);
    }
  }

  /** Connections open or connecting to {@code address:port}, for tests and stats. */
  public int open(String address, int port) {
    int n = 0;
    for (Endpoint e : endpoints.values()) {
      if (e.key.address().equals(address) && e.key.port() == port) {
        n += e.open;
      }
    }
    return n;
  }

  /**
   * Closes the pool: idle connections now, busy ones once their exchange ends; waiting requests
   * fail, later ones are refused.
   */
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    sweeper.cancel(false);
    for (Endpoint e : List.copyOf(endpoints.values())) {
      for (Http1Connection c : List.copyOf(e.idle)) {
        c.close();
      }
      e.idle.clear();
      while (!e.waiters.isEmpty()) {
        Waiter w = e.waiters.pollFirst();
        w.queued = false;
        w.acquirer.connectFailed(new UpstreamResetException("upstream pool closed"));
      }
    }
  }
}
