package dev.meshlog.telemetry.query;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.telemetry.Edge;
import dev.meshlog.telemetry.EdgeAggregation;
import dev.meshlog.telemetry.LatencySketch;

/**
 * Per-edge totals in the Prometheus text exposition format (0.0.4), with Istio-like names and
 * labels: {@code meshlog_edge_requests_total{source_namespace, source_service, source_version,
 * destination_namespace, destination_service, destination_version, response_code_class}} and
 * friends. Counters count since the pipeline's state began (they survive restarts: the totals
 * live in a changelogged store).
 *
 * <p>Besides the edges' series, {@code meshlog_telemetry_events_lost_reported_total{reporter_namespace,
 * reporter_service, reporter_version}}: the request events a service's proxies reported lost
 * ({@code droppedBefore}), which none of the edge counters include. It is per reporting service
 * and version, not per edge (a proxy's loss rides on whichever edge's event came next), with a
 * sample (0 until a loss) for every service version at either end of an edge, so that
 * {@code increase()} sees the first loss. Its labels are prefixed ({@code reporter_}) so they
 * cannot clash with the {@code namespace} and {@code service} labels service discovery puts on
 * the pipeline's own target.
 *
 * <p>Edges with relayed TCP connections have Istio's TCP series under the same prefix:
 * {@code meshlog_edge_tcp_connections_opened_total}, {@code _closed_total}, {@code
 * meshlog_edge_tcp_received_bytes_total}, {@code meshlog_edge_tcp_sent_bytes_total} (Istio's
 * {@code istio_tcp_connections_opened_total} ... {@code istio_tcp_sent_bytes_total}), and
 * {@code meshlog_edge_tcp_failed_connections_total} (Istio has none; its flags are in {@code
 * meshlog_edge_response_flags_total}) and the gauge {@code meshlog_edge_tcp_connections_open}
 * (opened minus closed since the pipeline's state began). An edge with TCP connections and no
 * request has no request series (no zero request counts, no empty latency summary).
 */
public final class PrometheusText {

  /** The content type of the exposition. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private PrometheusText() {}

  /** The exposition of {@code totals} (one aggregate per edge). */
  public static String of(List<EdgeMetrics> totals) {
    List<EdgeMetrics> all = totals.stream()
        .sorted(Comparator.comparing(m -> Edge.of(m).id())).toList();
    // the request series of every edge but those of TCP connections alone
    List<EdgeMetrics> sorted = all.stream().filter(m -> m.getRequests() > 0 || !EdgeAggregation.hasTcp(m)).toList();
    List<EdgeMetrics> tcp = all.stream().filter(EdgeAggregation::hasTcp).toList();
    StringBuilder out = new StringBuilder();
    header(out, "meshlog_edge_requests_total", "counter",
        "Requests on an edge, by response code class (none: no response was sent).");
    for (EdgeMetrics m : sorted) {
      String labels = labels(m);
      Map<String, Long> classes = EdgeStats.of(m, 1).responseCodeClasses();
      classes.forEach((cls, n) -> sample(out, "meshlog_edge_requests_total",
          labels + ",response_code_class=\"" + cls + "\"", n));
    }
    series(out, "meshlog_edge_errors_total", "counter", "Requests answered 5xx or not at all.",
        sorted, EdgeMetrics::getErrors);
    header(out, "meshlog_edge_response_flags_total", "counter",
        "Requests (and failed TCP connections) with an Envoy response flag (UH, UF, UO, UT, URX, NR, DI, FI, RL, ...).");
    for (EdgeMetrics m : all) {
      new TreeMap<>(m.getResponseFlags()).forEach((flag, n) -> sample(out,
          "meshlog_edge_response_flags_total", labels(m) + ",response_flags=\"" + escape(flag) + "\"", n));
    }
    series(out, "meshlog_edge_request_bytes_total", "counter", "Request body bytes on an edge.",
        sorted, EdgeMetrics::getRequestBytes);
    series(out, "meshlog_edge_response_bytes_total", "counter", "Response body bytes on an edge.",
        sorted, EdgeMetrics::getResponseBytes);
    // Prometheus' base unit is the second (promtool: 'use base unit "seconds" instead of
    // "milliseconds"'); the sketch holds milliseconds.
    header(out, DURATION, "summary",
        "Request duration quantiles in seconds (DDSketch, within the stated relative accuracy; 1: the maximum, exact); "
        + "_sum is the sketch's estimate.");
    for (EdgeMetrics m : sorted) {
      String labels = labels(m);
      sample(out, DURATION, labels + ",quantile=\"0.5\"", m.getLatencyP50Millis() / 1000);
      sample(out, DURATION, labels + ",quantile=\"0.9\"", m.getLatencyP90Millis() / 1000);
      sample(out, DURATION, labels + ",quantile=\"0.99\"", m.getLatencyP99Millis() / 1000);
      sample(out, DURATION, labels + ",quantile=\"1\"", m.getLatencyMaxMillis() / 1000);
      double sum = LatencySketch.decode(m).getSum();
      sample(out, DURATION + "_sum", labels, sum / 1000);
      sample(out, DURATION + "_count", labels, m.getRequests());
    }
    tcpSeries(out, tcp);
    header(out, LOST, "counter", "Request events the proxies of a service version reported lost "
        + "(dropped or refused while Kafka was away; RequestEvent.droppedBefore), not counted in the edges' series.");
    lostByReporter(all).forEach((labels, n) -> sample(out, LOST, labels, n));
    return out.toString();
  }

