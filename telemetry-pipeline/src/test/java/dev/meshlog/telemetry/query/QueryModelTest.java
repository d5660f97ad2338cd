package dev.meshlog.telemetry.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.Workload;
import dev.meshlog.telemetry.EdgeAggregation;
import dev.meshlog.telemetry.TelemetryTopology;
import org.junit.jupiter.api.Test;

class QueryModelTest {

  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");
  private static final EdgeAggregation AGG = new EdgeAggregation(0.01);

  private static RequestEvent request(String src, String srcVersion, String dst, String dstVersion, int code, double ms) {
    return RequestEvent.newBuilder().setReporter(Reporter.SOURCE)
        .setSource(Workload.newBuilder().setNamespace("default").setService(src).setVersion(srcVersion).build())
        .setDestination(Workload.newBuilder().setNamespace("default").setService(dst).setVersion(dstVersion).build())
        .setResponseCode(code).setDurationMicros(Math.round(ms * 1000)).setStartTime(T0)
        .setResponseFlags(code == 503 ? List.of("UH") : List.of()).build();
  }

  private static EdgeMetrics window(long startSeconds, RequestEvent... events) {
    EdgeMetrics m = AGG.empty();
    for (RequestEvent e : events) {
      m = AGG.add(m, e);
    }
    long start = T0.plusSeconds(startSeconds).toEpochMilli();
    return TelemetryTopology.withWindow(m, start, start + 10_000);
  }

  @Test
  void graphMergesWindowsPerEdgeAndListsEachServiceWithItsVersions() {
    List<EdgeMetrics> windows = List.of(
        window(0, request("productpage", "v1", "reviews", "v1", 200, 10), request("productpage", "v1", "reviews", "v1", 503, 30)),
        window(10, request("productpage", "v1", "reviews", "v1", 200, 20)),
        window(0, request("productpage", "v1", "reviews", "v2", 200, 5)));
    ServiceGraph graph = ServiceGraph.of(windows, T0, T0.plusSeconds(60), AGG, List.of());
    assertThat(graph.nodes()).extracting(ServiceGraph.Node::id).containsExactly("default/productpage", "default/reviews");
    assertThat(graph.nodes().get(1).versions()).containsExactly("v1", "v2");
    EdgeStats v1 = graph.edges().get(0);
    assertThat(v1.id()).isEqualTo("default/productpage/v1->default/reviews/v1");
    assertThat(v1.requests()).isEqualTo(3);
    assertThat(v1.requestsPerSecond()).isEqualTo(3 / 60.0);
    assertThat(v1.errorRate()).isEqualTo(1 / 3.0);
    assertThat(v1.responseCodeClasses()).containsEntry("5xx", 1L).containsEntry("2xx", 2L);
    assertThat(v1.p50Millis()).isCloseTo(20, org.assertj.core.api.Assertions.within(0.2));
    assertThat(v1.maxMillis()).isEqualTo(30);
    assertThat(graph.edgesOf("default/reviews").inbound()).hasSize(2);
    assertThat(graph.edgesOf("default/reviews").outbound()).isEmpty();
  }

  /** {@code m} plus losses reported by the source's and by the destination's proxies. */
  private static EdgeMetrics lost(EdgeMetrics m, long bySource, long byDestination) {
    dev.meshlog.telemetry.Edge edge = dev.meshlog.telemetry.Edge.of(m);
    EdgeMetrics out = AGG.addLost(m, bySource, false, edge, T0.toEpochMilli());
    out = AGG.addLost(out, byDestination, true, edge, T0.toEpochMilli());
    return TelemetryTopology.withWindow(out, m.getWindowStart().toEpochMilli(), m.getWindowEnd().toEpochMilli());
  }

  /** A window of an edge with no counted request in it, only a loss its destination's proxy reported. */
  private static EdgeMetrics lossOnly(String src, String srcVersion, String dst, String dstVersion, long byDestination) {
    dev.meshlog.telemetry.Edge edge = new dev.meshlog.telemetry.Edge(
        new dev.meshlog.telemetry.Edge.End("default", src, srcVersion), new dev.meshlog.telemetry.Edge.End("default", dst, dstVersion));
    EdgeMetrics m = AGG.addLost(AGG.empty(), byDestination, true, edge, T0.toEpochMilli());
    return TelemetryTopology.withWindow(m, T0.toEpochMilli(), T0.toEpochMilli() + 10_000);
  }

