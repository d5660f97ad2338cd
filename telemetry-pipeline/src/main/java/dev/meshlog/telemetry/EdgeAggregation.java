package dev.meshlog.telemetry;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import com.datadoghq.sketch.ddsketch.DDSketch;
import dev.meshlog.events.telemetry.EdgeEnd;
import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.RequestEvent;

/**
 * How request events fold into an {@link EdgeMetrics} aggregate, and how aggregates of the same
 * edge (other windows, other instances) merge. Counts and bytes add; the latency sketches merge
 * exactly; the quantiles are recomputed from the merged sketch; the maximum is exact.
 */
public final class EdgeAggregation {

  /** The quantiles each aggregate carries: p50, p90, p99. */
  private static final double[] QUANTILES = {0.50, 0.90, 0.99};

  private final double relativeAccuracy;

  /** @param relativeAccuracy of new sketches, e.g. {@link LatencySketch#DEFAULT_RELATIVE_ACCURACY} */
  public EdgeAggregation(double relativeAccuracy) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) {
      throw new IllegalArgumentException("relativeAccuracy: " + relativeAccuracy + " (expected: 0 < a < 1)");
    }
    this.relativeAccuracy = relativeAccuracy;
  }

  /** The relative accuracy of the sketches this aggregation makes. */
  public double relativeAccuracy() {
    return relativeAccuracy;
  }

  /** An aggregate of nothing (the window and edge are filled in by the first event or later). */
  public EdgeMetrics empty() {
    EdgeEnd none = EdgeEnd.newBuilder().setService("").build();
    return EdgeMetrics.newBuilder()
        .setSource(none).setDestination(none)
        .setWindowStart(Instant.EPOCH).setWindowEnd(Instant.EPOCH)
        .setResponseFlags(new HashMap<>())
        .setLatencySketch(ByteBuffer.wrap(new byte[0]))
        .setLatencySketchFormat(LatencySketch.FORMAT)
        .setLatencyRelativeAccuracy(relativeAccuracy)
        .setUpdatedAt(Instant.EPOCH)
        .build();
  }

  /**
   * {@code aggregate} plus one request. {@code updatedAt} becomes the latest event time folded
   * in (event time, not wall-clock time, so replays give the same output).
   */
  public EdgeMetrics add(EdgeMetrics aggregate, RequestEvent event) {
    return add(aggregate, EdgeCall.of(event));
  }

  /** {@code aggregate} plus one request, as it travels to the aggregates (see {@link EdgeCall}). */
  public EdgeMetrics add(EdgeMetrics aggregate, EdgeCall event) {
    Edge edge = event.edge();
    EdgeMetrics.Builder b = EdgeMetrics.newBuilder(aggregate)
        .setSource(edge.source().toAvro())
        .setDestination(edge.destination().toAvro());
    b.setRequests(b.getRequests() + 1);
    int code = event.responseCode();
    if (code <= 0) {
      b.setNoResponse(b.getNoResponse() + 1).setErrors(b.getErrors() + 1);
    } else if (code < 200) {
      b.setResponses1xx(b.getResponses1xx() + 1);
    } else if (code < 300) {
      b.setResponses2xx(b.getResponses2xx() + 1);
    } else if (code < 400) {
      b.setResponses3xx(b.getResponses3xx() + 1);
    } else if (code < 500) {
      b.setResponses4xx(b.getResponses4xx() + 1);
    } else {
      b.setResponses5xx(b.getResponses5xx() + 1).setErrors(b.getErrors() + 1);
    }
    Map<String, Long> flags = new HashMap<>(b.getResponseFlags());
    for (String flag : event.responseFlags()) {
      if (flag != null && !flag.isBlank() && !flag.equals("-")) {
        flags.merge(flag, 1L, Long::sum);
      }
    }
    b.setResponseFlags(flags);
    b.setRequestBytes(b.getRequestBytes() + Math.max(0, event.requestBytes()));
    b.setResponseBytes(b.getResponseBytes() + Math.max(0, event.responseBytes()));
    double millis = Math.max(0, event.durationMicros()) / 1000.0;
    double accuracy = aggregate.getLatencyRelativeAccuracy() > 0
        ? aggregate.getLatencyRelativeAccuracy() : relativeAccuracy;
    DDSketch sketch = LatencySketch.decode(aggregate.getLatencySketch(), accuracy);
    sketch.accept(millis);
    b.setLatencyMaxMillis(Math.max(aggregate.getLatencyMaxMillis(), millis));
    Instant time = Instant.ofEpochMilli(event.startMillis());
    if (time.isAfter(b.getUpdatedAt())) {
      b.setUpdatedAt(time);
    }
    return withSketch(b, sketch, accuracy).build();
  }

  /**
   * The two aggregates of one edge as one: for windows of an edge over a time range, or for the
   * same window read from two instances. The window is the union of both.
   */
  public EdgeMetrics merge(EdgeMetrics a, EdgeMetrics b) {
    if (a.getRequests() == 0 && a.getSource().getService().isEmpty()) {
      return b;
    }
    if (b.getRequests() == 0 && b.getSource().getService().isEmpty()) {
      return a;
    }
    Map<String, Long> flags = new HashMap<>(a.getResponseFlags());
    b.getResponseFlags().forEach((k, v) -> flags.merge(k, v, Long::sum));
    DDSketch sketch = LatencySketch.decode(a.getLatencySketch(), a.getLatencyRelativeAccuracy());
    sketch.mergeWith(LatencySketch.decode(b.getLatencySketch(), b.getLatencyRelativeAccuracy()));
    EdgeMetrics.Builder m = EdgeMetrics.newBuilder(a)
        .setWindowStart(min(a.getWindowStart(), b.getWindowStart()))
        .setWindowEnd(max(a.getWindowEnd(), b.getWindowEnd()))
        .setRequests(a.getRequests() + b.getRequests())
        .setResponses1xx(a.getResponses1xx() + b.getResponses1xx())
        .setResponses2xx(a.getResponses2xx() + b.getResponses2xx())
        .setResponses3xx(a.getResponses3xx() + b.getResponses3xx())
        .setResponses4xx(a.getResponses4xx() + b.getResponses4xx())
        .setResponses5xx(a.getResponses5xx() + b.getResponses5xx())
        .setNoResponse(a.getNoResponse() + b.getNoResponse())
        .setErrors(a.getErrors() + b.getErrors())
        .setResponseFlags(flags)
        .setRequestBytes(a.getRequestBytes() + b.getRequestBytes())
        .setResponseBytes(a.getResponseBytes() + b.getResponseBytes())
        .setLatencyMaxMillis(Math.max(a.getLatencyMaxMillis(), b.getLatencyMaxMillis()))
        .setUpdatedAt(max(a.getUpdatedAt(), b.getUpdatedAt()));
    return withSketch(m, sketch,
        Math.max(a.getLatencyRelativeAccuracy(), b.getLatencyRelativeAccuracy())).build();
  }

  /**
   * Stores the sketch and its quantiles. The stated accuracy is the one asked for: the sketch's
   * mapping is at least that accurate (its own figure is a hair below, e.g. 0.00999...).
   */
  private static EdgeMetrics.Builder withSketch(EdgeMetrics.Builder b, DDSketch sketch, double accuracy) {
    double[] quantiles = LatencySketch.quantiles(sketch, QUANTILES);
    return b.setLatencySketch(ByteBuffer.wrap(LatencySketch.encode(sketch)))
        .setLatencySketchFormat(LatencySketch.FORMAT)
        .setLatencyRelativeAccuracy(accuracy)
        .setLatencyP50Millis(quantiles[0])
        .setLatencyP90Millis(quantiles[1])
        .setLatencyP99Millis(quantiles[2]);
  }

  /** When a request started, in milliseconds: the time its windows are chosen by. */
  public static Instant eventTime(RequestEvent event) {
    return event.getStartTime();
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  private static Instant max(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }
}
