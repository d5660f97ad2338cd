package dev.meshlog.proxy.upstream;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * What one request on an {@link Http1Connection} hears back; every call runs on the pool's event
 * loop. Content passed in is the listener's to release.
 */
public interface Http1Listener {

  /** The response's head (interim 1xx responses are skipped). */
  void onResponseHead(HttpResponse head);

  /** A piece of the response body; the listener releases it. */
  void onResponseContent(HttpContent content);

  /** The end of the response, with trailers if any; the listener releases it. */
  void onResponseEnd(LastHttpContent last);

  /**
   * The connection failed or closed before the response ended: malformed or conflicting
   * framing, a reset, or the peer closing.
   *
   * @param responseStarted whether anything of the response had arrived
   */
  void onReset(Throwable cause, boolean responseStarted);

  /** The connection's write buffer went above or back below its high-water mark. */
  void onWritabilityChanged(boolean writable);
}