  @Test
  void graphCountsReportedLossesForTheReportingServiceAndVersionAndInTotal() throws Exception {
    List<EdgeMetrics> windows = List.of(
        lost(window(0, request("productpage", "v1", "reviews", "v1", 200, 10)), 30, 4),
        lost(window(10, request("productpage", "v1", "reviews", "v1", 200, 10)), 10, 0),
        lost(window(0, request("productpage", "v1", "details", "v1", 200, 10)), 5, 0),
        window(0, request("productpage", "v2", "details", "v1", 200, 10)),
        lossOnly("reviews", "v2", "ratings", "v1", 7));
    ServiceGraph graph = ServiceGraph.of(windows, T0, T0.plusSeconds(60), AGG, List.of());
    assertThat(graph.lostReported()).isEqualTo(30 + 4 + 10 + 5 + 7);
    assertThat(graph.nodes()).extracting(ServiceGraph.Node::id, ServiceGraph.Node::lostReported).containsExactly(
        org.assertj.core.groups.Tuple.tuple("default/details", 0L),
        org.assertj.core.groups.Tuple.tuple("default/productpage", 45L),
        org.assertj.core.groups.Tuple.tuple("default/ratings", 7L),
        org.assertj.core.groups.Tuple.tuple("default/reviews", 4L));
    assertThat(graph.nodes().get(1).lostReportedByVersion()).containsExactly(java.util.Map.entry("v1", 45L));
    assertThat(graph.nodes().get(1).versions()).containsExactly("v1", "v2");
    assertThat(graph.nodes().get(0).lostReportedByVersion()).isEmpty();
    // an edge with a loss and no request is not an edge of the graph; its reporter is a node
    assertThat(graph.edges()).extracting(EdgeStats::id).noneMatch(id -> id.contains("ratings"));
    assertThat(graph.nodes().get(3).versions()).containsExactly("v1");
    assertThat(graph.edgesOf("default/productpage").lostReported()).isEqualTo(45);
    assertThat(graph.edgesOf("default/ratings").lostReported()).isEqualTo(7);

    com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper()
        .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
        .valueToTree(graph);
    assertThat(json.path("lostReported").asLong()).isEqualTo(56);
    assertThat(json.path("nodes").get(1).path("lostReportedByVersion").path("v1").asLong()).isEqualTo(45);
  }

  @Test
  void aGraphWithoutLossesReportsZero() {
    ServiceGraph graph = ServiceGraph.of(List.of(window(0, request("productpage", "v1", "reviews", "v1", 200, 10))),
        T0, T0.plusSeconds(60), AGG, List.of());
    assertThat(graph.lostReported()).isZero();
    assertThat(graph.nodes()).allSatisfy(n -> {
      assertThat(n.lostReported()).isZero();
      assertThat(n.lostReportedByVersion()).isEmpty();
    });
  }

  @Test
  void seriesHasOnePointPerWindowWithVersionsMerged() {
    List<EdgeMetrics> windows = List.of(
        window(0, request("productpage", "v1", "reviews", "v1", 200, 10)),
        window(0, request("productpage", "v1", "reviews", "v2", 200, 10)),
        window(10, request("productpage", "v1", "reviews", "v2", 500, 10)));
    EdgeSeries series = EdgeSeries.of("default/productpage", "default/reviews", Duration.ofSeconds(10), windows, AGG, List.of());
    assertThat(series.points()).hasSize(2);
    assertThat(series.points().get(0).stats().requests()).isEqualTo(2);
    assertThat(series.points().get(0).stats().requestsPerSecond()).isEqualTo(0.2);
    assertThat(series.points().get(1).stats().errors()).isEqualTo(1);
  }

  @Test
  void seriesLeavesOutAWindowThatHoldsOnlyAReportedLoss() {
    EdgeMetrics lossOnly = lossOnly("productpage", "v1", "reviews", "v1", 7);
    EdgeMetrics later = window(10, request("productpage", "v1", "reviews", "v1", 200, 10));
    EdgeSeries series = EdgeSeries.of("default/productpage", "default/reviews", Duration.ofSeconds(10),
        List.of(lossOnly, later), AGG, List.of());
    assertThat(series.points()).extracting(EdgeSeries.Point::start).containsExactly(T0.plusSeconds(10));
  }

