package dev.meshlog.proxy.http;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an HTTP/2 caller's malformed stream gets, as Envoy answers it by default (its
 * {@code stream_error_on_invalid_http_message} is false, and Istio keeps that): the whole
 * connection is ended with {@code GOAWAY(PROTOCOL_ERROR)}, the stream is logged and counted with
 * flag {@code DPE}, and so are the connection's other streams still in flight.
 *
 * <p>Netty's HTTP/2 codec (and Vert.x above it) find the malformed streams — an uppercase or
 * invalid header name, a connection-specific header ({@code connection}, {@code
 * transfer-encoding}, {@code te} but {@code trailers}, ...), a missing, repeated, unknown or late
 * pseudo-header, a control character in a value, a {@code content-length} the DATA disagrees
 * with — and reset each with {@code RST_STREAM(PROTOCOL_ERROR)}, telling no one: the request
 * never reaches the proxy's handler. So this handler sits between that codec and the socket and
 * watches for the one frame: a server connection's {@code RST_STREAM} with
 * {@code PROTOCOL_ERROR} is only ever the codec's verdict on the caller (the proxy's own resets
 * carry {@code NO_ERROR} or {@code CANCEL}). It looks at the size of each outgoing buffer and,
 * for the 13-byte ones, two bytes; nothing else per request.
 */
final class Http2ProtocolErrors extends ChannelOutboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(Http2ProtocolErrors.class);
  static final String NAME = "meshlog-h2-protocol-errors";
  private static final int RST_STREAM_FRAME_BYTES = 9 + 4;
  private static final byte RST_STREAM = 0x3;

  private final ProxyRuntime rt;
  private final String direction;
  private final Http2ConnectionHandler codec;
  /** The connection was ended for a malformed stream. */
  private boolean failed;
  /** Streams whose exchange logs itself (it saw the codec's error, or the connection end). */
  private Set<Integer> claimed;

  private Http2ProtocolErrors(ProxyRuntime rt, String direction, Http2ConnectionHandler codec) {
    this.rt = rt;
    this.direction = direction;
    this.codec = codec;
  }

  /**
   * Watches {@code connection} if it is an HTTP/2 one; call it from the server's connection
   * handler. {@code direction} names the listener in the access log ({@code outbound},
   * {@code inbound}, {@code gateway}); any other name ends the connection the same way but logs
   * nothing (the admin port logs no requests).
   */
  static void install(ProxyRuntime rt, String direction, HttpConnection connection) {
    if (!(connection instanceof ConnectionBase base)) {
      return;
    }
    ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
    if (pipeline.get(NAME) != null) {
      return;
    }
    for (Map.Entry<String, ChannelHandler> e : pipeline) {
      if (e.getValue() instanceof Http2ConnectionHandler codec) {
        pipeline.addBefore(e.getKey(), NAME, new Http2ProtocolErrors(rt, direction, codec));
        return;
      }
    }
  }

  /**
   * Whether {@code req}'s HTTP/2 connection was ended for a caller's malformed stream (then the
   * exchange is flagged {@code DPE}, not {@code DC}); the exchange logs itself, so the stream is
   * not logged again. Only for an exchange that is ending on an error: it looks the connection's
   * pipeline up.
   */
  static boolean protocolError(HttpServerRequest req, boolean claim) {
    if (!(req.connection() instanceof ConnectionBase base)) {
      return false;
    }
    if (!(base.channelHandlerContext().pipeline().get(NAME) instanceof Http2ProtocolErrors w)) {
      return false;
    }
    if (claim) {
      w.claim((int) req.streamId());
    }
    return w.failed;
  }

  private void claim(int streamId) {
    if (claimed == null) {
      claimed = new HashSet<>();
    }
    claimed.add(streamId);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    if (msg instanceof ByteBuf b && b.readableBytes() == RST_STREAM_FRAME_BYTES) {
      int at = b.readerIndex();
      if (b.getByte(at + 3) == RST_STREAM
          && b.getInt(at + 9) == (int) Http2Error.PROTOCOL_ERROR.code()) {
        int stream = b.getInt(at + 5) & 0x7FFF_FFFF;
        if (answered(stream)) {
          ctx.write(msg, promise);
          return;
        }
        b.release();
        promise.trySuccess();
        malformed(ctx, stream);
        return;
      }
    }
    ctx.write(msg, promise);
  }

  /**
   * Whether the stream's answer has begun: Netty answers a header list over
   * {@code SETTINGS_MAX_HEADER_LIST_SIZE} (within 1.25 times it) with a 431 and then resets the
   * stream with {@code PROTOCOL_ERROR}; that stream keeps its reset and the connection serves on,
   * as Envoy resets only the stream of a request over its header limits.
   */
  private boolean answered(int streamId) {
    Http2Stream s = codec.connection().stream(streamId);
    if (s == null) {
      // Netty created the 431's stream to answer on and closed it with the answer; a stream
      // whose header block did not decode was never created.
      return codec.connection().streamMayHaveExisted(streamId);
    }
    // The 431 is written (its stream still half-closed until the write completes); a stream
    // whose answer had begun otherwise keeps a stream reset too.
    return s.isHeadersSent();
  }

  /**
   * Ends the connection as Envoy's codec does on a protocol error: GOAWAY with
   * {@code PROTOCOL_ERROR} naming the last stream the codec took (the frames after it in the
   * same read are ignored by Netty's decoder from now on), then close once it is written.
   */
  private void malformed(ChannelHandlerContext ctx, int stream) {
    if (failed) {
      return;
    }
    failed = true;
    ChannelHandlerContext codecCtx = ctx.pipeline().context(codec);
    if (codecCtx == null) {
      ctx.close();
      return;
    }
    ByteBuf debug = Unpooled.copiedBuffer("malformed request on stream " + stream,
        StandardCharsets.US_ASCII);
    codec.goAway(codecCtx, codec.connection().remote().lastStreamCreated(),
            Http2Error.PROTOCOL_ERROR.code(), debug, codecCtx.newPromise())
        .addListener(f -> ctx.channel().close());
    codecCtx.flush();
    // After the exchanges that saw the error (a content-length the DATA disagrees with) had
    // their say: those log themselves.
    ctx.executor().execute(() -> logUnclaimed(stream));
  }

  private void logUnclaimed(int stream) {
    if (claimed != null && claimed.contains(stream)) {
      return;
    }
    String workload = switch (direction) {
      case "outbound", "gateway" -> rt.identity().workload();
      case "inbound" -> "unknown";
      default -> null;
    };
    if (workload == null) {
      return;
    }
    try {
      rt.accessLog().log(AccessLogEntry.malformedHttp2Stream(rt.clock().instant(), direction,
          workload));
    } catch (RuntimeException e) {
      LOG.warn("access log failed", e);
    }
  }
}
