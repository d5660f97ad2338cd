package dev.meshlog.proxy.tcp;

import java.util.function.Supplier;

import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.AccessLogEntry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bytes between two sockets in both directions, with backpressure: each side is piped to the
 * other, so a reader pauses while its writer's queue is full and resumes when it drains. When
 * one side shuts down its output (a FIN), the other side's output is shut down after the bytes
 * before it, and the other direction keeps flowing until it ends too (TCP half-close, see
 * {@link HalfClose}); then both are closed. When either side closes or fails, both are closed.
 * {@code onClose} runs once. The upstream is the destination: what goes to it and comes from it
 * is counted on the connection's {@link AccessLog.TcpBytes} as it passes. While it relays it is
 * one of the proxy's {@link TcpConnections}, which a stopping proxy closes.
 */
final class Relay {

  private static final Logger LOG = LoggerFactory.getLogger(Relay.class);

  private final NetSocket downstream;
  private final NetSocket upstream;
  private final Handler<Relay> onClose;
  private final CountingStream toUpstream;
  private final CountingStream toDownstream;
  private final TcpConnections connections;
  /** The event loop it runs on: everything but {@link #closeOnItsLoop} happens there. */
  private final Context context;
  private int directionsEnded;
  private boolean closed;

  /**
   * Where a connection opening as {@code opening} counts its bytes: {@code log}'s answer, or
   * nothing if it fails (metrics never stop a relay).
   */
  static AccessLog.TcpBytes opened(AccessLog log, AccessLogEntry opening) {
    try {
      return log.tcpOpened(opening);
    } catch (RuntimeException e) {
      LOG.warn("access log failed", e);
      return AccessLog.TcpBytes.NONE;
    }
  }

  /**
   * Tells {@code log} that a connection ended as {@code closing}; {@code live} is what
   * {@link #opened} returned for it, or {@link AccessLog.TcpBytes#NONE} if it never opened.
   * A failing log never stops the proxy.
   */
  static void closed(AccessLog log, AccessLogEntry closing, AccessLog.TcpBytes live) {
    try {
      log.tcpClosed(closing, live);
    } catch (RuntimeException e) {
      LOG.warn("access log failed", e);
    }
  }

  /** Starts relaying, one of {@code connections}; both sockets may be paused. On its event loop. */
  Relay(NetSocket downstream, NetSocket upstream, AccessLog.TcpBytes live,
        TcpConnections connections, Handler<Relay> onClose) {
    this(downstream, upstream, live, connections, null, onClose);
  }

  /**
   * Starts relaying, first writing upstream {@code first} (bytes already read from downstream,
   * e.g. a ClientHello read for its SNI; counted as the downstream's), if not {@code null}.
   */
  Relay(NetSocket downstream, NetSocket upstream, AccessLog.TcpBytes live,
        TcpConnections connections, Buffer first, Handler<Relay> onClose) {
    this.connections = connections;
    this.context = Vertx.currentContext();
    this.downstream = downstream;
    this.upstream = upstream;
    this.onClose = onClose;
    boolean halfClose = HalfClose.enable(downstream) & HalfClose.enable(upstream);
    this.toUpstream = new CountingStream(upstream, halfClose ? endOneWay(upstream) : null,
        live::towardsDestination);
    this.toDownstream = new CountingStream(downstream, halfClose ? endOneWay(downstream) : null,
        live::fromDestination);
    Handler<Void> close = v -> close();
    downstream.closeHandler(close);
    upstream.closeHandler(close);
    downstream.exceptionHandler(t -> close());
    upstream.exceptionHandler(t -> close());
    if (first != null && first.length() > 0) {
      toUpstream.write(first);
    }
    downstream.pipeTo(toUpstream);
    upstream.pipeTo(toDownstream);
    if (!closed) {
      connections.started(this);
    }
  }

  /**
   * Closes the relay on its event loop (from any thread), as if a side had closed: both
   * sockets, then {@code onClose}; completes {@code done}, if given, once that has run.
   */
  void closeOnItsLoop(Promise<Void> done) {
    Handler<Void> task = v -> {
      close();
      if (done != null) {
        done.tryComplete();
      }
    };
    if (context == null) {
      task.handle(null);
    } else {
      context.runOnContext(task);
    }
  }

  /** Ends one direction by shutting down {@code target}'s output; both ended closes the relay. */
  private Supplier<Future<Void>> endOneWay(NetSocket target) {
    return () -> HalfClose.shutdownOutput(target).onComplete(ar -> {
      if (ar.failed() || ++directionsEnded == 2) {
        close();
      }
    });
  }

  private void close() {
    if (!closed) {
      closed = true;
      downstream.close();
      upstream.close();
      try {
        onClose.handle(this);
      } finally {
        // after its report: a stopping proxy that no longer sees it may flush at once
        connections.closed(this);
      }
    }
  }

  /** Bytes the downstream sent (written upstream). */
  long bytesFromDownstream() {
    return toUpstream.bytes();
  }

  /** Bytes the upstream sent (written downstream). */
  long bytesFromUpstream() {
    return toDownstream.bytes();
  }
}