  @Test
  void prometheusTextHasIstioLikeNamesAndLabels() {
    String text = PrometheusText.of(List.of(window(0,
        request("productpage", "v1", "reviews", "v2", 200, 10), request("productpage", "v1", "reviews", "v2", 503, 10))));
    String labels = "source_namespace=\"default\",source_service=\"productpage\",source_version=\"v1\","
        + "destination_namespace=\"default\",destination_service=\"reviews\",destination_version=\"v2\"";
    assertThat(text).contains("# TYPE meshlog_edge_requests_total counter\n");
    assertThat(text).contains("meshlog_edge_requests_total{" + labels + ",response_code_class=\"2xx\"} 1\n");
    assertThat(text).contains("meshlog_edge_requests_total{" + labels + ",response_code_class=\"5xx\"} 1\n");
    assertThat(text).contains("meshlog_edge_errors_total{" + labels + "} 1\n");
    assertThat(text).contains("meshlog_edge_response_flags_total{" + labels + ",response_flags=\"UH\"} 1\n");
    assertThat(text).contains("meshlog_edge_request_duration_seconds_count{" + labels + "} 2\n");
    assertThat(text).contains("meshlog_edge_request_duration_seconds{" + labels + ",quantile=\"1\"} 0.01\n");
  }

  @Test
  void prometheusTextNamesDurationsInSecondsAsPrometheusBaseUnits() {
    // promtool check metrics: 'use base unit "seconds" instead of "milliseconds"'
    String text = PrometheusText.of(List.of(window(0,
        request("productpage", "v1", "reviews", "v2", 200, 250), request("productpage", "v1", "reviews", "v2", 200, 250))));
    assertThat(text).doesNotContain("milliseconds");
    assertThat(text).contains("# TYPE meshlog_edge_request_duration_seconds summary\n");
    assertThat(text).containsPattern("meshlog_edge_request_duration_seconds\\{[^}]*,quantile=\"0.99\"} 0\\.2[45][0-9]*\n");
    assertThat(text).containsPattern("meshlog_edge_request_duration_seconds_sum\\{[^}]*} 0\\.(49|50)[0-9]*\n");
    assertThat(text).contains("meshlog_edge_request_duration_seconds_count{");
    // every family's samples carry its name, counters end in _total
    for (String line : text.split("\n")) {
      if (line.startsWith("# TYPE ") && line.endsWith(" counter")) {
        assertThat(line.split(" ")[2]).endsWith("_total");
      }
    }
  }

  @Test
  void prometheusTextCountsReportedLossesPerReportingServiceVersionWithZeroForTheRest() {
    String text = PrometheusText.of(List.of(
        lost(window(0, request("productpage", "v1", "reviews", "v2", 200, 10)), 30, 4),
        lost(window(0, request("productpage", "v1", "details", "v1", 200, 10)), 5, 0)));
    String name = "meshlog_telemetry_events_lost_reported_total";
    assertThat(text).contains("# TYPE " + name + " counter\n");
    assertThat(text).contains(name + "{reporter_namespace=\"default\",reporter_service=\"productpage\","
        + "reporter_version=\"v1\"} 35\n");
    assertThat(text).contains(name + "{reporter_namespace=\"default\",reporter_service=\"reviews\","
        + "reporter_version=\"v2\"} 4\n");
    assertThat(text).contains(name + "{reporter_namespace=\"default\",reporter_service=\"details\","
        + "reporter_version=\"v1\"} 0\n");
    assertThat(text.lines().filter(l -> l.startsWith(name + "{"))).hasSize(3);
  }

  @Test
  void aggregatesSurviveTheInternalWireFormat() {
    EdgeMetrics m = window(0, request("a", "v1", "b", "v1", 200, 7));
    EdgeMetrics t = window(0, request("a", "v1", "b", "v1", 200, 7), tcp("a", "b", true, true, 5, 6, "UF"));
    assertThat(HttpUtil.decodeAll(HttpUtil.encodeAll(List.of(m, t)))).containsExactly(m, t);
  }

