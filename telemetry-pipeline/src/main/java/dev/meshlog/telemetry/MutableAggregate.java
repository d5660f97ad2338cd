package dev.meshlog.telemetry;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.store.CollapsingLowestDenseStore;
import dev.meshlog.events.telemetry.EdgeMetrics;

/**
 * One edge's aggregate (a window's or its totals) kept decoded in memory between flushes: plain
 * counters and the latency sketch as an object. Requests fold in with no encoding; the
 * {@link EdgeMetrics} record (and the sketch's bytes) is made once per flush.
 */
final class MutableAggregate {

  private static final double[] QUANTILES = {0.50, 0.90, 0.99};

  final Edge edge;
  /** Window start (epoch ms) and size (ms); size 0 for totals. */
  final long start;
  final long size;
  private final double relativeAccuracy;
  private final DDSketch sketch;
  private long requests;
  private long r1xx;
  private long r2xx;
  private long r3xx;
  private long r4xx;
  private long r5xx;
  private long noResponse;
  private long errors;
  private Map<String, Long> flags;
  private long requestBytes;
  private long responseBytes;
  private double maxMillis;
  private long updatedAtMillis;
  /** Losses reported on its events (all reporters), and the destination proxies' part of them. */
  private long lost;
  private long lostByDestination;
  /** TCP connection reports: connections opened, closed and failed; bytes received from the client and sent back. */
  private long tcpOpened;
  private long tcpClosed;
  private long tcpFailed;
  private long tcpReceived;
  private long tcpSent;
  /** Whether it changed since it was last written. */
  boolean dirty;

  private MutableAggregate(Edge edge, long start, long size, double relativeAccuracy, DDSketch sketch) {
    this.edge = edge;
    this.start = start;
    this.size = size;
    this.relativeAccuracy = relativeAccuracy;
    this.sketch = sketch;
  }

  /** A new aggregate of nothing. */
  static MutableAggregate empty(Edge edge, long start, long size, double relativeAccuracy) {
    return new MutableAggregate(edge, start, size, relativeAccuracy, LatencySketch.empty(relativeAccuracy));
  }

  /** The aggregate {@code stored} (as read from a store) as a mutable one. */
  static MutableAggregate of(Edge edge, long start, long size, EdgeMetrics stored, double relativeAccuracy) {
    double accuracy = stored.getLatencyRelativeAccuracy() > 0 ? stored.getLatencyRelativeAccuracy() : relativeAccuracy;
    MutableAggregate m = new MutableAggregate(edge, start, size, accuracy,
        LatencySketch.decode(stored.getLatencySketch(), stored.getLatencySketchFormat(), accuracy));
    m.requests = stored.getRequests();
    m.r1xx = stored.getResponses1xx();
    m.r2xx = stored.getResponses2xx();
    m.r3xx = stored.getResponses3xx();
    m.r4xx = stored.getResponses4xx();
    m.r5xx = stored.getResponses5xx();
    m.noResponse = stored.getNoResponse();
    m.errors = stored.getErrors();
    m.flags = stored.getResponseFlags().isEmpty() ? null : new HashMap<>(stored.getResponseFlags());
    m.requestBytes = stored.getRequestBytes();
    m.responseBytes = stored.getResponseBytes();
    m.maxMillis = stored.getLatencyMaxMillis();
    m.updatedAtMillis = stored.getUpdatedAt().toEpochMilli();
    m.lost = stored.getLostReported();
    m.lostByDestination = stored.getLostReportedByDestination();
    m.tcpOpened = stored.getTcpConnectionsOpened();
    m.tcpClosed = stored.getTcpConnectionsClosed();
    m.tcpFailed = stored.getTcpFailedConnections();
    m.tcpReceived = stored.getTcpReceivedBytes();
    m.tcpSent = stored.getTcpSentBytes();
    return m;
  }

  /** Folds one request in (the same arithmetic as {@link EdgeAggregation#add}). */
  void add(int code, List<String> responseFlags, long reqBytes, long respBytes, long durationMicros,
           long startMillis) {
    requests++;
    if (code <= 0) {
      noResponse++;
      errors++;
    } else if (code < 200) {
      r1xx++;
    } else if (code < 300) {
      r2xx++;
    } else if (code < 400) {
      r3xx++;
    } else if (code < 500) {
      r4xx++;
    } else {
      r5xx++;
      errors++;
    }
    countFlags(responseFlags);
    requestBytes += Math.max(0, reqBytes);
    responseBytes += Math.max(0, respBytes);
    double millis = Math.max(0, durationMicros) / 1000.0;
    sketch.accept(millis);
    maxMillis = Math.max(maxMillis, millis);
    updatedAtMillis = Math.max(updatedAtMillis, startMillis);
  }

  /**
   * Folds in one TCP connection report (the same arithmetic as {@link EdgeAggregation#add} of a
   * call with {@code tcp}): its TCP fields only, not a request. A closing report with response
   * flags is a failed connection, and its flags count in the response flags.
   */
  void addTcp(boolean opened, boolean closed, List<String> responseFlags, long receivedBytes, long sentBytes,
              long reportMillis) {
    if (opened) {
      tcpOpened++;
    }
    if (closed) {
      tcpClosed++;
      if (countFlags(responseFlags)) {
        tcpFailed++;
      }
    }
    tcpReceived += Math.max(0, receivedBytes);
    tcpSent += Math.max(0, sentBytes);
    updatedAtMillis = Math.max(updatedAtMillis, reportMillis);
  }

