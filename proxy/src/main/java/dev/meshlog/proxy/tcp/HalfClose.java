package dev.meshlog.proxy.tcp;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.StreamChannelInternal;
import io.vertx.core.net.NetSocket;
import io.vertx.core.streams.impl.InboundBuffer;

/**
 * TCP half-close for Vert.x sockets, which Vert.x 5's public {@code NetSocket} does not offer:
 * its {@code end()} closes the whole socket, and by default Netty closes a channel as soon as the
 * peer shuts down its output (a FIN). Through Vert.x's internal {@link StreamChannelInternal}
 * the socket's Netty channel is reached: {@link ChannelOption#ALLOW_HALF_CLOSURE} keeps it open
 * after a FIN, a small handler turns Netty's {@link ChannelInputShutdownEvent} into the end of
 * the Vert.x read stream (queued behind the data already read, so nothing is overtaken), and
 * {@link DuplexChannel#shutdownOutput()} sends our FIN once the writes queued before it are out.
 * Relies on Vert.x internals ({@code io.vertx.core.internal.net}, {@code InboundBuffer.END_SENTINEL});
 * a socket where they do not apply (not a duplex channel, TLS) is reported as unsupported and
 * relayed as before, closing both sides together.
 */
final class HalfClose {

  private static final String HANDLER = "meshlog-half-close";

  private HalfClose() {}

  /**
   * Lets {@code socket} stay open after its peer's FIN, which then ends its read stream (its
   * {@code endHandler}, after the data before it); call it before the socket's first read.
   *
   * @return whether the socket supports half-close
   */
  static boolean enable(NetSocket socket) {
    if (!(socket instanceof StreamChannelInternal internal)) {
      return false;
    }
    ChannelHandlerContext ctx = internal.channelHandlerContext();
    Channel channel = ctx.channel();
    if (!(channel instanceof DuplexChannel) || ctx.pipeline().get(SslHandler.class) != null) {
      return false;
    }
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    if (ctx.pipeline().get(HANDLER) == null) {
      ctx.pipeline().addBefore(ctx.name(), HANDLER, new EndOfInput());
    }
    return true;
  }

  /**
   * Shuts down {@code socket}'s output (sends a FIN) once what was written before is written;
   * the socket keeps reading. Only for sockets {@link #enable} accepted.
   */
  static Future<Void> shutdownOutput(NetSocket socket) {
    DuplexChannel channel = (DuplexChannel) ((StreamChannelInternal) socket)
        .channelHandlerContext().channel();
    // An empty write completes after every write queued before it: then nothing is cut off.
    return socket.write(Buffer.buffer()).compose(v -> {
      Promise<Void> done = Promise.promise();
      channel.shutdownOutput().addListener(f -> {
        if (f.isSuccess()) {
          done.complete();
        } else {
          done.fail(f.cause());
        }
      });
      return done.future();
    });
  }

  /** Turns the peer's FIN into the end of the Vert.x read stream, in order with the data. */
  private static final class EndOfInput extends ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt == ChannelInputShutdownEvent.INSTANCE) {
        ctx.fireChannelRead(InboundBuffer.END_SENTINEL);
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public boolean isSharable() {
      return false;
    }
  }
}
