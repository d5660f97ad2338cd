package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.telemetry.query.EdgeFilter;
import dev.meshlog.telemetry.query.LocalStores;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two pipeline instances on a real broker share the partitions; a query to either fans out to
 * the other and answers the same, whole graph.
 */
@WithKafka
class TelemetryClusterIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  // 24 edges over 12 partitions shared by two instances: the chance that one instance holds
  // them all is 2 in 2^24.
  private static final int EDGES = 24;

  private static TelemetryService first;
  private static TelemetryService second;
  private static String ns;

  @BeforeAll
  static void start(KafkaCluster kafka, @TempDir Path stateA, @TempDir Path stateB) throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    ns = KafkaCluster.uniqueName("ns");
    TelemetryTopology.Settings topology = TelemetryTopology.Settings.defaults(KafkaCluster.uniqueName("telemetry"));
    first = TelemetryService.start(settings(kafka, stateA, topology), Clock.systemUTC());
    second = TelemetryService.start(settings(kafka, stateB, topology), Clock.systemUTC());
    assertThat(first.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
    assertThat(second.app().awaitRunning(Duration.ofSeconds(90))).isTrue();

    Instant now = Instant.now();
    // one batch per edge, as a proxy's emitter writes them
    try (KafkaProducer<String, RequestEventBatch> producer = new KafkaProducer<>(kafka.clientConfig(),
        Topics.TELEMETRY_REQUESTS.keySerde().serializer(), Topics.TELEMETRY_REQUESTS.valueSerde().serializer())) {
      for (int i = 0; i < EDGES; i++) {
        List<RequestEvent> batch = new java.util.ArrayList<>();
        for (int n = 0; n <= i; n++) {
          batch.add(Requests.request(ns, "frontend", "v1", "backend-" + i, "v1",
              n == 0 ? 503 : 200, 10 + n, now.minusSeconds(5)));
        }
        // frontend's proxy lost i + 1 events before each batch: its losses are spread over edges
        // held by both instances
        batch.set(0, RequestEvent.newBuilder(batch.get(0)).setDroppedBefore(i + 1).build());
        // and it relayed one TCP connection on each edge, opened and closed in one report
        batch.add(Requests.tcp(ns, "frontend", "v1", "backend-" + i, "v1", now.minusSeconds(6), 1_000, true, true,
            100L * (i + 1), 1_000L * (i + 1)));
        producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), Requests.key(batch.get(0)),
            Requests.batch(batch)));
      }
      producer.flush();
    }
  }

  private static TelemetryService.Settings settings(KafkaCluster kafka, Path state,
                                                    TelemetryTopology.Settings topology) {
    return new TelemetryService.Settings(kafka.bootstrapServers(), state, "127.0.0.1", 0, "127.0.0.1",
        Duration.ofMillis(100), topology);
  }

  @AfterAll
  static void stop() {
    if (first != null) {
      first.close();
    }
    if (second != null) {
      second.close();
    }
  }

  private static String get(TelemetryService instance, String path) throws Exception {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + instance.httpPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
    return response.body();
  }

  @Test
  void answersEachBadQueryParameterWithA400NamingItAndWhatIsExpected() throws Exception {
    Map<String, String> expected = Map.of(
        "/internal/v1/windows?size=abc&from=0&to=1", "size: abc (expected: a window size in milliseconds, one of 10000, 60000)",
        "/internal/v1/windows?size=10000&from=x&to=1", "from: x (expected: epoch milliseconds, e.g. 1764000000000)",
        "/internal/v1/windows?size=10000&from=0", "to: missing (expected: epoch milliseconds, e.g. 1764000000000)",
        "/internal/v1/totals?service=a/b/c", "service: a/b/c (expected: namespace/service or service.namespace, e.g. default/reviews)",
        "/metrics?scope=everything", "scope: everything (expected: cluster, or no scope for this instance's own edges)",
        "/api/v1/edges/reviews.default/ratings.default/series?window=5m&step=abc",
        "step: abc (expected: a number and ms, s, m, h or d, e.g. 1m)",
        "/api/v1/graph?to=5", "to: 5 (expected: with from; or window alone)");
    for (var e : expected.entrySet()) {
      HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + first.httpPort() + e.getKey())).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(e.getKey()).isEqualTo(400);
      assertThat(JSON.readTree(response.body()).path("error").asText()).as(e.getKey()).isEqualTo(e.getValue());
    }
  }

  /** Requests per edge id of this test's namespace in a graph answer. */
  private static Map<String, Long> requestsByEdge(String graphJson) throws Exception {
    Map<String, Long> out = new HashMap<>();
    for (JsonNode edge : JSON.readTree(graphJson).path("edges")) {
      if (edge.path("source").path("namespace").asText().equals(ns)) {
        out.put(edge.path("destination").path("service").asText(), edge.path("requests").asLong());
      }
    }
    return out;
  }

  @Test
  void eitherInstanceAnswersTheSameWholeGraph() throws Exception {
    Map<String, Long> expected = new HashMap<>();
    for (int i = 0; i < EDGES; i++) {
      expected.put("backend-" + i, (long) i + 1);
    }
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
        assertThat(requestsByEdge(get(first, "/api/v1/graph?window=5m"))).isEqualTo(expected));
    String fromFirst = get(first, "/api/v1/graph?window=5m");
    String fromSecond = get(second, "/api/v1/graph?window=5m");
    assertThat(requestsByEdge(fromSecond)).isEqualTo(expected);
    JsonNode graph = JSON.readTree(fromSecond);
    assertThat(graph.path("unreachable")).isEmpty();
    JsonNode backend3 = null;
    for (JsonNode edge : graph.path("edges")) {
      if (edge.path("source").path("namespace").asText().equals(ns)
          && edge.path("destination").path("service").asText().equals("backend-3")) {
        backend3 = edge;
      }
    }
    assertThat(backend3).isNotNull();
    assertThat(backend3.path("errors").asLong()).isEqualTo(1);
    assertThat(backend3.path("errorRate").asDouble()).isEqualTo(0.25);
    assertThat(backend3.path("responseCodeClasses").path("5xx").asLong()).isEqualTo(1);
    assertThat(requestsByEdge(fromFirst)).isEqualTo(requestsByEdge(fromSecond));

    // Each instance holds only part of it: the fan-out is what makes it whole.
    String localFirst = get(first, "/metrics");
    String localSecond = get(second, "/metrics");
    int inFirst = countBackends(localFirst);
    int inSecond = countBackends(localSecond);
    assertThat(inFirst + inSecond).isEqualTo(EDGES);
    assertThat(inFirst).isLessThan(EDGES);
    assertThat(inSecond).isLessThan(EDGES);
    assertThat(countBackends(get(first, "/metrics?scope=cluster"))).isEqualTo(EDGES);
  }

  @Test
  void answersAServicesEdgesAndAnEdgeSeriesFromEitherInstance() throws Exception {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
        assertThat(requestsByEdge(get(second, "/api/v1/graph?window=5m"))).hasSize(EDGES));
    JsonNode edges = JSON.readTree(get(first, "/api/v1/services/" + ns + "/frontend/edges?window=5m"));
    assertThat(edges.path("outbound")).hasSize(EDGES);
    assertThat(edges.path("inbound")).isEmpty();
    long lost = (long) EDGES * (EDGES + 1) / 2; // 1 + 2 + ... + EDGES
    assertThat(edges.path("lostReported").asLong()).isEqualTo(lost);
    // the frontend's losses sit on edges of both instances: either answers the whole of them
    for (TelemetryService instance : List.of(first, second)) {
      JsonNode frontend = null;
      for (JsonNode node : JSON.readTree(get(instance, "/api/v1/graph?window=5m")).path("nodes")) {
        if (node.path("id").asText().equals(ns + "/frontend")) {
          frontend = node;
        }
      }
      assertThat(frontend).isNotNull();
      assertThat(frontend.path("lostReported").asLong()).isEqualTo(lost);
      assertThat(frontend.path("lostReportedByVersion").path("v1").asLong()).isEqualTo(lost);
    }
    assertThat(get(second, "/metrics?scope=cluster")).contains("meshlog_telemetry_events_lost_reported_total{"
        + "reporter_namespace=\"" + ns + "\",reporter_service=\"frontend\",reporter_version=\"v1\"} " + lost + "\n");
    JsonNode series = JSON.readTree(get(second, "/api/v1/edges/frontend." + ns + "/backend-5." + ns + "/series?window=5m"));
    long total = 0;
    for (JsonNode point : series.path("points")) {
      total += point.path("stats").path("requests").asLong();
    }
    assertThat(total).isEqualTo(6);
  }

  @Test
  void eitherInstanceAnswersTheSameTcpFigures() throws Exception {
    long bytes = (long) EDGES * (EDGES + 1) / 2; // (1 + 2 + ... + EDGES) hundreds received, thousands sent
    for (TelemetryService instance : List.of(first, second)) {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
        long opened = 0;
        long closed = 0;
        long received = 0;
        long sent = 0;
        for (JsonNode edge : JSON.readTree(get(instance, "/api/v1/graph?window=5m")).path("edges")) {
          if (edge.path("source").path("namespace").asText().equals(ns)) {
            assertThat(edge.path("protocols").toString()).isEqualTo("[\"http\",\"tcp\"]");
            opened += edge.path("tcp").path("connectionsOpened").asLong();
            closed += edge.path("tcp").path("connectionsClosed").asLong();
            received += edge.path("tcp").path("receivedBytes").asLong();
            sent += edge.path("tcp").path("sentBytes").asLong();
          }
        }
        assertThat(List.of(opened, closed, received, sent)).containsExactly(
            (long) EDGES, (long) EDGES, 100 * bytes, 1_000 * bytes);
      });
      long metricsReceived = get(instance, "/metrics?scope=cluster").lines()
          .filter(l -> l.startsWith("meshlog_edge_tcp_received_bytes_total{") && l.contains("source_namespace=\"" + ns + "\""))
          .mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf(' ') + 1))).sum();
      assertThat(metricsReceived).isEqualTo(100 * bytes);
    }
    JsonNode series = JSON.readTree(get(first, "/api/v1/edges/frontend." + ns + "/backend-5." + ns + "/series?window=5m"));
    long sent = 0;
    for (JsonNode point : series.path("points")) {
      sent += point.path("stats").path("tcp").path("sentBytes").asLong();
    }
    assertThat(sent).isEqualTo(6_000);
  }

  @Test
  void theEdgeKeysPartitionNamesTheInstanceThatHoldsEachEdge() {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
        assertThat(localEdges(first).size() + localEdges(second).size()).isEqualTo(EDGES));
    for (int i = 0; i < EDGES; i++) {
      String id = ns + "/frontend/v1->" + ns + "/backend-" + i + "/v1";
      KeyQueryMetadata owner = EdgeOwner.owner(second.app().streams(), id);
      TelemetryService holder = owner.activeHost().port() == first.httpPort() ? first : second;
      TelemetryService other = holder == first ? second : first;
      assertThat(localEdges(holder)).as(id).contains(id);
      assertThat(localEdges(other)).as(id).doesNotContain(id);
      assertThat(owner.partition()).isEqualTo(EdgeOwner.partitionOf(id, Topics.TELEMETRY_REQUESTS.partitions()));
    }
  }

  /** The edge ids of this test's namespace in one instance's own totals store. */
  private static java.util.List<String> localEdges(TelemetryService instance) {
    return new LocalStores(instance.app().streams()).totals(EdgeFilter.ALL).stream()
        .filter(m -> m.getSource().getNamespace().equals(ns))
        .map(m -> Edge.of(m).id())
        .toList();
  }

  private static int countBackends(String metrics) {
    return (int) metrics.lines()
        .filter(l -> l.startsWith("meshlog_edge_errors_total{") && l.contains("source_namespace=\"" + ns + "\""))
        .count();
  }
}
