package dev.meshlog.proxy.telemetry;

import dev.meshlog.proxy.http.AccessLogEntry;

/**
 * One report of a relayed TCP connection, as the emitter encodes it: the connection's entry
 * (who, where, when it opened, its flags) and what this report adds to the connection's earlier
 * ones.
 *
 * @param entry the connection's entry: when it opened, at close its final one (with its flags)
 * @param requestBytes bytes received from the connection's client since the previous report
 * @param responseBytes bytes sent back to it since the previous report
 * @param durationMicros how long the connection had been open at this report
 * @param retries connects tried again before it opened (on the first report only, else 0)
 * @param opened whether this is the connection's first report
 * @param closed whether this is its last
 */
record TcpEvent(AccessLogEntry entry, long requestBytes, long responseBytes, long durationMicros,
                int retries, boolean opened, boolean closed) {

  /** The only report of a connection that never opened (or whose opening was not counted). */
  static TcpEvent alone(AccessLogEntry closing) {
    return new TcpEvent(closing, Math.max(0, closing.bytesReceived()),
        Math.max(0, closing.bytesSent()), micros(closing), Math.max(0, closing.attempts() - 1),
        true, true);
  }

  /** How long the connection of {@code e} had been open when {@code e} was made. */
  static long micros(AccessLogEntry e) {
    return e.durationMicros() >= 0 ? e.durationMicros() : e.durationMillis() * 1_000;
  }
}
