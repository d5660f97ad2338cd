package dev.meshlog.proxy.http;

import java.time.Duration;

/**
 * Limits that protect a listener from hostile or broken clients, and bound what it buffers.
 *
 * @param maxHeaderBytes largest request header block; beyond it the answer is 431
 * @param maxHeaders most request headers; beyond it the answer is 431
 * @param maxInitialLineBytes longest request line; beyond it the answer is 414
 * @param idleTimeout a connection with no traffic either way for this long is closed: this
 *     bounds clients that stall mid-headers or mid-body (Vert.x offers no separate deadline
 *     for request headers)
 * @param retryBufferBytes request body kept for retries and mirrors; beyond it, no retry
 */
public record ListenerLimits(int maxHeaderBytes, int maxHeaders, int maxInitialLineBytes,
                             Duration idleTimeout, int retryBufferBytes) {

  /** 8 KiB of headers, 100 headers, 4 KiB request line, 5 min idle, 64 KiB retry buffer. */
  public static final ListenerLimits DEFAULT = new ListenerLimits(8192, 100, 4096,
      Duration.ofMinutes(5), 64 * 1024);

  /** These limits with another idle timeout. */
  public ListenerLimits withIdleTimeout(Duration d) {
    return new ListenerLimits(maxHeaderBytes, maxHeaders, maxInitialLineBytes, d,
        retryBufferBytes);
  }
}
