package dev.meshlog.proxy.http;

import java.time.Duration;

/**
 * Limits that protect a listener from hostile or broken clients, and bound what it buffers.
 *
 * @param maxHeaderBytes largest request header block; beyond it the answer is 431
 * @param maxHeaders most request headers; beyond it the answer is 431
 * @param maxInitialLineBytes longest request line; beyond it the answer is 414
 * @param idleTimeout a connection with no traffic either way for this long is closed: this
 *     bounds clients that stall mid-body, and keep-alive connections between requests
 * @param retryBufferBytes request body kept for retries and mirrors; beyond it, no retry
 * @param headerTimeout an HTTP/1.x request's headers must all arrive within this long of its
 *     first byte, else the answer is 408 and the connection is closed (slowloris); zero = none
 */
public record ListenerLimits(int maxHeaderBytes, int maxHeaders, int maxInitialLineBytes,
                             Duration idleTimeout, int retryBufferBytes, Duration headerTimeout) {

  /** Envoy's default limit of a header block ({@code max_request_headers_kb}: 60 KiB). */
  public static final int ENVOY_HEADER_BYTES = 60 * 1024;

  /**
   * 60 KiB of headers and 100 header lines (Envoy's defaults, which Istio keeps: requests with
   * large cookies or tokens that pass Istio pass here), 16 KiB request line, 5 min idle, 64 KiB
   * retry buffer, 10 s for request headers.
   */
  public static final ListenerLimits DEFAULT = new ListenerLimits(ENVOY_HEADER_BYTES, 100,
      16 * 1024, Duration.ofMinutes(5), 64 * 1024, Duration.ofSeconds(10));

  /** Limits with the default header deadline (10 s). */
  public ListenerLimits(int maxHeaderBytes, int maxHeaders, int maxInitialLineBytes,
                        Duration idleTimeout, int retryBufferBytes) {
    this(maxHeaderBytes, maxHeaders, maxInitialLineBytes, idleTimeout, retryBufferBytes,
        Duration.ofSeconds(10));
  }

  public ListenerLimits {
    headerTimeout = headerTimeout == null ? Duration.ZERO : headerTimeout;
  }

  /** These limits with another idle timeout. */
  public ListenerLimits withIdleTimeout(Duration d) {
    return new ListenerLimits(maxHeaderBytes, maxHeaders, maxInitialLineBytes, d,
        retryBufferBytes, headerTimeout);
  }

  /** These limits with another deadline for request headers (zero: none). */
  public ListenerLimits withHeaderTimeout(Duration d) {
    return new ListenerLimits(maxHeaderBytes, maxHeaders, maxInitialLineBytes, idleTimeout,
        retryBufferBytes, d);
  }
}
