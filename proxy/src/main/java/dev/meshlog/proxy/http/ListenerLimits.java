package dev.meshlog.proxy.http;

import java.time.Duration;

/**
 * Limits that protect a listener from hostile or broken clients, and bound what it buffers.
 *
 * @param maxHeaderBytes largest request header block; beyond it the answer is 431
 * @param maxHeaders most request headers; beyond it the answer is 431
 * @param maxInitialLineBytes longest request line; beyond it the answer is 414
 * @param headerTimeout a new connection must deliver its first request's headers within this
 * @param idleTimeout a connection with no traffic for this long is closed
 * @param retryBufferBytes request body kept for retries and mirrors; beyond it, no retry
 */
public record ListenerLimits(int maxHeaderBytes, int maxHeaders, int maxInitialLineBytes,
                             Duration headerTimeout, Duration idleTimeout, int retryBufferBytes) {

  /** 8 KiB of headers, 100 headers, 10 s to send headers, 5 min idle, 64 KiB retry buffer. */
  public static final ListenerLimits DEFAULT = new ListenerLimits(8192, 100, 4096,
      Duration.ofSeconds(10), Duration.ofMinutes(5), 64 * 1024);

  /** These limits with another header timeout. */
  public ListenerLimits withHeaderTimeout(Duration d) {
    return new ListenerLimits(maxHeaderBytes, maxHeaders, maxInitialLineBytes, d, idleTimeout,
        retryBufferBytes);
  }
}
