package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
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

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.schemas.KafkaClientSettings;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.KafkaExtension;
import dev.meshlog.testkit.SaslPlainListener;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The pipeline on a Kafka that needs SASL ({@code --kafka-config}). */
@WithKafka
class KafkaConfigIT {

  @TempDir
  Path dir;

  @Test
  void runsAndAggregatesOverSasl(KafkaCluster kafka) throws Exception {
    SaslPlainListener sasl = KafkaExtension.saslPlain(kafka);
    sasl.addUser("pipeline", "pipeline-secret");
    Path file = SaslPlainListener.writeClientProperties(dir.resolve("client.properties"),
        "pipeline", "pipeline-secret");
    KafkaClientSettings client = KafkaClientSettings.load(file,
        StreamsOverrides.RESERVED_CLIENT_KEYS);
    try (Admin admin = Admin.create(client.clientConfig(sasl.bootstrapServers()))) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("shop");

    try (TelemetryService service = TelemetryService.start(new TelemetryService.Settings(
        sasl.bootstrapServers(), dir.resolve("state"), "127.0.0.1", 0, "127.0.0.1",
        Duration.ofMillis(100), TelemetryTopology.Settings.defaults(
            KafkaCluster.uniqueName("telemetry-sasl")), 1,
        StreamsOverrides.merge(client, List.of())), Clock.systemUTC())) {
      assertThat(service.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
      Instant now = Instant.now().minusSeconds(5);
      Map<String, Object> producerConfig = new HashMap<>(client.clientConfig(
          sasl.bootstrapServers()));
      try (KafkaProducer<String, RequestEventBatch> producer = new KafkaProducer<>(
          producerConfig, Topics.TELEMETRY_REQUESTS.keySerde().serializer(),
          Topics.TELEMETRY_REQUESTS.valueSerde().serializer())) {
        List<RequestEvent> events = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
          events.add(Requests.request(ns, "frontend", "v1", "reviews", "v1", 200, 10, now));
        }
        producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(),
            Requests.key(events.get(0)), RequestEventBatch.newBuilder().setEvents(events).build()));
      }
      HttpClient http = HttpClient.newHttpClient();
      URI graph = URI.create("http://127.0.0.1:" + service.httpPort() + "/api/v1/graph?window=5m");
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
        String body = http.send(HttpRequest.newBuilder(graph).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        return body.contains("\"namespace\":\"" + ns + "\"") && body.contains("\"requests\":3");
      });
    }
    assertThat(sasl.hasAuthenticated("pipeline")).isTrue();
  }

  @Test
  void aWrongPasswordEndsTheStartWithAnAuthenticationError(KafkaCluster kafka) throws Exception {
    SaslPlainListener sasl = KafkaExtension.saslPlain(kafka);
    sasl.addUser("pipeline-2", "right");
    Path file = SaslPlainListener.writeClientProperties(dir.resolve("client.properties"),
        "pipeline-2", "wrong-one");
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new TelemetryMain());
    cli.setErr(new PrintWriter(err, true));

    int code = cli.execute("--bootstrap-server", sasl.bootstrapServers(), "--kafka-config",
        file.toString(), "--data-dir", dir.toString(), "--http-port", "0");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).contains("Authentication failed").doesNotContain("wrong-one");
  }
}
