package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.Workload;
import org.junit.jupiter.api.Test;

class GraphAndTelemetryTest {

  static final String GRAPH = """
      {"from":"2026-11-24T11:59:00Z","to":"2026-11-24T12:00:00Z",
       "nodes":[{"id":"default/productpage","namespace":"default","service":"productpage","versions":["v1"]},
                {"id":"default/reviews","namespace":"default","service":"reviews","versions":["v1","v2"]}],
       "edges":[{"id":"default/productpage/v1->default/reviews/v2",
                 "source":{"namespace":"default","service":"productpage","version":"v1"},
                 "destination":{"namespace":"default","service":"reviews","version":"v2"},
                 "requests":120,"requestsPerSecond":2.0,"errors":12,"errorRate":0.1,
                 "p50Millis":20.5,"p99Millis":180.25}],
       "unreachable":[]}
      """;

  static JsonNode graph() throws Exception {
    return new ObjectMapper().readTree(GRAPH);
  }

  @Test
  void graphTableHasOneRowPerCall() throws Exception {
    String table = GraphCommand.render(graph(), GraphCommand.GraphFormat.table);
    assertThat(table.lines()).hasSize(2);
    assertThat(table.lines().findFirst().orElseThrow())
        .matches("SOURCE +DESTINATION +RPS +REQUESTS +ERRORS +P50 +P99 *");
    assertThat(table.lines().skip(1).findFirst().orElseThrow())
        .matches("productpage.default v1 +reviews.default v2 +2.00 +120 +10.0% +20.5ms +180.3ms *");
  }

  @Test
  void aCallerFromOutsideTheMeshIsUnknownWithoutATrailingDot() throws Exception {
    // The proxy names a caller it cannot identify service "unknown" with no namespace.
    String outside = GRAPH.replace(
        "\"source\":{\"namespace\":\"default\",\"service\":\"productpage\"",
        "\"source\":{\"namespace\":\"\",\"service\":\"unknown\"");
    assertThat(outside).isNotEqualTo(GRAPH);
    String table = GraphCommand.render(new ObjectMapper().readTree(outside),
        GraphCommand.GraphFormat.table);
    assertThat(table.lines().skip(1).findFirst().orElseThrow()).startsWith("unknown v1 ");
  }

  @Test
  void graphDotHasAClusterPerServiceAndColoursFailingCallsRed() throws Exception {
    String dot = GraphCommand.render(graph(), GraphCommand.GraphFormat.dot);
    assertThat(dot).startsWith("digraph mesh {");
    assertThat(dot).contains("label=\"reviews.default\"");
    assertThat(dot).contains("\"default/reviews/v2\" [label=\"v2\"]");
    assertThat(dot).contains("\"default/productpage/v1\" -> \"default/reviews/v2\" "
        + "[label=\"2.00 rps, 10.0% err, p99 180.3ms\", color=red];");
  }

  static final String TCP_GRAPH = GRAPH
      .replace("\"p99Millis\":180.25}]", "\"p99Millis\":180.25,\"protocols\":[\"http\"]},"
          + "{\"id\":\"default/reviews/v1->default/mysql/v1\",\"protocols\":[\"tcp\"],"
          + "\"source\":{\"namespace\":\"default\",\"service\":\"reviews\",\"version\":\"v1\"},"
          + "\"destination\":{\"namespace\":\"default\",\"service\":\"mysql\",\"version\":\"v1\"},"
          + "\"requests\":0,\"requestsPerSecond\":0.0,\"errors\":0,\"errorRate\":0.0,\"p50Millis\":0,\"p99Millis\":0,"
          + "\"tcp\":{\"connectionsOpened\":12,\"connectionsClosed\":10,\"connectionsOpen\":2,\"failedConnections\":1,"
          + "\"receivedBytes\":72000,\"sentBytes\":3000000,\"receivedBytesPerSecond\":1200.0,"
          + "\"sentBytesPerSecond\":50000.0,\"failureRate\":0.1}}]");

