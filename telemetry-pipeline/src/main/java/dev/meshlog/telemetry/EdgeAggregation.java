package dev.meshlog.telemetry;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
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
    return published(addInPlace(EdgeMetrics.newBuilder(aggregate).build(), event));
  }

  /**
   * {@code metrics} with its sketch in the published format ({@link LatencySketch#FORMAT}): the
   * stores keep {@link LatencySketch#STORE_FORMAT}, whatever leaves the pipeline is protobuf.
   * Returns {@code metrics} itself when it already is.
   */
  public static EdgeMetrics published(EdgeMetrics metrics) {
    if (!LatencySketch.STORE_FORMAT.equals(metrics.getLatencySketchFormat())) {
      return metrics;
    }
    return EdgeMetrics.newBuilder(metrics)
        .setLatencySketch(ByteBuffer.wrap(LatencySketch.encode(LatencySketch.decode(metrics))))
        .setLatencySketchFormat(LatencySketch.FORMAT)
        .build();
  }

  /**
   * Folds one request into {@code aggregate} itself and returns it, its sketch in
   * {@link LatencySketch#STORE_FORMAT}; {@link #add} runs it on a copy. (The topology folds
   * into {@link MutableAggregate} instead, which keeps the sketch decoded between commits;
   * {@code MutableAggregateTest} holds the two to the same results.)
   */
  EdgeMetrics addInPlace(EdgeMetrics m, EdgeCall event) {
    if (m.getRequests() == 0 || m.getSource().getService().isEmpty()) {
      Edge edge = event.edge();
      m.setSource(edge.source().toAvro());
      m.setDestination(edge.destination().toAvro());
    }
    double accuracy = m.getLatencyRelativeAccuracy() > 0 ? m.getLatencyRelativeAccuracy() : relativeAccuracy;
    DDSketch sketch = LatencySketch.decode(m.getLatencySketch(), m.getLatencySketchFormat(), accuracy);
    if (event.tcp() != null) {
      addTcp(m, event);
    } else {
      addRequest(m, event, sketch);
    }
    double[] quantiles = LatencySketch.quantiles(sketch, QUANTILES);
    m.setLatencySketch(ByteBuffer.wrap(LatencySketch.encodeCompact(sketch)));
    m.setLatencySketchFormat(LatencySketch.STORE_FORMAT);
    m.setLatencyRelativeAccuracy(accuracy);
    m.setLatencyP50Millis(quantiles[0]);
    m.setLatencyP90Millis(quantiles[1]);
    m.setLatencyP99Millis(quantiles[2]);
    return m;
  }

  private static void addRequest(EdgeMetrics m, EdgeCall event, DDSketch sketch) {
    m.setRequests(m.getRequests() + 1);
    int code = event.responseCode();
    if (code <= 0) {
      m.setNoResponse(m.getNoResponse() + 1);
      m.setErrors(m.getErrors() + 1);
    } else if (code < 200) {
      m.setResponses1xx(m.getResponses1xx() + 1);
    } else if (code < 300) {
      m.setResponses2xx(m.getResponses2xx() + 1);
    } else if (code < 400) {
      m.setResponses3xx(m.getResponses3xx() + 1);
    } else if (code < 500) {
      m.setResponses4xx(m.getResponses4xx() + 1);
    } else {
      m.setResponses5xx(m.getResponses5xx() + 1);
      m.setErrors(m.getErrors() + 1);
    }
    countFlags(m, event.responseFlags());
    m.setRequestBytes(m.getRequestBytes() + Math.max(0, event.requestBytes()));
    m.setResponseBytes(m.getResponseBytes() + Math.max(0, event.responseBytes()));
    double millis = Math.max(0, event.durationMicros()) / 1000.0;
    sketch.accept(millis);
    m.setLatencyMaxMillis(Math.max(m.getLatencyMaxMillis(), millis));
    Instant time = Instant.ofEpochMilli(event.startMillis());
    if (time.isAfter(m.getUpdatedAt())) {
      m.setUpdatedAt(time);
    }
  }

  /**
   * A TCP connection report folded into {@code m}: its TCP fields only (opened, closed, bytes
   * each way; a closing report with response flags is a failed connection, its flags counted in
   * {@code responseFlags}), and {@code updatedAt}.
   */
  private static void addTcp(EdgeMetrics m, EdgeCall event) {
    EdgeCall.Tcp tcp = event.tcp();
    if (tcp.opened()) {
      m.setTcpConnectionsOpened(m.getTcpConnectionsOpened() + 1);
    }
    if (tcp.closed()) {
      m.setTcpConnectionsClosed(m.getTcpConnectionsClosed() + 1);
      if (countFlags(m, event.responseFlags())) {
        m.setTcpFailedConnections(m.getTcpFailedConnections() + 1);
      }
    }
    m.setTcpReceivedBytes(m.getTcpReceivedBytes() + Math.max(0, event.requestBytes()));
    m.setTcpSentBytes(m.getTcpSentBytes() + Math.max(0, event.responseBytes()));
    Instant time = Instant.ofEpochMilli(event.startMillis());
    if (time.isAfter(m.getUpdatedAt())) {
      m.setUpdatedAt(time);
    }
  }

  /**
   * Counts each of {@code responseFlags} in {@code m}'s (blank and {@code -} are no flag);
   * whether there was one.
   */
  private static boolean countFlags(EdgeMetrics m, List<String> responseFlags) {
    Map<String, Long> flags = null;
    for (String flag : responseFlags) {
      if (MutableAggregate.isFlag(flag)) {
        if (flags == null) {
          flags = new HashMap<>(m.getResponseFlags());
        }
        flags.merge(flag, 1L, Long::sum);
      }
    }
    if (flags != null) {
      m.setResponseFlags(flags);
    }
    return flags != null;
  }

  /** Whether {@code m} holds nothing yet: no request, TCP report or loss, and no edge. */
  private static boolean isEmpty(EdgeMetrics m) {
    return m.getRequests() == 0 && m.getLostReported() == 0 && !hasTcp(m) && m.getSource().getService().isEmpty();
  }

  /** Whether {@code m} holds any TCP report (a connection opened, closed, or bytes relayed). */
  public static boolean hasTcp(EdgeMetrics m) {
    return m.getTcpConnectionsOpened() > 0 || m.getTcpConnectionsClosed() > 0 || m.getTcpReceivedBytes() > 0
        || m.getTcpSentBytes() > 0 || m.getTcpFailedConnections() > 0;
  }

  /**
   * {@code aggregate} plus the loss a proxy reported on one event of its edge
   * ({@code RequestEvent.droppedBefore}; nothing when it is not above 0), counted in
   * {@code lostReported} (and {@code lostReportedByDestination} when the destination's proxy
   * reported it), whether or not the event itself is counted (a destination's duplicate report
   * is not, its loss is). {@code updatedAt} becomes the event's time if later.
   */
  public EdgeMetrics addLost(EdgeMetrics aggregate, long droppedBefore, boolean byDestination, Edge edge,
                             long startMillis) {
    if (droppedBefore <= 0) {
      return aggregate;
    }
    EdgeMetrics m = EdgeMetrics.newBuilder(aggregate).build();
    if (m.getRequests() == 0 && m.getLostReported() == 0 && !hasTcp(m)) {
      m.setSource(edge.source().toAvro());
      m.setDestination(edge.destination().toAvro());
    }
    m.setLostReported(m.getLostReported() + droppedBefore);
    if (byDestination) {
      m.setLostReportedByDestination(m.getLostReportedByDestination() + droppedBefore);
    }
    Instant time = Instant.ofEpochMilli(startMillis);
    if (time.isAfter(m.getUpdatedAt())) {
      m.setUpdatedAt(time);
    }
    return published(m);
  }

  /**
   * The two aggregates of one edge as one: for windows of an edge over a time range, or for the
   * same window read from two instances. The window is the union of both; the sketch is in
   * the published format whatever the inputs' formats.
   */
  public EdgeMetrics merge(EdgeMetrics a, EdgeMetrics b) {
    if (isEmpty(a)) {
      return published(b);
    }
    if (isEmpty(b)) {
      return published(a);
    }
    Map<String, Long> flags = new HashMap<>(a.getResponseFlags());
    b.getResponseFlags().forEach((k, v) -> flags.merge(k, v, Long::sum));
    DDSketch sketch = LatencySketch.decode(a);
    sketch.mergeWith(LatencySketch.decode(b));
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
        .setUpdatedAt(max(a.getUpdatedAt(), b.getUpdatedAt()))
        .setLostReported(a.getLostReported() + b.getLostReported())
        .setLostReportedByDestination(a.getLostReportedByDestination() + b.getLostReportedByDestination())
        .setTcpConnectionsOpened(a.getTcpConnectionsOpened() + b.getTcpConnectionsOpened())
        .setTcpConnectionsClosed(a.getTcpConnectionsClosed() + b.getTcpConnectionsClosed())
        .setTcpReceivedBytes(a.getTcpReceivedBytes() + b.getTcpReceivedBytes())
        .setTcpSentBytes(a.getTcpSentBytes() + b.getTcpSentBytes())
        .setTcpFailedConnections(a.getTcpFailedConnections() + b.getTcpFailedConnections());
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

  /**
   * The time an event's windows are chosen by: when a request started; a TCP connection report's
   * own time, its connection's start plus how long it had been open ({@code durationMicros}), so
   * that a long connection's bytes count in the windows they were relayed in (its start's
   * windows have long closed by its later reports).
   */
  public static Instant eventTime(RequestEvent event) {
    return event.getTcp() == null ? event.getStartTime()
        : event.getStartTime().plus(event.getDurationMicros(), java.time.temporal.ChronoUnit.MICROS);
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  private static Instant max(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }
}