  /** A TCP connection report of {@code src -> dst} (versions v1), at T0. */
  private static RequestEvent tcp(String src, String dst, boolean opened, boolean closed, long received, long sent,
                                  String... flags) {
    return RequestEvent.newBuilder(request(src, "v1", dst, "v1", 0, 1_000)).setProtocol("tcp")
        .setStartTime(T0.minusSeconds(1)).setResponseFlags(List.of(flags))
        .setRequestBytes(received).setResponseBytes(sent)
        .setTcp(dev.meshlog.events.telemetry.TcpReport.newBuilder().setOpened(opened).setClosed(closed).build())
        .build();
  }

  @Test
  void graphShowsATcpEdgeWithItsConnectionsAndBytesAndNoErrorsAndLeavesHttpEdgesAlone() throws Exception {
    List<EdgeMetrics> windows = List.of(
        window(0, tcp("reviews", "mysql", true, false, 6_000, 60_000), tcp("reviews", "mysql", true, true, 0, 0, "UF")),
        window(10, tcp("reviews", "mysql", false, true, 1_200, 600), tcp("reviews", "mysql", true, false, 0, 0)),
        window(0, request("productpage", "v1", "reviews", "v1", 200, 10), tcp("productpage", "reviews", true, true, 10, 20)),
        window(0, request("productpage", "v1", "details", "v1", 200, 10)));
    ServiceGraph graph = ServiceGraph.of(windows, T0, T0.plusSeconds(60), AGG, List.of());
    assertThat(graph.edges()).extracting(EdgeStats::id).containsExactly(
        "default/productpage/v1->default/details/v1", "default/productpage/v1->default/reviews/v1",
        "default/reviews/v1->default/mysql/v1");
    EdgeStats http = graph.edges().get(0);
    assertThat(http.protocols()).containsExactly("http");
    assertThat(http.tcp()).isNull();
    assertThat(http.requests()).isEqualTo(1);
    EdgeStats both = graph.edges().get(1);
    assertThat(both.protocols()).containsExactly("http", "tcp");
    assertThat(both.requests()).isEqualTo(1);
    assertThat(both.errorRate()).isZero();
    assertThat(both.tcp().receivedBytes()).isEqualTo(10);
    EdgeStats db = graph.edges().get(2);
    assertThat(db.protocols()).containsExactly("tcp");
    assertThat(db.requests()).isZero();
    assertThat(db.errors()).isZero();
    assertThat(db.errorRate()).isZero();
    assertThat(db.responseFlags()).containsExactly(java.util.Map.entry("UF", 1L));
    assertThat(db.tcp()).isEqualTo(new EdgeStats.Tcp(3, 2, 1, 1, 7_200, 60_600, 120, 1_010, 0.5));
    assertThat(graph.nodes()).extracting(ServiceGraph.Node::id).contains("default/mysql");
    assertThat(graph.edgesOf("default/mysql").inbound()).extracting(EdgeStats::id)
        .containsExactly("default/reviews/v1->default/mysql/v1");

    com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper()
        .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
        .valueToTree(graph);
    assertThat(json.path("edges").get(0).has("tcp")).as("an HTTP edge has no tcp").isFalse();
    assertThat(json.path("edges").get(0).path("protocols").toString()).isEqualTo("[\"http\"]");
    com.fasterxml.jackson.databind.JsonNode tcp = json.path("edges").get(2).path("tcp");
    assertThat(tcp.path("connectionsOpened").asLong()).isEqualTo(3);
    assertThat(tcp.path("receivedBytesPerSecond").asDouble()).isEqualTo(120);
    assertThat(tcp.path("sentBytesPerSecond").asDouble()).isEqualTo(1_010);
    assertThat(tcp.path("failedConnections").asLong()).isEqualTo(1);
  }

  @Test
  void seriesHasAPointForAWindowOfTcpConnectionsAlone() {
    EdgeSeries series = EdgeSeries.of("default/reviews", "default/mysql", Duration.ofSeconds(10),
        List.of(window(0, tcp("reviews", "mysql", true, false, 100, 1_000))), AGG, List.of());
    assertThat(series.points()).hasSize(1);
    assertThat(series.points().get(0).stats().tcp().receivedBytesPerSecond()).isEqualTo(10);
    assertThat(series.points().get(0).stats().requests()).isZero();
  }

