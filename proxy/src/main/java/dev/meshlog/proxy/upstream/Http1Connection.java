package dev.meshlog.proxy.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * One pooled HTTP/1.1 connection to an upstream: the last handler of its channel's pipeline,
 * routing the response of the one request in flight to that request's {@link Http1Listener},
 * and handing the connection back to its pool when both the request and the response ended
 * and the connection may be kept alive. Runs only on the pool's event loop.
 */
public final class Http1Connection extends ChannelInboundHandlerAdapter {

  private final Http1Pool.Endpoint endpoint;
  private final ResponseDecoder decoder;
  private Channel channel;
  private Http1Listener listener;
  private int requests;
  private boolean closeAfter;
  private boolean requestEnded;
  private boolean responseStarted;
  private boolean interim;
  private boolean corked;
  private boolean headWaitsForBody;
  /** Body bytes the request's Content-Length still expects; -1 when it has none (chunked). */
  private long bodyLeft;
  private boolean closed;
  long idleSinceNanos;
  /** Already counted out of its endpoint's open connections by the pool. */
  boolean uncounted;

  Http1Connection(Http1Pool.Endpoint endpoint, ResponseDecoder decoder) {
    this.endpoint = endpoint;
    this.decoder = decoder;
  }

  // ---- the request's side ----

  /** Requests this connection carried, the one in flight included. */
  public int requests() {
    return requests;
  }

  /** Whether the connection carried a request before the one in flight. */
  public boolean reused() {
    return requests > 1;
  }

  /**
   * Starts a request: {@code head} is written (not yet flushed) and the connection's response
   * goes to {@code l}. With {@code last} the request is the connection's last.
   */
  public void send(HttpRequest head, Http1Listener l, boolean last) {
    listener = l;
    requests++;
    responseStarted = false;
    interim = false;
    if (last) {
      closeAfter = true;
    }
    decoder.headRequest(head.method() == HttpMethod.HEAD);
    // Without Content-Length or chunking the request ends with its head on the wire: the
    // upstream may answer at once, before the caller's (empty) body has been seen to end, and
    // the connection must then be reusable. Its end is written now, with the head as one
    // message (one pass through the pipeline, not two); the body's is ignored.
    boolean chunked = HttpUtil.isTransferEncodingChunked(head);
    bodyLeft = chunked ? -1 : contentLength(head);
    requestEnded = !chunked && bodyLeft == 0;
    channel.write(requestEnded ? new DefaultFullHttpRequest(head.protocolVersion(),
        head.method(), head.uri(), Unpooled.EMPTY_BUFFER, head.headers(),
        EmptyHttpHeaders.INSTANCE) : head, channel.voidPromise());
    // A head with a body to follow waits for the body's first bytes, so both leave in one write
    // (as Vert.x's client does) instead of two.
    headWaitsForBody = !requestEnded;
  }

