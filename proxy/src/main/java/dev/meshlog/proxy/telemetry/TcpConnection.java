package dev.meshlog.proxy.telemetry;

import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.AccessLogEntry;

/**
 * An open TCP connection as the {@link TelemetryEmitter} follows it: its relay counts the bytes
 * here as they pass (the same writes the {@code istio_tcp_*} counters count), and the emitter's
 * thread turns them into reports, each with the bytes since the previous one.
 *
 * <p>The byte counts have one writer, the connection's event loop (a volatile store each, no
 * lock); the emitter's thread reads them. Everything else is the emitter thread's own.
 */
final class TcpConnection implements AccessLog.TcpBytes {

  final TelemetryEmitter owner;
  /** The connection's entry when it opened: who, where, when. */
  final AccessLogEntry opening;
  private volatile long towards;
  private volatile long from;
  /** Set on the event loop when the connection closed; the sweep then leaves it be. */
  volatile boolean closing;

  // the emitter thread's
  /** Bytes reported so far each way. */
  long reportedTowards;
  long reportedFrom;
  long reportedMicros;
  boolean openedReported;
  /** Its last report is made: nothing more of it is reported. */
  boolean finished;
  /** When ({@code Clock.millis}) its next interim report is due. */
  long nextReportMillis;

  TcpConnection(TelemetryEmitter owner, AccessLogEntry opening) {
    this.owner = owner;
    this.opening = opening;
  }

  @Override
  public void towardsDestination(long bytes) {
    towards += bytes; // one writer: the connection's event loop
  }

  @Override
  public void fromDestination(long bytes) {
    from += bytes;
  }

  /**
   * The report of the bytes since the previous one, as of {@code entry} (the opening entry for
   * an interim report, the final entry at close), open for {@code micros}; records it as
   * reported. For the emitter's thread.
   */
  TcpEvent report(AccessLogEntry entry, long micros, boolean last) {
    long t = towards;
    long f = from;
    long duration = Math.max(micros, reportedMicros);
    TcpEvent e = new TcpEvent(entry, t - reportedTowards, f - reportedFrom, duration,
        openedReported ? 0 : Math.max(0, opening.attempts() - 1), !openedReported, last);
    reportedTowards = t;
    reportedFrom = f;
    reportedMicros = duration;
    openedReported = true;
    finished = last;
    return e;
  }
}