  @Test
  void prometheusTextHasIstiosTcpSeriesForEdgesWithConnectionsAndNoRequestSeriesForTcpAlone() {
    String text = PrometheusText.of(List.of(
        window(0, tcp("reviews", "mysql", true, false, 6_000, 60_000), tcp("reviews", "mysql", true, true, 0, 0, "UF")),
        window(0, request("productpage", "v1", "reviews", "v1", 200, 10))));
    String db = "source_namespace=\"default\",source_service=\"reviews\",source_version=\"v1\","
        + "destination_namespace=\"default\",destination_service=\"mysql\",destination_version=\"v1\"";
    assertThat(text).contains("# TYPE meshlog_edge_tcp_connections_opened_total counter\n");
    assertThat(text).contains("meshlog_edge_tcp_connections_opened_total{" + db + "} 2\n");
    assertThat(text).contains("meshlog_edge_tcp_connections_closed_total{" + db + "} 1\n");
    assertThat(text).contains("meshlog_edge_tcp_connections_open{" + db + "} 1\n");
    assertThat(text).contains("meshlog_edge_tcp_failed_connections_total{" + db + "} 1\n");
    assertThat(text).contains("meshlog_edge_tcp_received_bytes_total{" + db + "} 6000\n");
    assertThat(text).contains("meshlog_edge_tcp_sent_bytes_total{" + db + "} 60000\n");
    assertThat(text).contains("meshlog_edge_response_flags_total{" + db + ",response_flags=\"UF\"} 1\n");
    assertThat(text.lines().filter(l -> l.contains("service=\"mysql\"") && l.startsWith("meshlog_edge_request")))
        .as("no request series for TCP alone").isEmpty();
    assertThat(text).doesNotContain("meshlog_edge_errors_total{" + db);
    assertThat(text.lines().filter(l -> l.startsWith("meshlog_edge_tcp_") && l.contains("service=\"productpage\"")))
        .as("no TCP series for HTTP alone").isEmpty();
    assertThat(text).contains("meshlog_edge_requests_total{source_namespace=\"default\",source_service=\"productpage\"");
  }

  @Test
  void rangesComeFromAWindowOrFromAndTo() {
    Instant now = T0;
    assertThat(TimeRange.parse("1m", null, null, now)).isEqualTo(new TimeRange(T0.minusSeconds(60), T0));
    assertThat(TimeRange.parse(null, null, null, now).length()).isEqualTo(Duration.ofMinutes(1));
    assertThat(TimeRange.parse(null, "2026-11-24T11:00:00Z", null, now).windowSize()).isEqualTo(Duration.ofMinutes(1));
    assertThat(TimeRange.parse("5m", null, null, now).windowSize()).isEqualTo(Duration.ofSeconds(10));
    assertThat(TimeRange.parse(null, Long.toString(T0.minusSeconds(30).toEpochMilli()), null, now).from())
        .isEqualTo(T0.minusSeconds(30));
    assertThatThrownBy(() -> TimeRange.parse("1y", null, null, now)).hasMessage(
        "window: 1y (expected: a number and ms, s, m, h or d, e.g. 1m)");
    assertThatThrownBy(() -> TimeRange.parse(null, "2026-11-24T13:00:00Z", null, now))
        .hasMessageStartingWith("from: 2026-11-24T13:00:00Z (expected: before to");
  }

  @Test
  void refusesRangesTheStoresDoNotHoldWithAClearMessage() {
    Instant now = T0;
    // a number too large for a long, or for a Duration: a 400 that says what was expected
    assertThatThrownBy(() -> TimeRange.parse("99999999999999999999d", null, null, now)).hasMessage(
        "window: 99999999999999999999d (expected: a number and ms, s, m, h or d, e.g. 1m)");
    assertThatThrownBy(() -> TimeRange.parse("100000000d", null, null, now))
        .hasMessageStartingWith("window: 100000000d (expected: at most 24h");
    // longer than the 1-minute windows are kept: rates over 30 days of 24 hours' data would be wrong
    assertThatThrownBy(() -> TimeRange.parse("30d", null, null, now)).hasMessage(
        "window: 30d (expected: at most 24h, how long the 1-minute windows are kept)");
    assertThat(TimeRange.parse("24h", null, null, now).windowSize(now)).isEqualTo(Duration.ofMinutes(1));
    assertThatThrownBy(() -> TimeRange.parse(null, "2026-11-20T00:00:00Z", "2026-11-20T00:05:00Z", now))
        .hasMessage("from: 2026-11-20T00:00:00Z (expected: at most 24h before now, " + T0
            + ", how long the 1-minute windows are kept)");
    // a short range of two hours ago: the 10-second windows are gone (kept 1 h), the 1-minute ones hold it
    TimeRange twoHoursAgo = TimeRange.parse(null, "2026-11-24T10:00:00Z", "2026-11-24T10:05:00Z", now);
    assertThat(twoHoursAgo.windowSize(now)).isEqualTo(Duration.ofMinutes(1));
    assertThat(TimeRange.parse("5m", null, null, now).windowSize(now)).isEqualTo(Duration.ofSeconds(10));
    assertThatThrownBy(() -> twoHoursAgo.checkStep(Duration.ofSeconds(10), now)).hasMessage(
        "step: 10s (expected: 1m for a range starting more than 1h ago, how long the 10-second windows are kept)");
  }

