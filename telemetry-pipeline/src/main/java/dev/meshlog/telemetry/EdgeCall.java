package dev.meshlog.telemetry;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.meshlog.events.telemetry.RequestEvent;

/**
 * What aggregation needs of one counted request, and nothing else: the immutable value
 * {@link EdgeAggregation#add(dev.meshlog.events.telemetry.EdgeMetrics, EdgeCall)} folds. (The
 * pipeline itself reads events with {@link RequestReader} into a reused, mutable call.)
 *
 * @param edge the edge the request travelled
 * @param responseCode HTTP/gRPC status, 0 when there was no response
 * @param responseFlags Envoy response flags as reported ({@code -} and blanks are ignored later)
 * @param requestBytes request body bytes
 * @param responseBytes response body bytes
 * @param durationMicros how long the request took
 * @param startMillis when it started (event time), epoch milliseconds; a TCP report's own time
 *     (its connection's start plus {@code durationMicros})
 * @param tcp null for a request; for a TCP connection report, where it falls in its
 *     connection's life (then {@code requestBytes} are the bytes received from the client since
 *     the previous report, {@code responseBytes} those sent back)
 */
public record EdgeCall(Edge edge, int responseCode, List<String> responseFlags, long requestBytes,
                       long responseBytes, long durationMicros, long startMillis, Tcp tcp) {

  /**
   * Where a TCP report falls in its connection's life.
   *
   * @param opened the connection's first report
   * @param closed the connection's last report
   */
  public record Tcp(boolean opened, boolean closed) {}

  public EdgeCall {
    Objects.requireNonNull(edge, "edge");
    responseFlags = responseFlags == null ? List.of() : List.copyOf(responseFlags);
  }

  /** A request (not a TCP report). */
  public EdgeCall(Edge edge, int responseCode, List<String> responseFlags, long requestBytes,
                  long responseBytes, long durationMicros, long startMillis) {
    this(edge, responseCode, responseFlags, requestBytes, responseBytes, durationMicros, startMillis, null);
  }

  /** The part of {@code event} aggregation reads. */
  public static EdgeCall of(RequestEvent event) {
    List<String> flags = new ArrayList<>(event.getResponseFlags().size());
    for (CharSequence flag : event.getResponseFlags()) {
      if (flag != null) {
        flags.add(flag.toString());
      }
    }
    return new EdgeCall(Edge.of(event), event.getResponseCode(), flags, event.getRequestBytes(),
        event.getResponseBytes(), event.getDurationMicros(),
        EdgeAggregation.eventTime(event).toEpochMilli(),
        event.getTcp() == null ? null : new Tcp(event.getTcp().getOpened(), event.getTcp().getClosed()));
  }
}