  private static final String LOST = "meshlog_telemetry_events_lost_reported_total";
  private static final String DURATION = "meshlog_edge_request_duration_seconds";

  /** The TCP series (Istio's istio_tcp_* names under meshlog_edge_) of the edges with TCP connections. */
  private static void tcpSeries(StringBuilder out, List<EdgeMetrics> tcp) {
    series(out, "meshlog_edge_tcp_connections_opened_total", "counter",
        "Relayed TCP connections opened on an edge (istio_tcp_connections_opened_total).",
        tcp, EdgeMetrics::getTcpConnectionsOpened);
    series(out, "meshlog_edge_tcp_connections_closed_total", "counter",
        "Relayed TCP connections closed on an edge (istio_tcp_connections_closed_total).",
        tcp, EdgeMetrics::getTcpConnectionsClosed);
    series(out, "meshlog_edge_tcp_connections_open", "gauge",
        "Relayed TCP connections open on an edge as far as the reports show (opened minus closed).",
        tcp, m -> Math.max(0, m.getTcpConnectionsOpened() - m.getTcpConnectionsClosed()));
    series(out, "meshlog_edge_tcp_failed_connections_total", "counter",
        "Relayed TCP connections that failed (closed with a response flag: UF, UH, NR, ...).",
        tcp, EdgeMetrics::getTcpFailedConnections);
    series(out, "meshlog_edge_tcp_received_bytes_total", "counter",
        "Bytes the destination received from the source over TCP connections (istio_tcp_received_bytes_total).",
        tcp, EdgeMetrics::getTcpReceivedBytes);
    series(out, "meshlog_edge_tcp_sent_bytes_total", "counter",
        "Bytes sent back to the source over TCP connections (istio_tcp_sent_bytes_total).",
        tcp, EdgeMetrics::getTcpSentBytes);
  }

  /** One series: its header, then one sample per edge of {@code edges}, valued by {@code value}. */
  private static void series(StringBuilder out, String name, String type, String help,
                             List<EdgeMetrics> edges, ToDoubleFunction<EdgeMetrics> value) {
    header(out, name, type, help);
    edges.forEach(m -> sample(out, name, labels(m), value.applyAsDouble(m)));
  }

  /** Reported losses per reporting service version (its labels), 0 for every other end of an edge. */
  private static Map<String, Long> lostByReporter(List<EdgeMetrics> totals) {
    Map<String, Long> lost = new TreeMap<>();
    for (EdgeMetrics m : totals) {
      Edge edge = Edge.of(m);
      long byDestination = m.getLostReportedByDestination();
      lost.merge(reporter(edge.source()), m.getLostReported() - byDestination, Long::sum);
      lost.merge(reporter(edge.destination()), byDestination, Long::sum);
    }
    return lost;
  }

  private static String reporter(Edge.End end) {
    return "reporter_namespace=\"" + escape(end.namespace()) + "\",reporter_service=\"" + escape(end.service())
        + "\",reporter_version=\"" + escape(end.version()) + "\"";
  }

  private static void header(StringBuilder out, String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void sample(StringBuilder out, String name, String labels, double value) {
    out.append(name).append('{').append(labels).append("} ");
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      out.append((long) value);
    } else {
      out.append(value);
    }
    out.append('\n');
  }

  private static String labels(EdgeMetrics m) {
    Edge edge = Edge.of(m);
    return "source_namespace=\"" + escape(edge.source().namespace())
        + "\",source_service=\"" + escape(edge.source().service())
        + "\",source_version=\"" + escape(edge.source().version())
        + "\",destination_namespace=\"" + escape(edge.destination().namespace())
        + "\",destination_service=\"" + escape(edge.destination().service())
        + "\",destination_version=\"" + escape(edge.destination().version()) + "\"";
  }

  private static String escape(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