  @Test
  void refusesEachBadParameterOfEachEndpointNamingItsValueAndWhatIsExpected() {
    // the internal API's numbers: a clear 400, not Java's "For input string"
    assertThatThrownBy(() -> TelemetryApi.windowSizeMillis("abc"))
        .hasMessage("size: abc (expected: a window size in milliseconds, one of 10000, 60000)");
    assertThatThrownBy(() -> TelemetryApi.windowSizeMillis("5000"))
        .hasMessage("size: 5000 (expected: a window size in milliseconds, one of 10000, 60000)");
    assertThatThrownBy(() -> TelemetryApi.windowSizeMillis(null))
        .hasMessage("size: missing (expected: a window size in milliseconds, one of 10000, 60000)");
    assertThat(TelemetryApi.windowSizeMillis("60000")).isEqualTo(Duration.ofMinutes(1));
    for (String bad : new String[] {"abc", "-1", "1.5", "99999999999999999999", ""}) {
      assertThatThrownBy(() -> TelemetryApi.epochMillis("from", bad))
          .hasMessage("from: " + bad + " (expected: epoch milliseconds, e.g. 1764000000000)");
    }
    assertThatThrownBy(() -> TelemetryApi.epochMillis("to", null))
        .hasMessage("to: missing (expected: epoch milliseconds, e.g. 1764000000000)");
    assertThat(TelemetryApi.epochMillis("to", "1764000000000")).isEqualTo(Instant.ofEpochMilli(1764000000000L));
    assertThatThrownBy(() -> TelemetryApi.epochMillis("to", "x".repeat(500)))
        .hasMessage("to: " + "x".repeat(100) + "… (500 characters) (expected: epoch milliseconds, e.g. 1764000000000)");
    // /metrics' scope: cluster or none, not silently this instance's for a typo
    assertThat(TelemetryApi.clusterScope(null)).isFalse();
    assertThat(TelemetryApi.clusterScope("cluster")).isTrue();
    assertThatThrownBy(() -> TelemetryApi.clusterScope("clsuter"))
        .hasMessage("scope: clsuter (expected: cluster, or no scope for this instance's own edges)");
    // the internal filters and a service's path: namespace/service
    assertThatThrownBy(() -> TelemetryApi.serviceIdOrNull("source", "a/b/c")).hasMessage(
        "source: a/b/c (expected: namespace/service or service.namespace, e.g. default/reviews)");
    assertThatThrownBy(() -> TelemetryApi.serviceId("service", "/reviews")).hasMessage(
        "service: /reviews (expected: namespace/service or service.namespace, e.g. default/reviews)");
    assertThat(TelemetryApi.serviceIdOrNull("source", null)).isNull();
    // a range is a window or from/to, never both, and to only with from
    Instant now = T0;
    assertThatThrownBy(() -> TimeRange.parse("5m", "2026-11-24T11:00:00Z", null, now))
        .hasMessage("window: 5m (expected: either window or from/to, not both)");
    assertThatThrownBy(() -> TimeRange.parse(null, null, "2026-11-24T11:00:00Z", now))
        .hasMessage("to: 2026-11-24T11:00:00Z (expected: with from; or window alone)");
    assertThatThrownBy(() -> TimeRange.parse(null, "yesterday", null, now)).hasMessage(
        "from: yesterday (expected: an ISO-8601 instant like 2026-11-24T12:00:00Z or epoch milliseconds)");
    assertThatThrownBy(() -> TimeRange.duration("step", "abc"))
        .hasMessage("step: abc (expected: a number and ms, s, m, h or d, e.g. 1m)");
  }

