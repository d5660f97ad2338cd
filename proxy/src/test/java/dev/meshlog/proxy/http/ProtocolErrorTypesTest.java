package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.StreamResetException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Which failures of Vert.x's HTTP/1 client are the upstream's protocol errors (502 UPE), read
 * by type: each malformed response is fed to Netty's own client codec (as Vert.x's client runs
 * it), and the cause its decoder result carries — what Vert.x passes to the request — must be
 * read as a protocol error. A Netty or Vert.x upgrade that changes those types fails here.
 */
class ProtocolErrorTypesTest {

  /** The decoder's cause for {@code response}, after a GET went out. */
  private static Throwable decoderCause(String response) {
    EmbeddedChannel ch = new EmbeddedChannel(new HttpClientCodec(4096, 61_440, 8192));
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
    ch.releaseOutbound();
    ch.writeInbound(Unpooled.copiedBuffer(response, StandardCharsets.ISO_8859_1));
    Throwable cause = null;
    for (Object o; (o = ch.readInbound()) != null; ) {
      if (o instanceof HttpObject h && h.decoderResult().isFailure() && cause == null) {
        cause = h.decoderResult().cause();
      }
      io.netty.util.ReferenceCountUtil.release(o);
    }
    ch.finishAndReleaseAll();
    return cause;
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "SSH-2.0-OpenSSH_9.6\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\nhello",
      "HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
      "HTTP/1.1 200 OK\r\nx-long: %s\r\nContent-Length: 0\r\n\r\n"})
  void netty4sDecoderFailuresAreProtocolErrors(String response) {
    Throwable cause = decoderCause(response.replace("%s", "a".repeat(70_000)));

    assertThat(cause).as("the decoder refuses %s", response.lines().findFirst().orElse(""))
        .isNotNull();
    assertThat(ProxyExchange.httpCodecFailure(cause)).as(cause.toString()).isTrue();
    // Wrapped, as a later Vert.x might pass it on, it is read the same.
    assertThat(ProxyExchange.httpCodecFailure(new VertxException(cause))).isTrue();
  }

  @Test
  void anHttpVersionVertxDoesNotSpeakIsAProtocolError() {
    assertThat(ProxyExchange.httpCodecFailure(
        new IllegalStateException("Unsupported HTTP version: HTTP/2.0"))).isTrue();
  }

  @Test
  void aClosedOrBrokenConnectionIsNot() {
    assertThat(ProxyExchange.httpCodecFailure(new HttpClosedException("closed"))).isFalse();
    assertThat(ProxyExchange.httpCodecFailure(new IOException("Connection reset by peer")))
        .isFalse();
    assertThat(ProxyExchange.httpCodecFailure(new PrematureChannelClosureException("closed")))
        .isFalse();
    assertThat(ProxyExchange.httpCodecFailure(new StreamResetException(8))).isFalse();
    assertThat(ProxyExchange.httpCodecFailure(new VertxException("timeout"))).isFalse();
    assertThat(ProxyExchange.httpCodecFailure(null)).isFalse();
  }
}
