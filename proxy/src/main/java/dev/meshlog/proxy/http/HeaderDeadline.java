package dev.meshlog.proxy.http;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectDecoder;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A deadline for an HTTP/1.x request's header block (slowloris): from the first byte of a
 * request until its headers are decoded. A client that has not sent them all in time is
 * answered {@code 408 Request Timeout} and the connection is closed; a keep-alive connection
 * waiting between requests is left to the idle timeout.
 *
 * <p>Vert.x gives no hook before a request's headers are complete, so the watch sits in the
 * connection's Netty pipeline: one handler before the HTTP decoder sees a request's first bytes
 * arrive, one after it sees the decoded request. It is put there two ways. On a clear-text
 * listener (HTTP/1.1 and h2c) Vert.x creates its connection only once the first request's
 * headers are decoded (to see whether it asks for {@code Upgrade: h2c}), too late for that
 * request; so {@link HeaderDeadlineTransport} adds a small handler at the head of every
 * accepted channel, which lets the first bytes through one at a time until Vert.x has chosen
 * HTTP/1 and added its decoder, then installs the watch and steps aside. On a TLS listener the
 * connection exists before any request, and {@link #watch} (from the server's connection
 * handler) installs it. HTTP/2 connections are not watched (their headers are frames, bounded by
 * the idle timeout).
 *
 * <p>The same first-bytes handler also <b>refuses HTTP/1.1 → h2c upgrades</b> on clear-text
 * listeners, as Envoy does: the first request's {@code Upgrade: h2c} (and its
 * {@code HTTP2-Settings}) is taken out before Vert.x's upgrade handler sees it, so the request
 * is answered in HTTP/1.1 and the client stays on HTTP/1.1 (RFC 9113 3.2 lets a server ignore
 * the upgrade; h2c with prior knowledge is unaffected). Vert.x's upgrade path corrupts large
 * responses: after its {@code 101}, part of the body went out unframed (a JDK
 * {@code HttpClient}, which asks for h2c on every {@code http://} connection by default, failed
 * 28 of 300 reads of a 52 KB admin page, and 3 of 200 of a plain Vert.x server's 52 KB answer);
 * Vert.x's maintainers advise against the upgrade in production
 * (quarkusio/quarkus#35180).
 */
final class HeaderDeadline {

  private static final Logger LOG = LoggerFactory.getLogger(HeaderDeadline.class);
  private static final String RAW = "meshlog-header-deadline-raw";
  private static final String DECODED = "meshlog-header-deadline";
  private static final String DETECT = "meshlog-header-deadline-detect";
  /** Vert.x's handler choosing between HTTP/1 and h2c with prior knowledge. */
  private static final String H1_OR_H2C = "Http1xOrH2CHandler";
  /** Vert.x's handler that holds a clear-text HTTP/1 connection until its first request. */
  private static final String UPGRADE_TO_H2C = "Http1xUpgradeToH2CHandler";
  private static final String NO_H2C_UPGRADE = "meshlog-no-h2c-upgrade";

  private final long deadlineMillis;
  private final ChannelHandler decoder;
  private ChannelHandlerContext rawCtx;
  private ChannelHandlerContext decoderCtx;
  private ScheduledFuture<?> timer;
  private boolean inRequest;
  /** A request's first bytes arrived and its headers are not decoded yet, since startNanos. */
  private boolean waiting;
  private long startNanos;

  private HeaderDeadline(long deadlineMillis, ChannelHandler decoder, boolean inRequest) {
    this.deadlineMillis = deadlineMillis;
    this.decoder = decoder;
    this.inRequest = inRequest;
  }

  /**
   * Watches {@code connection}'s request headers with {@code deadline} (zero: not at all). Call
   * it from the server's connection handler, on the connection's event loop. A clear-text
   * connection already watched from its first byte is left as it is; one that Vert.x created
   * after its first request (no {@link HeaderDeadlineTransport}) is watched from its second.
   */
  static void watch(HttpConnection connection, Duration deadline) {
    if (deadline.isZero() || deadline.isNegative()
        || !(connection instanceof ConnectionBase base)) {
      return;
    }
    ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
    boolean firstRequestRead = false;
    for (Map.Entry<String, ChannelHandler> e : pipeline) {
      firstRequestRead |= e.getValue().getClass().getSimpleName().equals(UPGRADE_TO_H2C);
    }
    install(pipeline, deadline.toMillis(), firstRequestRead);
  }

  /** Installs the watch around the pipeline's HTTP/1 decoder, if it has one and no watch yet. */
  private static boolean install(ChannelPipeline pipeline, long deadlineMillis,
                                 boolean inRequest) {
    if (pipeline.get(RAW) != null) {
      return true;
    }
    String decoderName = null;
    ChannelHandler decoder = null;
    for (Map.Entry<String, ChannelHandler> e : pipeline) {
      if (e.getValue() instanceof HttpObjectDecoder || e.getValue() instanceof HttpServerCodec) {
        decoderName = e.getKey();
        decoder = e.getValue();
        break;
      }
    }
    if (decoder == null) {
      return false;
    }
    HeaderDeadline watch = new HeaderDeadline(Math.max(1, deadlineMillis), decoder, inRequest);
    pipeline.addBefore(decoderName, RAW, watch.new Raw());
    pipeline.addAfter(decoderName, DECODED, watch.new Decoded());
    return true;
  }

  /**
   * The handler {@link HeaderDeadlineTransport} puts first in an accepted channel: on a
   * clear-text HTTP listener it passes the first bytes on one at a time until Vert.x has set up
   * HTTP/1 (then it installs the refusal of an h2c upgrade and, unless {@code deadline} is zero,
   * the watch, which starts the clock) or HTTP/2; on anything else (TLS, plain TCP) it steps
   * aside at once.
   */
  static ChannelHandler detector(Duration deadline) {
    return new Detect(deadline.isZero() || deadline.isNegative() ? 0
        : Math.max(1, deadline.toMillis()));
  }

  /** The name of the detector in a pipeline. */
  static String detectorName() {
    return DETECT;
  }

  /**
   * A request's first bytes arrived. The timer is not scheduled and cancelled per request (a
   * keep-alive connection's requests would each pay for it): one timer stays armed while
   * requests come, and when it fires it looks at the request waiting then, if any.
   */
  private void start() {
    if (waiting || rawCtx == null || inRequest) {
      return;
    }
    waiting = true;
    startNanos = System.nanoTime();
    if (timer == null) {
      timer = rawCtx.executor().schedule(this::expire, deadlineMillis, TimeUnit.MILLISECONDS);
    }
  }

  /** The waiting request's headers are decoded. */
  private void stop() {
    waiting = false;
  }

  private void cancel() {
    waiting = false;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void expire() {
    timer = null;
    if (rawCtx == null || !rawCtx.channel().isActive() || inRequest || !waiting) {
      return;
    }
    long left = deadlineMillis - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    if (left > 0) {
      // This request started after the one the timer was set for.
      timer = rawCtx.executor().schedule(this::expire, left, TimeUnit.MILLISECONDS);
      return;
    }
    LOG.debug("request headers from {} not complete within {} ms: 408",
        rawCtx.channel().remoteAddress(), deadlineMillis);
    byte[] body = ("request headers not received within " + deadlineMillis + " ms")
        .getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\ncontent-length: "
        + body.length + "\r\nconnection: close\r\n\r\n";
    // Written below the HTTP encoder: Vert.x has no request to answer yet.
    rawCtx.writeAndFlush(Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), body))
        .addListener(f -> closeAfterAnswer(rawCtx.channel()));
  }

  /**
   * Closes {@code channel} after an answer the caller may still be sending into: Envoy's delayed
   * close. Closing at once with the caller's unread bytes in the socket makes the kernel send a
   * reset, which can reach the caller before it read the answer (seen once in CI: "Connection
   * reset" instead of the 408). So: stop reading, send FIN after the answer, and close when the
   * caller has closed too, or after {@link #DELAYED_CLOSE_MILLIS}.
   */
  private static void closeAfterAnswer(Channel channel) {
    if (!(channel instanceof DuplexChannel duplex) || !channel.isActive()) {
      channel.close();
      return;
    }
    channel.config().setAutoRead(false);
    duplex.shutdownOutput();
    channel.eventLoop().schedule(() -> {
      channel.close();
    }, DELAYED_CLOSE_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** How long a connection answered 408 stays half open for the caller to read the answer. */
  static final long DELAYED_CLOSE_MILLIS = 1000;

  private static boolean has(ChannelPipeline pipeline, String simpleClassName) {
    for (Map.Entry<String, ChannelHandler> e : pipeline) {
      if (e.getValue().getClass().getSimpleName().equals(simpleClassName)
          || e.getValue().getClass().getSuperclass().getSimpleName().equals(simpleClassName)) {
        return true;
      }
    }
    return false;
  }

  /** Sees a clear-text connection's first bytes; see {@link #detector}. */
  private static final class Detect extends ChannelInboundHandlerAdapter {
    private final long deadlineMillis;

    Detect(long deadlineMillis) {
      this.deadlineMillis = deadlineMillis;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ChannelPipeline pipeline = ctx.pipeline();
      if (!(msg instanceof ByteBuf bytes) || !has(pipeline, H1_OR_H2C)) {
        // TLS, plain TCP, or an HTTP server without h2c (its connection handler is early).
        pipeline.remove(this);
        ctx.fireChannelRead(msg);
        return;
      }
      // One byte at a time until Vert.x has told HTTP/1 from an h2c preface and set up its
      // decoder: no request can be decoded before the watch is in place.
      while (bytes.isReadable() && has(pipeline, H1_OR_H2C)) {
        ctx.fireChannelRead(bytes.readRetainedSlice(1));
      }
      if (has(pipeline, H1_OR_H2C)) {
        // Every byte went in and Vert.x has not decided yet ("P..." may be an h2c preface).
        bytes.release();
        return;
      }
      pipeline.remove(this);
      refuseH2cUpgrade(pipeline);
      if (deadlineMillis > 0) {
        install(pipeline, deadlineMillis, false);
      }
      if (bytes.isReadable()) {
        // From the head, so the rest passes the watch just installed and the new decoder.
        pipeline.fireChannelRead(bytes);
      } else {
        bytes.release();
      }
    }
  }

  /** Puts {@link NoH2cUpgrade} right after the pipeline's HTTP/1 decoder, if it has one. */
  private static void refuseH2cUpgrade(ChannelPipeline pipeline) {
    for (Map.Entry<String, ChannelHandler> e : pipeline) {
      if (e.getValue() instanceof HttpObjectDecoder || e.getValue() instanceof HttpServerCodec) {
        pipeline.addAfter(e.getKey(), NO_H2C_UPGRADE, new NoH2cUpgrade());
        return;
      }
    }
  }

  /**
   * After the decoder, for a connection's first request (the only one Vert.x would upgrade):
   * takes {@code h2c} out of its {@code Upgrade} header, with {@code HTTP2-Settings}, so it is
   * served as HTTP/1.1; then steps aside.
   */
  private static final class NoH2cUpgrade extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest request) {
        ctx.pipeline().remove(this);
        withoutH2cUpgrade(request.headers());
      }
      ctx.fireChannelRead(msg);
    }
  }

  /** Takes an h2c upgrade out of {@code headers} (other upgrades, e.g. WebSocket, stay). */
  static void withoutH2cUpgrade(HttpHeaders headers) {
    String upgrade = headers.get(HttpHeaderNames.UPGRADE);
    if (upgrade == null) {
      return;
    }
    StringBuilder others = new StringBuilder();
    boolean h2c = false;
    for (String token : upgrade.split(",")) {
      String t = token.trim();
      if (t.equalsIgnoreCase("h2c")) {
        h2c = true;
      } else if (!t.isEmpty()) {
        others.append(others.isEmpty() ? "" : ", ").append(t);
      }
    }
    if (!h2c) {
      return;
    }
    headers.remove("HTTP2-Settings");
    if (others.isEmpty()) {
      headers.remove(HttpHeaderNames.UPGRADE);
    } else {
      headers.set(HttpHeaderNames.UPGRADE, others.toString());
    }
    String connection = headers.get(HttpHeaderNames.CONNECTION);
    if (connection != null) {
      StringBuilder kept = new StringBuilder();
      for (String token : connection.split(",")) {
        String t = token.trim();
        if (!t.isEmpty() && !t.equalsIgnoreCase("http2-settings")
            && !(others.isEmpty() && t.equalsIgnoreCase("upgrade"))) {
          kept.append(kept.isEmpty() ? "" : ", ").append(t);
        }
      }
      if (kept.isEmpty()) {
        headers.remove(HttpHeaderNames.CONNECTION);
      } else {
        headers.set(HttpHeaderNames.CONNECTION, kept.toString());
      }
    }
  }

  /** Before the decoder: the first bytes of a request start the clock. */
  private final class Raw extends ChannelInboundHandlerAdapter {
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      rawCtx = ctx;
      decoderCtx = ctx.pipeline().context(decoder);
      // Installed once a request's first bytes arrived (or, after a first request, idle).
      start();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (decoderCtx == null || decoderCtx.isRemoved()) {
        // Upgraded (h2c) or otherwise no longer HTTP/1: nothing to watch.
        cancel();
        ctx.pipeline().remove(this);
        if (ctx.pipeline().get(DECODED) != null) {
          ctx.pipeline().remove(DECODED);
        }
      } else if (!inRequest) {
        start();
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      cancel();
      ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      cancel();
    }
  }

  /** After the decoder: a decoded request stops the clock until it has been read. */
  private final class Decoded extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest) {
        stop();
        inRequest = true;
      }
      if (msg instanceof LastHttpContent) {
        inRequest = false;
      }
      ctx.fireChannelRead(msg);
    }
  }
}