  @Test
  void edgeEndsAreServiceDotNamespaceOrNamespaceSlashService() {
    assertThat(TelemetryApi.serviceId("src", "reviews.default")).isEqualTo("default/reviews");
    assertThat(TelemetryApi.serviceId("src", "default/reviews")).isEqualTo("default/reviews");
    assertThatThrownBy(() -> TelemetryApi.serviceId("src", "reviews"))
        .hasMessage("src: reviews (expected: service.namespace, e.g. reviews.default)");
  }

  @Test
  void namesTheInputPartitionsNoInstanceAnsweredFor() {
    java.util.Set<Integer> answered = new java.util.TreeSet<>();
    for (int p = 0; p < 12; p++) {
      answered.add(p);
    }
    assertThat(ClusterQueries.missingPartitions(12, answered)).isEmpty();
    answered.remove(3);
    answered.remove(7);
    assertThat(ClusterQueries.missingPartitions(12, answered)).hasValueSatisfying(m ->
        assertThat(m).startsWith("partitions 3,7 of 12 of mesh.telemetry.requests (no instance answered"));
    assertThat(ClusterQueries.missingPartitions(12, java.util.Set.of())).hasValueSatisfying(m ->
        assertThat(m).startsWith("partitions 0,1,2,3,4,5,6,7,8,9,10,11 of 12 "));
  }

  @Test
  void carriesTheAnsweredPartitionsInAHeader() {
    assertThat(ClusterQueries.partitionsHeader(java.util.Set.of(7, 0, 3))).isEqualTo("0,3,7");
    assertThat(ClusterQueries.partitionsOf("0,3,7")).containsExactly(0, 3, 7);
    assertThat(ClusterQueries.partitionsOf("")).isEmpty();
    assertThatThrownBy(() -> ClusterQueries.partitionsOf("0,x")).isInstanceOf(NumberFormatException.class);
  }

  private static LocalStores.Part part(int partition, EdgeMetrics... metrics) {
    return new LocalStores.Part(java.util.Set.of(partition), List.of(metrics));
  }

  private static ClusterQueries.Answer answer(String instance, LocalStores.Part... parts) {
    return new ClusterQueries.Answer(instance, new LocalStores.Share(List.of(parts)));
  }

  private static long requests(ClusterQueries.Merged merged) {
    return ServiceGraph.of(merged.metrics(), T0, T0.plusSeconds(60), AGG, List.of()).edges().stream()
        .mapToLong(EdgeStats::requests).sum();
  }

  @Test
  void aPartitionTwoInstancesAnswerForIsCountedOnceFromItsActiveOwner() {
    // a task moving: the old owner (a:1) still answers for partition 3 from its stores, the new
    // owner (b:2) has restored it and counted one more request since
    EdgeMetrics old = window(0, request("productpage", "v1", "reviews", "v1", 200, 10));
    EdgeMetrics restored = window(0, request("productpage", "v1", "reviews", "v1", 200, 10),
        request("productpage", "v1", "reviews", "v1", 200, 20));
    EdgeMetrics other = window(0, request("productpage", "v1", "details", "v1", 200, 5));
    List<ClusterQueries.Answer> answers = List.of(answer("a:1", part(3, old), part(4, other)),
        answer("b:2", part(3, restored)));

    ClusterQueries.Merged merged = ClusterQueries.merge(answers, java.util.Map.of(3, "b:2", 4, "a:1"));
    assertThat(merged.answered()).containsExactly(3, 4);
    assertThat(merged.metrics()).containsExactlyInAnyOrder(restored, other);
    assertThat(requests(merged)).isEqualTo(3);
    assertThat(merged.answeredTwice()).containsExactly("partition 3 of mesh.telemetry.requests answered by a:1, b:2:"
        + " counted once, from b:2 (its active owner)");

    // the metadata naming neither (it moved again, or is not known yet): the first answer's
    ClusterQueries.Merged first = ClusterQueries.merge(answers, java.util.Map.of());
    assertThat(first.metrics()).containsExactlyInAnyOrder(old, other);
    assertThat(first.answeredTwice()).singleElement().asString().endsWith("counted once, from a:1 (the first)");
  }

