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
 * @param startMillis when it started (event time), epoch milliseconds
 */
public record EdgeCall(Edge edge, int responseCode, List<String> responseFlags, long requestBytes,
                       long responseBytes, long durationMicros, long startMillis) {

  public EdgeCall {
    Objects.requireNonNull(edge, "edge");
    responseFlags = responseFlags == null ? List.of() : List.copyOf(responseFlags);
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
        EdgeAggregation.eventTime(event).toEpochMilli());
  }
}
