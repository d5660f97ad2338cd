package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.telemetry.query.EdgeFilter;
import dev.meshlog.telemetry.query.LocalStores;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A caught-up pipeline commits every commit interval although Kafka Streams' own interval (the
 * catch-up one) is much longer: its tasks ask for the commits.
 */
@WithKafka
class CaughtUpCommitIT {

  @Test
  void caughtUpTaskCommitsAtTheCommitIntervalNotTheCatchUpOne(KafkaCluster kafka, @TempDir Path state)
      throws Exception {
    String ns = KafkaCluster.uniqueName("ns");
    TelemetryApp.Settings settings = settings(kafka, state, "telemetry-commits");
    assertThat(TelemetryApp.streamsConfig(settings).getProperty("commit.interval.ms")).isEqualTo("30000");
    try (TelemetryApp app = new TelemetryApp(settings)) {
      app.start();
      assertThat(app.awaitRunning(Duration.ofSeconds(90))).isTrue();
      Instant now = Instant.now();
      sendTen(kafka, ns, now, 0);
      LocalStores stores = new LocalStores(app.streams());
      // Visible only after a commit: well before Kafka Streams' own 30 s one.
      await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
          .until(() -> requests(stores, ns) == 10);
    }
  }

  @Test
  void taskThatReadTheEndOfABacklogOfOldEventsCommitsOnceNothingMoreArrives(KafkaCluster kafka,
                                                                           @TempDir Path state)
      throws Exception {
    String ns = namespaceOnAnEmptiedTopic(kafka);
    TelemetryApp.Settings settings = settings(kafka, state, "telemetry-backlog");
    try (TelemetryApp app = new TelemetryApp(settings)) {
      app.start();
      assertThat(app.awaitRunning(Duration.ofSeconds(90))).isTrue();
      // Two hours behind the wall clock: by event time the task is not caught up.
      Instant old = Instant.now().minus(Duration.ofHours(2));
      sendTen(kafka, ns, old, 1);
      LocalStores stores = new LocalStores(app.streams());
      await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
          .until(() -> requests(stores, ns) == 10);
    }
  }

  @Test
  void taskThatReachesTheEndOfABacklogCommitsWithinChecksNotCommitIntervals(KafkaCluster kafka,
                                                                           @TempDir Path state)
      throws Exception {
    String ns = namespaceOnAnEmptiedTopic(kafka);
    // Commits asked for every 29 s while caught up, Kafka Streams' own every 30 s: the counts
    // can show within the deadline only if the task notices the end of its backlog at a check
    // (every 250 ms) rather than at a commit interval's punctuation (29 s, then 58 s).
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    TelemetryApp.Settings settings = new TelemetryApp.Settings(kafka.bootstrapServers(), state,
        "127.0.0.1:1", Duration.ofSeconds(29),
        TelemetryTopology.Settings.defaults(KafkaCluster.uniqueName("telemetry-end")), 1,
        Duration.ofSeconds(30));
    // A backlog waiting before the application starts: each task's first commit is the one
    // asked for at the end of what it reads (no earlier commit of the task delays it).
    sendTen(kafka, ns, Instant.now().minus(Duration.ofHours(2)), 1);
    try (TelemetryApp app = new TelemetryApp(settings)) {
      app.start();
      assertThat(app.awaitRunning(Duration.ofSeconds(90))).isTrue();
      LocalStores stores = new LocalStores(app.streams());
      await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
          .until(() -> requests(stores, ns) == 10);
    }
  }

  /** Settings with a 200 ms commit interval and Kafka Streams' own (catch-up) one at 30 s. */
  private static TelemetryApp.Settings settings(KafkaCluster kafka, Path state, String app)
      throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    return new TelemetryApp.Settings(kafka.bootstrapServers(), state, "127.0.0.1:1",
        Duration.ofMillis(200), TelemetryTopology.Settings.defaults(KafkaCluster.uniqueName(app)),
        1, Duration.ofSeconds(30));
  }

  /**
   * A fresh namespace, after the requests topic has been emptied of what other tests wrote
   * (its records deleted up to the current end; the topic's cleanup policy is delete). Events
   * two hours old are a backlog only where nothing fresher comes before them: an application
   * reading a partition from its start, where another test's current events sit before these,
   * takes its stream time from those and drops these as later than the grace period — which
   * made this class fail whenever its random namespace hashed to such a partition.
   */
  private static String namespaceOnAnEmptiedTopic(KafkaCluster kafka) throws Exception {
    String topic = Topics.TELEMETRY_REQUESTS.name();
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
      int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
          .partitions().size();
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      Map<TopicPartition, RecordsToDelete> before = new HashMap<>();
      admin.listOffsets(latest).all().get().forEach((tp, info) ->
          before.put(tp, RecordsToDelete.beforeOffset(info.offset())));
      admin.deleteRecords(before).all().get();
    }
    return KafkaCluster.uniqueName("ns");
  }

  /**
   * Ten calls of one edge, the i-th at {@code start + i × stepMillis}, one per record as releases
   * before batching wrote them (the other ITs write batches).
   */
  private static void sendTen(KafkaCluster kafka, String ns, Instant start, long stepMillis) {
    try (KafkaProducer<String, RequestEvent> producer = new KafkaProducer<>(kafka.clientConfig(),
        Topics.TELEMETRY_REQUESTS.keySerde().serializer(), Requests.SINGLE.serializer())) {
      for (int i = 0; i < 10; i++) {
        RequestEvent e = Requests.request(ns, "frontend", "v1", "backend", "v1", 200, 5,
            start.plusMillis(i * stepMillis));
        producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), Requests.key(e), e));
      }
      producer.flush();
    }
  }

  private static long requests(LocalStores stores, String ns) {
    try {
      return stores.totals(EdgeFilter.ALL).stream()
          .filter(m -> ns.contentEquals(m.getSource().getNamespace()))
          .mapToLong(m -> m.getRequests()).sum();
    } catch (InvalidStateStoreException e) {
      return 0;
    }
  }
}
