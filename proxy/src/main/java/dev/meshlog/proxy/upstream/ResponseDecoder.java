package dev.meshlog.proxy.upstream;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.vertx.core.http.impl.headers.Http1xHeaders;

/**
 * Netty's response decoder made strict and aware of the request: a response to HEAD has no body,
 * and a response carrying both {@code Content-Length} and {@code Transfer-Encoding} is marked
 * (Netty would drop the length and carry on; a proxy must not guess, so the exchange is reset).
 * Headers are decoded into Vert.x's header map, so they reach the caller's response without a copy
 * into another type.
 */
final class ResponseDecoder extends HttpResponseDecoder {

  /** Vert.x's HTTP/1 header map, which is also a Netty {@code HttpHeaders}. */
  private static final HttpHeadersFactory VERTX_HEADERS = new HttpHeadersFactory() {
    @Override
    public io.netty.handler.codec.http.HttpHeaders newHeaders() {
      return Http1xHeaders.httpHeaders();
    }

    @Override
    public io.netty.handler.codec.http.HttpHeaders newEmptyHeaders() {
      return Http1xHeaders.httpHeaders();
    }
  };

  private boolean headRequest;
  private boolean conflictingFraming;

  ResponseDecoder() {
    super(new HttpDecoderConfig().setMaxInitialLineLength(4096)
        .setMaxHeaderSize(dev.meshlog.proxy.http.ListenerLimits.ENVOY_HEADER_BYTES)
        .setMaxChunkSize(16384).setHeadersFactory(VERTX_HEADERS)
        .setTrailersFactory(VERTX_HEADERS).setAllowDuplicateContentLengths(false));
  }

  /** The request now in flight is a HEAD: its response has no body whatever it says. */
  void headRequest(boolean head) {
    this.headRequest = head;
  }

  /** Whether the last response head had both Content-Length and Transfer-Encoding; clears it. */
  boolean takeConflictingFraming() {
    boolean c = conflictingFraming;
    conflictingFraming = false;
    return c;
  }

  @Override
  protected boolean isContentAlwaysEmpty(HttpMessage msg) {
    return headRequest || super.isContentAlwaysEmpty(msg);
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    conflictingFraming = true;
    super.handleTransferEncodingChunkedWithContentLength(message);
  }
}