  /**
   * The request's Content-Length, 0 without one; -1 when it is not a plain number (the caller's
   * server has checked its framing already, so the body is then simply written until it ends).
   */
  private static long contentLength(HttpRequest head) {
    String cl = head.headers().get(HttpHeaderNames.CONTENT_LENGTH);
    if (cl == null) {
      return 0;
    }
    try {
      long n = Long.parseLong(cl.trim());
      return n < 0 ? -1 : n;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Writes a piece of the request body; flushed at once unless {@link #cork corked}. The piece
   * that completes a Content-Length body goes out as the request's last content: the request
   * is then complete on the wire and the body's {@link #end} writes nothing more (a fixed-length
   * POST is one message through the pipeline and one flush, not two of each).
   */
  public void write(ByteBuf data) {
    if (closed || requestEnded) {
      ReferenceCountUtil.release(data);
      return;
    }
    headWaitsForBody = false;
    boolean last = false;
    if (bodyLeft > 0) {
      bodyLeft -= data.readableBytes();
      last = bodyLeft <= 0;
    }
    if (last) {
      requestEnded = true;
      channel.write(new DefaultLastHttpContent(data), channel.voidPromise());
    } else {
      channel.write(new DefaultHttpContent(data), channel.voidPromise());
    }
    if (!corked) {
      channel.flush();
    }
    if (last && listener == null) {
      recycle();
    }
  }

  /** Ends the request body. */
  public void end() {
    if (requestEnded) {
      return;
    }
    requestEnded = true;
    headWaitsForBody = false;
    if (closed) {
      return;
    }
    channel.write(LastHttpContent.EMPTY_LAST_CONTENT, channel.voidPromise());
    if (!corked) {
      channel.flush();
    }
    if (listener == null) {
      recycle();
    }
  }

  /** Holds flushes back while several writes are made in a row ({@code true}), then flushes. */
  public void cork(boolean cork) {
    corked = cork;
    if (!cork && !closed && !headWaitsForBody) {
      channel.flush();
    }
  }

  /** Whether the connection takes more writes without buffering beyond its high-water mark. */
  public boolean writable() {
    return channel.isWritable();
  }

  /** Stops ({@code true}) or resumes reading the response: backpressure from the caller. */
  public void pauseReading(boolean pause) {
    if (closed) {
      return;
    }
    channel.config().setAutoRead(!pause);
    if (!pause) {
      channel.read();
    }
  }

  /**
   * Gives up the request in flight: HTTP/1.1 cannot cancel one but by closing the connection.
   * The listener hears nothing more.
   */
  public void abort() {
    listener = null;
    closeAfter = true;
    close();
  }

  /** Returns a connection that was handed over but not used to the pool. */
  public void giveBack() {
    requestEnded = true;
    recycle();
  }

  /** The connection's channel, for tests and logs. */
  public Channel channel() {
    return channel;
  }

  @Override
  public String toString() {
    return "http1 " + channel;
  }

  void closeWhenDone() {
    closeAfter = true;
  }

  void close() {
    if (!closed) {
      closed = true;
      channel.close();
    }
  }

  boolean isClosed() {
    return closed || !channel.isActive();
  }

  // ---- the channel's side ----

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Http1Listener l = listener;
    if (l == null) {
      // Bytes on an idle connection (an unasked-for response, a 408 before a close): it can
      // no longer be trusted to frame the next response.
      ReferenceCountUtil.release(msg);
      close();
      return;
    }
    if (msg instanceof HttpResponse head) {
      if (head.decoderResult().isFailure()) {
        ReferenceCountUtil.release(msg);
        fail(new UpstreamResetException("malformed response from upstream: "
            + head.decoderResult().cause().getMessage(), true));
        return;
      }
      if (decoder.takeConflictingFraming()) {
        ReferenceCountUtil.release(msg);
        fail(new UpstreamResetException("response with both Content-Length and "
            + "Transfer-Encoding from upstream (expected: one of them)", true));
        return;
      }
      int code = head.status().code();
      if (code >= 100 && code < 200 && code != 101) {
        interim = true;
        ReferenceCountUtil.release(msg);
        return;
      }
      responseStarted = true;
      if (!HttpUtil.isKeepAlive(head)) {
        closeAfter = true;
      }
      l.onResponseHead(head);
      if (msg instanceof HttpContent) {
        deliverContent((HttpContent) msg);
      }
      return;
    }
    if (msg instanceof HttpContent content) {
      if (content.decoderResult().isFailure()) {
        content.release();
        fail(new UpstreamResetException("malformed response body from upstream: "
            + content.decoderResult().cause().getMessage(), true));
        return;
      }
      if (interim) {
        if (content instanceof LastHttpContent) {
          interim = false;
        }
        content.release();
        return;
      }
      deliverContent(content);
      return;
    }
    ReferenceCountUtil.release(msg);
  }

  private void deliverContent(HttpContent content) {
    Http1Listener l = listener;
    if (l == null) {
      content.release();
      return;
    }
    if (content instanceof LastHttpContent last) {
      listener = null;
      if (!requestEnded) {
        // The server answered before the request body ended: the rest cannot follow on this
        // connection.
        closeAfter = true;
      }
      l.onResponseEnd(last);
      recycle();
    } else {
      l.onResponseContent(content);
    }
  }

  private void fail(Throwable cause) {
    Http1Listener l = listener;
    listener = null;
    close();
    if (l != null) {
      l.onReset(cause, responseStarted);
    }
  }

  private void recycle() {
    if (listener != null || !requestEnded) {
      return;
    }
    if (closeAfter || closed) {
      close();
    } else {
      if (!channel.config().isAutoRead()) {
        channel.config().setAutoRead(true);
      }
      endpoint.release(this);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Http1Listener l = listener;
    if (l != null) {
      l.onWritabilityChanged(ctx.channel().isWritable());
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closed = true;
    Http1Listener l = listener;
    listener = null;
    endpoint.closed(this);
    if (l != null) {
      l.onReset(new UpstreamResetException("upstream closed the connection"), responseStarted);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    fail(cause instanceof UpstreamResetException ? cause
        : new UpstreamResetException("upstream connection failed: " + cause));
  }
}
