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
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus scraping the pipeline's {@code /metrics} across a restart of the pipeline:
 * the target is down while it is away, and its counters come back where they were (the totals
 * store is restored from its changelog), so Prometheus sees no counter reset and {@code
 * increase()} counts exactly the requests made. Skipped without Debian's {@code prometheus}.
 */
@WithKafka
class PrometheusRestartIT {

  private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void prometheusSeesNoCounterResetAcrossAPipelineRestart(KafkaCluster kafka, @TempDir Path state,
      @TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(PROMETHEUS), "no " + PROMETHEUS + " (apt-get install prometheus)");
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("promrestart");
    String app = KafkaCluster.uniqueName("telemetry-promrestart");
    TelemetryService service = TelemetryService.start(settings(kafka, state, 0, app), Clock.systemUTC());
    Process prometheus = null;
    try {
      assertThat(service.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
      int pipelinePort = service.httpPort();
      send(kafka, ns, 10);
      String series = "meshlog_edge_requests_total{source_namespace=\"" + ns + "\"}";
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() ->
          metrics(pipelinePort).contains("source_namespace=\"" + ns + "\"") && metrics(pipelinePort).contains("} 10\n"));

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
          """.formatted(pipelinePort));
      prometheus = new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
          "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
          .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
      int prom = port;
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() ->
          value(prom, "sum(" + series + ")") == 10);

      // the pipeline goes away: the target is down, not a series at 0
      service.close();
      service = null;
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() ->
          value(prom, "up{job=\"meshlog-telemetry\"}") == 0);

      // and comes back on the same port and state, while more requests are made
      service = TelemetryService.start(settings(kafka, state, pipelinePort, app), Clock.systemUTC());
      assertThat(service.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
      send(kafka, ns, 5);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() ->
          value(prom, "sum(" + series + ")") == 15);
      // a few scrapes more, so that any dip of the restored counters would be in the range
      long scrapes = (long) value(prom, "max(count_over_time(" + series + "[10m]))");
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() ->
          value(prom, "max(count_over_time(" + series + "[10m]))") >= scrapes + 3);
      assertThat(value(prom, "sum(resets(" + series + "[10m]))")).as("counter resets Prometheus saw").isZero();
      assertThat(value(prom, "sum(max_over_time(" + series + "[10m]) - min_over_time(" + series + "[10m]))"))
          .isEqualTo(5);
    } finally {
      if (prometheus != null) {
        prometheus.destroy();
        prometheus.waitFor(30, TimeUnit.SECONDS);
      }
      if (service != null) {
        service.close();
      }
    }
  }

  private static void send(KafkaCluster kafka, String ns, int n) {
    Instant now = Instant.now().minusSeconds(1);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(), new StringSerializer(),
        new ByteArraySerializer())) {
      for (int i = 0; i < n; i++) {
        RequestEvent e = Requests.request(ns, "a", "v1", "b", "v1", 200, 5, now);
        producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), Requests.key(e), Requests.single(e)));
      }
    }
  }

  private static TelemetryService.Settings settings(KafkaCluster kafka, Path state, int port, String app) {
    return new TelemetryService.Settings(kafka.bootstrapServers(), state, "127.0.0.1", port, "127.0.0.1",
        Duration.ofMillis(100), TelemetryTopology.Settings.defaults(app));
  }

  private static String metrics(int port) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The one value {@code promql} answers now (NaN when it answers none). */
  private static double value(int port, String promql) throws IOException, InterruptedException {
    String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
        + URLEncoder.encode(promql, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString()).body();
    JsonNode result = new ObjectMapper().readTree(body).path("data").path("result");
    return result.size() == 1 ? result.get(0).path("value").get(1).asDouble() : Double.NaN;
  }
}
