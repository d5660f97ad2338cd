package dev.meshlog.telemetry.query;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.meshlog.events.telemetry.EdgeEnd;
import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.telemetry.EdgeAggregation;

/**
 * One service-to-service edge over time, one point per window, all versions of both ends merged.
 *
 * @param source {@code namespace/service} of the caller
 * @param destination {@code namespace/service} of the callee
 * @param step the window size
 * @param points one per window with traffic (requests or TCP connections), in time order
 * @param unreachable instances that did not answer
 */
public record EdgeSeries(String source, String destination, Duration step, List<Point> points,
                         List<String> unreachable) {

  /**
   * One window of the edge.
   *
   * @param start window start
   * @param stats the window's traffic (rate per second of the window)
   */
  public record Point(Instant start, EdgeStats stats) {}

  /** The series of the windows given (already filtered to the edge). */
  public static EdgeSeries of(String source, String destination, Duration step,
                              List<EdgeMetrics> windows, EdgeAggregation aggregation,
                              List<String> unreachable) {
    Map<Instant, EdgeMetrics> byStart = new TreeMap<>();
    for (EdgeMetrics w : windows) {
      // Versions are merged: a point's ends read "*".
      EdgeMetrics allVersions = EdgeMetrics.newBuilder(w)
          .setSource(EdgeEnd.newBuilder(w.getSource()).setVersion("*").build())
          .setDestination(EdgeEnd.newBuilder(w.getDestination()).setVersion("*").build())
          .build();
      byStart.merge(w.getWindowStart(), allVersions, aggregation::merge);
    }
    List<Point> points = new ArrayList<>();
    double seconds = step.toMillis() / 1000.0;
    byStart.forEach((start, merged) -> {
      if (merged.getRequests() > 0 || EdgeAggregation.hasTcp(merged)) { // a window may hold only a reported loss: no traffic
        points.add(new Point(start, EdgeStats.of(merged, seconds)));
      }
    });
    return new EdgeSeries(source, destination, step, points, List.copyOf(unreachable));
  }
}