  @Test
  void answersWithoutOverlapAreAllTakenAndSayNothing() {
    EdgeMetrics a = window(0, request("productpage", "v1", "reviews", "v1", 200, 10));
    EdgeMetrics b = window(0, request("productpage", "v1", "details", "v1", 200, 5));
    ClusterQueries.Merged merged = ClusterQueries.merge(List.of(answer("a:1", part(0, a), part(1)),
        answer("b:2", part(2, b))), java.util.Map.of(0, "a:1", 1, "a:1", 2, "b:2"));
    assertThat(merged.metrics()).containsExactly(a, b);
    assertThat(merged.answered()).containsExactly(0, 1, 2);
    assertThat(merged.answeredTwice()).isEmpty();
  }

  @Test
  void anEarlierReleasesAnswerIsTakenWholeAndOthersLeaveOutItsPartitions() {
    EdgeMetrics oldPeers = window(0, request("productpage", "v1", "reviews", "v1", 200, 10));
    EdgeMetrics same = window(0, request("productpage", "v1", "reviews", "v1", 200, 10));
    EdgeMetrics mine = window(0, request("productpage", "v1", "details", "v1", 200, 5));
    // the earlier release's answer: partitions 3 and 5 together, not split
    ClusterQueries.Answer earlier = new ClusterQueries.Answer("old:9",
        LocalStores.Share.whole(List.of(oldPeers), java.util.Set.of(3, 5)));
    ClusterQueries.Merged merged = ClusterQueries.merge(List.of(answer("a:1", part(3, same), part(4, mine)), earlier),
        java.util.Map.of(3, "a:1"));
    assertThat(merged.metrics()).containsExactlyInAnyOrder(oldPeers, mine);
    assertThat(merged.answered()).containsExactly(3, 4, 5);
    assertThat(merged.answeredTwice()).singleElement().asString().startsWith("partition 3 ")
        .endsWith("counted once, from old:9 (an earlier release's answer, not split by partition)");

    // two earlier releases claiming one partition: both taken, as before, and said so
    ClusterQueries.Answer earlier2 = new ClusterQueries.Answer("old:8",
        LocalStores.Share.whole(List.of(same), java.util.Set.of(3, 6)));
    ClusterQueries.Merged both = ClusterQueries.merge(List.of(earlier, earlier2), java.util.Map.of());
    assertThat(both.metrics()).containsExactly(oldPeers, same);
    assertThat(both.answeredTwice()).containsExactly("partition 3 of mesh.telemetry.requests answered by old:9, old:8:"
        + " counted by each of them: earlier releases' answers, not split by partition, are all taken");
  }

  @Test
  void carriesEachPartitionsAggregateCountInAHeaderAndSplitsTheBodyByIt() {
    EdgeMetrics a = window(0, request("productpage", "v1", "reviews", "v1", 200, 10));
    EdgeMetrics b = window(0, request("productpage", "v1", "details", "v1", 200, 5));
    EdgeMetrics c = window(10, request("productpage", "v1", "details", "v1", 200, 5));
    LocalStores.Share share = new LocalStores.Share(List.of(part(0, a, b), part(3), part(7, c)));
    assertThat(ClusterQueries.partitionRecordsHeader(share)).isEqualTo("0:2,3:0,7:1");
    List<EdgeMetrics> body = HttpUtil.decodeAll(HttpUtil.encodeAll(share.metrics()));
    assertThat(ClusterQueries.split(body, java.util.Set.of(0, 3, 7), "0:2,3:0,7:1")).isEqualTo(share);
    for (String bad : List.of("0:2,3:0", "0:2,3:0,7:2", "0:1,3:0,7:1", "0:2,3:0,7:1,9:0", "0:2,0:0,7:1", "0:x,3:0,7:1",
        "0,3,7", "0:-1,3:0,7:4")) {
      assertThatThrownBy(() -> ClusterQueries.split(body, java.util.Set.of(0, 3, 7), bad))
          .as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("meshlog-partition-records: '" + bad + "' (expected: partition:count for each of the"
              + " partitions 0,3,7, counting all 3 aggregates, e.g. 0:5,3:0)");
    }
  }
}