  @Test
  void graphTablePrintsTcpEdgesInATableOfTheirOwnWithConnectionsAndBytesPerSecond() throws Exception {
    String table = GraphCommand.render(new ObjectMapper().readTree(TCP_GRAPH), GraphCommand.GraphFormat.table);
    List<String> lines = table.lines().toList();
    assertThat(lines).hasSize(5);
    assertThat(lines.get(1)).matches("productpage.default v1 +reviews.default v2 +2.00 +120 +10.0% +20.5ms +180.3ms *");
    assertThat(lines.get(2)).isEmpty();
    assertThat(lines.get(3)).matches("SOURCE +DESTINATION +PROTOCOL +OPENED +CLOSED +FAILED +RECEIVED/S +SENT/S *");
    assertThat(lines.get(4)).matches("reviews.default v1 +mysql.default v1 +tcp +12 +10 +1 +1.2KB/s +50KB/s *");
    assertThat(table).as("a TCP edge is no HTTP row").doesNotContain("0.00");
  }

  @Test
  void graphTableOfTcpEdgesAloneHasTheTcpTableOnly() throws Exception {
    JsonNode graph = new ObjectMapper().readTree(TCP_GRAPH);
    ((com.fasterxml.jackson.databind.node.ArrayNode) graph.path("edges")).remove(0);
    String table = GraphCommand.render(graph, GraphCommand.GraphFormat.table);
    assertThat(table.lines()).hasSize(2);
    assertThat(table).startsWith("SOURCE").contains("mysql.default v1").doesNotContain("RPS");
  }

  @Test
  void graphDotDrawsATcpEdgeDashedWithItsBytesPerSecond() throws Exception {
    String dot = GraphCommand.render(new ObjectMapper().readTree(TCP_GRAPH), GraphCommand.GraphFormat.dot);
    assertThat(dot).contains("\"default/reviews/v1\" -> \"default/mysql/v1\" "
        + "[label=\"tcp 51KB/s, 12 conns, 1 failed\", style=dashed, color=red];");
    assertThat(dot).doesNotContain("\"default/reviews/v1\" -> \"default/mysql/v1\" [label=\"0.00 rps");
    assertThat(dot).contains("\"default/productpage/v1\" -> \"default/reviews/v2\" [label=\"2.00 rps");
  }

  @Test
  void bytesPerSecondAreInDecimalUnits() {
    assertThat(GraphCommand.bytesPerSecond(0)).isEqualTo("0B/s");
    assertThat(GraphCommand.bytesPerSecond(999)).isEqualTo("999B/s");
    assertThat(GraphCommand.bytesPerSecond(1_250)).isEqualTo("1.3KB/s");
    assertThat(GraphCommand.bytesPerSecond(34_000_000)).isEqualTo("34MB/s");
  }

  static final String LOSSY_GRAPH = GRAPH
      .replace("\"versions\":[\"v1\"]}", "\"versions\":[\"v1\"],\"lostReported\":25,\"lostReportedByVersion\":{\"v1\":25}}")
      .replace("\"versions\":[\"v1\",\"v2\"]}",
          "\"versions\":[\"v1\",\"v2\"],\"lostReported\":3,\"lostReportedByVersion\":{\"v2\":3}}")
      .replace("\"unreachable\":[]", "\"unreachable\":[],\"lostReported\":28");

  @Test
  void graphTableEndsWithALineSayingHowManyEventsProxiesLostAndWhose() throws Exception {
    String table = GraphCommand.render(new ObjectMapper().readTree(LOSSY_GRAPH), GraphCommand.GraphFormat.table);
    assertThat(table.lines()).hasSize(3);
    assertThat(table.lines().skip(2).findFirst().orElseThrow()).isEqualTo("LOST: 28 request events lost by proxies' "
        + "telemetry are not counted (reported by productpage.default v1: 25, reviews.default v2: 3)");
    // without losses (or from a pipeline that predates the field) there is no such line
    assertThat(GraphCommand.render(graph(), GraphCommand.GraphFormat.table)).doesNotContain("LOST");
  }

  @Test
  void graphTableOfNoTrafficStillSaysWhatWasLost() throws Exception {
    String empty = """
        {"from":"2026-11-24T11:59:00Z","to":"2026-11-24T12:00:00Z","edges":[],"unreachable":[],"lostReported":1,
         "nodes":[{"id":"default/reviews","namespace":"default","service":"reviews","versions":["v2"],
                   "lostReported":1,"lostReportedByVersion":{"v2":1}}]}
        """;
    assertThat(GraphCommand.render(new ObjectMapper().readTree(empty), GraphCommand.GraphFormat.table))
        .isEqualTo("No traffic between 2026-11-24T11:59:00Z and 2026-11-24T12:00:00Z.\n"
            + "LOST: 1 request event lost by proxies' telemetry is not counted (reported by reviews.default v2: 1)\n");
  }