  /** Counts each of {@code responseFlags} ({@link #isFlag}); whether there was one. */
  private boolean countFlags(List<String> responseFlags) {
    boolean any = false;
    for (int i = 0, n = responseFlags.size(); i < n; i++) {
      String flag = responseFlags.get(i);
      if (isFlag(flag)) {
        if (flags == null) {
          flags = new HashMap<>();
        }
        flags.merge(flag, 1L, Long::sum);
        any = true;
      }
    }
    return any;
  }

  /** Whether {@code flag} names a response flag: not null, blank or {@code -} (none). */
  static boolean isFlag(String flag) {
    return flag != null && !flag.isBlank() && !flag.equals("-");
  }

  /**
   * Folds in the loss a proxy reported on one event ({@code droppedBefore}, above 0; the same
   * arithmetic as {@link EdgeAggregation#addLost}). The event's time counts for
   * {@code updatedAt} as a request's does, so a window with only a loss in it has one.
   */
  void addLost(long droppedBefore, boolean byDestination, long startMillis) {
    lost += droppedBefore;
    if (byDestination) {
      lostByDestination += droppedBefore;
    }
    updatedAtMillis = Math.max(updatedAtMillis, startMillis);
  }

  /**
   * Folds in everything {@code other} holds, as if its requests had been folded in one by one:
   * counters and bytes add, flags add per flag, the maximum and {@code updatedAt} are the larger,
   * and the sketches merge bin by bin (exact: both have the same index mapping, so the merged
   * sketch is the one of both inputs' values). {@code other} is left alone.
   */
  void merge(MutableAggregate other) {
    requests += other.requests;
    r1xx += other.r1xx;
    r2xx += other.r2xx;
    r3xx += other.r3xx;
    r4xx += other.r4xx;
    r5xx += other.r5xx;
    noResponse += other.noResponse;
    errors += other.errors;
    if (other.flags != null) {
      if (flags == null) {
        flags = new HashMap<>();
      }
      other.flags.forEach((flag, n) -> flags.merge(flag, n, Long::sum));
    }
    requestBytes += other.requestBytes;
    responseBytes += other.responseBytes;
    if (sketch.getIndexMapping().equals(other.sketch.getIndexMapping())) {
      sketch.mergeWith(other.sketch);
    } else {
      // A store written with another accuracy setting: exact merging needs equal mappings, so
      // the other sketch's bins are re-indexed (within both accuracies) rather than refused.
      sketch.mergeWith(other.sketch.convert(sketch.getIndexMapping(),
          () -> new CollapsingLowestDenseStore(LatencySketch.MAX_BINS)));
    }
    maxMillis = Math.max(maxMillis, other.maxMillis);
    updatedAtMillis = Math.max(updatedAtMillis, other.updatedAtMillis);
    lost += other.lost;
    lostByDestination += other.lostByDestination;
    tcpOpened += other.tcpOpened;
    tcpClosed += other.tcpClosed;
    tcpFailed += other.tcpFailed;
    tcpReceived += other.tcpReceived;
    tcpSent += other.tcpSent;
  }

  /** How many requests it holds. */
  long requests() {
    return requests;
  }

  /** When the latest request folded in started (epoch ms). */
  long updatedAtMillis() {
    return updatedAtMillis;
  }

  /**
   * As an {@link EdgeMetrics} record, with the sketch in {@code format} ({@link LatencySketch#STORE_FORMAT}
   * for the stores, {@link LatencySketch#FORMAT} for what leaves), window bounds unset (epoch).
   */
  EdgeMetrics toMetrics(String format) {
    return toMetrics(format, quantiles(), Instant.EPOCH, Instant.EPOCH);
  }

  /** The sketch's p50, p90 and p99 (zeros when empty), for {@link #toMetrics(String, double[], Instant, Instant)}. */
  double[] quantiles() {
    return LatencySketch.quantiles(sketch, QUANTILES);
  }

  /**
   * As an {@link EdgeMetrics} record with the sketch in {@code format}, the quantiles {@code q}
   * (from {@link #quantiles()}: a flush computes them once for the stored and the published
   * record) and the window bounds given. Built directly, never by copying another record: a
   * copying builder deep-copies every field (Avro's generic copy).
   */
  EdgeMetrics toMetrics(String format, double[] q, Instant windowStart, Instant windowEnd) {
    byte[] sketchBytes = LatencySketch.STORE_FORMAT.equals(format)
        ? LatencySketch.encodeCompact(sketch) : LatencySketch.encode(sketch);
    return EdgeMetrics.newBuilder()
        .setSource(edge.source().toAvro())
        .setDestination(edge.destination().toAvro())
        .setWindowStart(windowStart).setWindowEnd(windowEnd)
        .setRequests(requests)
        .setResponses1xx(r1xx).setResponses2xx(r2xx).setResponses3xx(r3xx)
        .setResponses4xx(r4xx).setResponses5xx(r5xx)
        .setNoResponse(noResponse).setErrors(errors)
        .setResponseFlags(flags == null ? new HashMap<>() : new HashMap<>(flags))
        .setRequestBytes(requestBytes).setResponseBytes(responseBytes)
        .setLatencySketch(ByteBuffer.wrap(sketchBytes))
        .setLatencySketchFormat(format)
        .setLatencyRelativeAccuracy(relativeAccuracy)
        .setLatencyP50Millis(q[0]).setLatencyP90Millis(q[1]).setLatencyP99Millis(q[2])
        .setLatencyMaxMillis(maxMillis)
        .setUpdatedAt(Instant.ofEpochMilli(updatedAtMillis))
        .setLostReported(lost)
        .setLostReportedByDestination(lostByDestination)
        .setTcpConnectionsOpened(tcpOpened).setTcpConnectionsClosed(tcpClosed)
        .setTcpReceivedBytes(tcpReceived).setTcpSentBytes(tcpSent)
        .setTcpFailedConnections(tcpFailed)
        .build();
  }
}
