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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Queries while a second instance joins and leaves: every answer of the graph is either whole
 * (every edge, nothing listed in {@code unreachable}), a 503, or says what it lacks — an instance
 * or the input partitions no instance answered for — never silently partial; and no edge is
 * counted twice (each has one request), though two instances may answer for a moving partition.
 */
@WithKafka
class RebalanceQueryIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final int EDGES = 24;

  @Test
  void noAnswerDuringARebalanceIsSilentlyPartial(KafkaCluster kafka, @TempDir Path stateA, @TempDir Path stateB)
      throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("rebalance");
    TelemetryTopology.Settings topology = TelemetryTopology.Settings.defaults(KafkaCluster.uniqueName("telemetry-rebalance"));
    Map<String, Integer> outcomes = new TreeMap<>();
    List<String> silent = new ArrayList<>();
    try (TelemetryService first = TelemetryService.start(settings(kafka, stateA, topology), Clock.systemUTC())) {
      assertThat(first.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
      send(kafka, ns);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> "whole".equals(classify(first, ns, new ArrayList<>())));
      // alone, it answers for every input partition, and says so to the other instances
      HttpResponse<String> share = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + first.httpPort() + "/internal/v1/totals")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(share.headers().firstValue("meshlog-partitions")).hasValue("0,1,2,3,4,5,6,7,8,9,10,11");
      // and how many aggregates each partition has, in the body's order: the receiver takes each
      // partition from one instance (two answering for one while a task moves count it once)
      String records = share.headers().firstValue("meshlog-partition-records").orElseThrow();
      assertThat(records.split(",")).extracting(e -> e.substring(0, e.indexOf(':')))
          .containsExactly("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11");

      TelemetryService second = TelemetryService.start(settings(kafka, stateB, topology), Clock.systemUTC());
      try {
        // while the second joins (both asked), and a while after it is RUNNING
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).until(() -> {
          ask(first, ns, outcomes, silent);
          ask(second, ns, outcomes, silent);
          return second.app().streams().state() == KafkaStreams.State.RUNNING
              && first.app().streams().state() == KafkaStreams.State.RUNNING
              && outcomes.getOrDefault("whole", 0) > 40;
        });
      } finally {
        second.close();
      }
      // and while it leaves, until the first holds every partition again
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).until(() -> {
        String outcome = ask(first, ns, outcomes, silent);
        return "whole".equals(outcome) && first.app().streams().state() == KafkaStreams.State.RUNNING;
      });
    }
    System.out.println("answers during the rebalances: " + outcomes);
    assertThat(silent).as("answers with fewer edges and nothing listed as missing, or an edge counted twice").isEmpty();
  }

  private static String ask(TelemetryService instance, String ns, Map<String, Integer> outcomes, List<String> silent) {
    String outcome = classify(instance, ns, silent);
    outcomes.merge(outcome, 1, Integer::sum);
    return outcome;
  }

  /** whole, partial-and-marked, 503, other status, or silent (recorded in {@code silent}). */
  private static String classify(TelemetryService instance, String ns, List<String> silent) {
    HttpResponse<String> response;
    try {
      response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + instance.httpPort()
          + "/api/v1/graph?window=5m&namespace=" + ns)).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      return "no answer";
    }
    if (response.statusCode() != 200) {
      return "HTTP " + response.statusCode();
    }
    try {
      JsonNode graph = JSON.readTree(response.body());
      int edges = 0;
      for (JsonNode edge : graph.path("edges")) {
        if (edge.path("source").path("namespace").asText().equals(ns)) {
          edges++;
          if (edge.path("requests").asLong() != 1) {
            silent.add("counted " + edge.path("requests").asLong() + " times: " + response.body());
            return "counted twice";
          }
        }
      }
      boolean marked = !graph.path("unreachable").isEmpty();
      if (edges == EDGES && !marked) {
        return "whole";
      }
      if (marked) {
        return "partial, marked";
      }
      silent.add(edges + " edges: " + response.body());
      return "silently partial";
    } catch (Exception e) {
      return "unreadable";
    }
  }

  private static TelemetryService.Settings settings(KafkaCluster kafka, Path state, TelemetryTopology.Settings topology) {
    return new TelemetryService.Settings(kafka.bootstrapServers(), state, "127.0.0.1", 0, "127.0.0.1",
        Duration.ofMillis(100), topology);
  }

  /** One batch for each of {@link #EDGES} edges. */
  private static void send(KafkaCluster kafka, String ns) {
    Instant now = Instant.now();
    try (KafkaProducer<String, RequestEventBatch> producer = new KafkaProducer<>(kafka.clientConfig(),
        Topics.TELEMETRY_REQUESTS.keySerde().serializer(), Topics.TELEMETRY_REQUESTS.valueSerde().serializer())) {
      for (int i = 0; i < EDGES; i++) {
        List<RequestEvent> batch = List.of(Requests.request(ns, "frontend", "v1", "backend-" + i, "v1", 200, 10,
            now.minusSeconds(5)));
        producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), Requests.key(batch.get(0)),
            Requests.batch(batch)));
      }
      producer.flush();
    }
  }
}