  @Test
  void graphJsonAndDotCarryTheReportedLosses() throws Exception {
    JsonNode lossy = new ObjectMapper().readTree(LOSSY_GRAPH);
    assertThat(new ObjectMapper().readTree(GraphCommand.render(lossy, GraphCommand.GraphFormat.json))
        .path("lostReported").asLong()).isEqualTo(28);
    String dot = GraphCommand.render(lossy, GraphCommand.GraphFormat.dot);
    assertThat(dot).contains("  // LOST: 28 request events lost by proxies' telemetry are not counted");
    assertThat(dot).contains("  label=\"LOST: 28 request events lost by proxies' telemetry are not counted "
        + "(reported by productpage.default v1: 25, reviews.default v2: 3)\";\n  labelloc=b;\n}\n");
    assertThat(GraphCommand.render(graph(), GraphCommand.GraphFormat.dot)).doesNotContain("LOST");
  }

  @Test
  void tailRefusesACountOutOfRangeBeforeReachingKafka() {
    for (String n : List.of("-1", "1000001")) {
      Run run = Run.meshctl(Run.environment(java.nio.file.Path.of("."), java.util.Map.of(
          "MESHLOG_BOOTSTRAP", "127.0.0.1:1")), "telemetry", "tail", "-n", n);
      assertThat(run.code()).isEqualTo(Meshctl.USAGE);
      assertThat(run.err()).isEqualTo("error: -n: " + n + " (expected: 1..1000000, or 0 to follow)\n");
    }
  }

  @Test
  void tailPrintsOneLinePerRequest() {
    RequestEvent e = RequestEvent.newBuilder().setReporter(dev.meshlog.events.telemetry.Reporter.SOURCE)
        .setSource(Workload.newBuilder().setNamespace("default").setService("productpage").setVersion("v1").build())
        .setDestination(Workload.newBuilder().setNamespace("default").setService("reviews").setVersion("v2").build())
        .setMethod("GET").setPath("/reviews/1").setResponseCode(503).setResponseFlags(List.of("UH"))
        .setDurationMicros(12_345).setStartTime(Instant.parse("2026-11-24T12:00:00.123Z")).build();
    assertThat(TelemetryCommand.line(e)).isEqualTo(
        "2026-11-24T12:00:00.123Z default/productpage v1 -> default/reviews v2 GET /reviews/1 503 12.3ms [UH]");
    assertThat(TelemetryCommand.matches(e, "reviews")).isTrue();
    assertThat(TelemetryCommand.matches(e, "default/productpage")).isTrue();
    assertThat(TelemetryCommand.matches(e, "ratings")).isFalse();
  }

  @Test
  void tailPrintsATcpReportWithItsBytesAndPlaceInTheConnection() {
    RequestEvent.Builder b = RequestEvent.newBuilder()
        .setReporter(dev.meshlog.events.telemetry.Reporter.SOURCE).setProtocol("tcp")
        .setSource(Workload.newBuilder().setNamespace("default").setService("reviews").setVersion("v1").build())
        .setDestination(Workload.newBuilder().setNamespace("default").setService("db").setVersion("v1").build())
        .setAuthority("db.default.svc.cluster.local:5432").setResponseCode(0)
        .setRequestBytes(8).setResponseBytes(14).setDurationMicros(3_200_000)
        .setStartTime(Instant.parse("2026-11-24T12:00:00.123Z"));
    RequestEvent interim = b.setTcp(dev.meshlog.events.telemetry.TcpReport.newBuilder()
        .setOpened(true).setClosed(false).build()).build();
    RequestEvent failed = b.setRequestBytes(0).setResponseBytes(0).setDurationMicros(1_000)
        .setResponseFlags(List.of("UF")).setTcp(dev.meshlog.events.telemetry.TcpReport.newBuilder()
            .setOpened(true).setClosed(true).build()).build();

    assertThat(TelemetryCommand.line(interim)).isEqualTo("2026-11-24T12:00:00.123Z default/reviews v1"
        + " -> default/db v1 TCP db.default.svc.cluster.local:5432 opened 8B in 14B out 3.2s");
    assertThat(TelemetryCommand.line(failed)).isEqualTo("2026-11-24T12:00:00.123Z default/reviews v1"
        + " -> default/db v1 TCP db.default.svc.cluster.local:5432 open+closed 0B in 0B out 0.0s [UF]");
  }
}
