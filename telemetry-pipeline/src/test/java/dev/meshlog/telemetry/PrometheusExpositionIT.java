package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline's {@code /metrics} checked with Prometheus' own tools on real data with awkward
 * workload names (quotes, backslashes, a newline, unicode, markup): {@code promtool check
 * metrics} (skipped without {@code /usr/bin/promtool}; Debian's {@code prometheus} package), and
 * a real Prometheus server scraping the pipeline and answering a dashboard's rate query (skipped
 * without {@code /usr/bin/prometheus}).
 */
@WithKafka
class PrometheusExpositionIT {

  private static final Path PROMTOOL = Path.of("/usr/bin/promtool");
  private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static TelemetryService service;
  private static String ns;

  @BeforeAll
  static void start(KafkaCluster kafka, @TempDir Path state) throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    ns = KafkaCluster.uniqueName("prom");
    service = TelemetryService.start(new TelemetryService.Settings(kafka.bootstrapServers(), state,
        "127.0.0.1", 0, "127.0.0.1", Duration.ofMillis(100),
        TelemetryTopology.Settings.defaults(KafkaCluster.uniqueName("telemetry-prom"))), Clock.systemUTC());
    assertThat(service.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
    Instant now = Instant.now().minusSeconds(2);
    List<RequestEvent> events = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      events.add(Requests.request(ns, "front\"end", "v1", "re\\views", "v1\nrc", 200, 12, now));
      events.add(Requests.request(ns, "<script>alert(1)<\\script>", "v1", "ünïcødé-名前", "v'2", i % 2 == 0 ? 503 : 200,
          40, now, "UF"));
    }
    events.add(RequestEvent.newBuilder(Requests.request(ns, "front\"end", "v1", "re\\views", "v1\nrc", 200, 12, now))
        .setDroppedBefore(7).build());
    events.add(Requests.tcp(ns, "api", "v1", "db", "v1", now, 1000, true, true, 10, 20, "UF"));
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new StringSerializer(), new ByteArraySerializer())) {
      for (RequestEvent e : events) {
        producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), Requests.key(e), Requests.batchBytes(List.of(e))));
      }
    }
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
      String text = metrics();
      return text.contains("source_service=\"front\\\"end\"") && text.contains("ünïcødé-名前")
          && text.contains("destination_service=\"db\"") && text.contains("reporter_service=\"front\\\"end\"");
    });
  }

  @AfterAll
  static void stop() {
    if (service != null) {
      service.close();
    }
  }

  private static String metrics() throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void promtoolFindsNothingToComplainAboutInTheExposition(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(PROMTOOL), "no " + PROMTOOL + " (apt-get install prometheus)");
    Path file = dir.resolve("metrics.txt");
    Files.writeString(file, metrics());
    Process promtool = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics")
        .redirectInput(file.toFile()).redirectErrorStream(true).start();
    String out = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(promtool.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(out).as("promtool check metrics").isEmpty();
    assertThat(promtool.exitValue()).isZero();
  }

  @Test
  void prometheusScrapesThePipelineAndAnswersAnEdgesRequestRate(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(PROMETHEUS), "no " + PROMETHEUS + " (apt-get install prometheus)");
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort(); // Prometheus takes no port 0; a moment's race with another process is possible
    }
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, """
        global:
          scrape_interval: 1s
        scrape_configs:
          - job_name: meshlog-telemetry
            static_configs:
              - targets: ['127.0.0.1:%d']
        """.formatted(service.httpPort()));
    Process prometheus = new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
        "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
        .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    try {
      // the dashboard's query, on the pipeline's names: requests per second per edge
      String query = "sum by (source_service, destination_service, response_code_class) "
          + "(rate(meshlog_edge_requests_total{source_namespace=\"" + ns + "\"}[1m]))";
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
        JsonNode result = query(port, query);
        return result.size() > 0;
      });
      JsonNode result = query(port, "sum by (source_service, destination_service, destination_version) "
          + "(meshlog_edge_requests_total{source_namespace=\"" + ns + "\"})");
      assertThat(result.findValuesAsText("source_service")).contains("front\"end", "<script>alert(1)<\\script>");
      assertThat(result.findValuesAsText("destination_service")).contains("re\\views", "ünïcødé-名前");
      assertThat(result.findValuesAsText("destination_version")).contains("v1\nrc", "v'2");
      JsonNode lost = query(port, "meshlog_telemetry_events_lost_reported_total{reporter_namespace=\"" + ns
          + "\",reporter_service=\"front\\\"end\"}");
      assertThat(lost.get(0).path("value").get(1).asText()).isEqualTo("7");
      JsonNode p99 = query(port, "meshlog_edge_request_duration_seconds{source_namespace=\"" + ns
          + "\",destination_service=\"re\\\\views\",quantile=\"0.99\"}");
      assertThat(p99.get(0).path("value").get(1).asDouble()).isBetween(0.0118, 0.0122);
    } finally {
      prometheus.destroy();
      prometheus.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static JsonNode query(int port, String promql) throws IOException, InterruptedException {
    String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
        + URLEncoder.encode(promql, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString()).body();
    JsonNode answer = new ObjectMapper().readTree(body);
    assertThat(answer.path("status").asText()).as(body).isEqualTo("success");
    return answer.path("data").path("result");
  }
}
