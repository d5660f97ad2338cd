package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.telemetry.query.EdgeFilter;
import dev.meshlog.telemetry.query.LocalStores;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart of the pipeline on its state directory: after a clean close every task resumes from
 * its local stores (a few records restored at most, not the changelogs), and the windows and
 * totals are the same as before.
 */
@WithKafka
class CleanRestartIT {

  private static final int EDGES = 8;
  private static final int CALLS = 40;

  @Test
  void cleanRestartResumesFromLocalStateWithTheSameWindows(KafkaCluster kafka, @TempDir Path state)
      throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("cleanrestart");
    TelemetryTopology.Settings topology = TelemetryTopology.Settings.defaults(KafkaCluster.uniqueName("telemetry-cleanrestart"));
    Snapshot before;
    try (TelemetryApp app = new TelemetryApp(settings(kafka, state, topology))) {
      app.start();
      assertThat(app.awaitRunning(Duration.ofSeconds(90))).isTrue();
      send(kafka, ns, Instant.now().minusSeconds(20));
      before = awaitAll(new LocalStores(app.streams()), ns);
    }
    // A task Kafka Streams finds corrupted is wiped: its directory goes, and this file with it.
    List<Path> markers = markTaskDirectories(state.resolve(topology.application()));
    assertThat(markers).hasSize(Topics.TELEMETRY_REQUESTS.partitions());

    Restores restores = new Restores();
    try (TelemetryApp app = new TelemetryApp(settings(kafka, state, topology))) {
      app.streams().setGlobalStateRestoreListener(restores);
      app.start();
      assertThat(app.awaitRunning(Duration.ofSeconds(90))).isTrue();
      Snapshot after = awaitAll(new LocalStores(app.streams()), ns);
      assertThat(after).isEqualTo(before);
    }
    long changelogs = changelogRecords(kafka, topology.application());
    System.out.println("restored " + restores.byStore + " of " + changelogs + " changelog records; starts " + restores.starts);
    assertThat(changelogs).isGreaterThan(3L * EDGES);
    assertThat(restores.total()).isLessThan(changelogs / 10);
    assertThat(markers).allMatch(Files::exists, "task directory kept");
  }

  /** Puts a file into each task directory under {@code appDir}; returns them. */
  static List<Path> markTaskDirectories(Path appDir) throws java.io.IOException {
    List<Path> markers = new ArrayList<>();
    try (var dirs = Files.list(appDir)) {
      for (Path dir : dirs.filter(Files::isDirectory).toList()) {
        markers.add(Files.writeString(dir.resolve("kept-by-restart"), "a wiped task loses this file"));
      }
    }
    return markers;
  }

  @Test
  void aKilledPipelineRestoresTheSameCountsFromTheChangelogs(KafkaCluster kafka, @TempDir Path state)
      throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("killed");
    String application = KafkaCluster.uniqueName("telemetry-killed");
    // The first run is a JVM of its own, killed (SIGKILL) once it has counted everything:
    // no close, no flush, no offsets kept.
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.meshlog",
        "-cp", System.getProperty("java.class.path"), Child.class.getName(),
        kafka.bootstrapServers(), state.toString(), application, ns)
        .redirectErrorStream(true).start();
    Instant start = Instant.now().minusSeconds(20);
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      boolean sent = false;
      while ((line = out.readLine()) != null && !line.equals(Child.COUNTED)) {
        if (line.equals(Child.RUNNING) && !sent) {
          send(kafka, ns, start);
          sent = true;
        }
      }
      assertThat(line).as("the child's last line").isEqualTo(Child.COUNTED);
    } finally {
      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    // The killed member stays in the group until its session times out (45 s); an operator
    // replacing a dead instance waits for that, the test takes it out instead. What is checked
    // here is the restore, not how long the group takes to notice.
    try (Admin admin = kafka.admin()) {
      admin.removeMembersFromConsumerGroup(application,
          new org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions()).all().get();
    }
    Restores restores = new Restores();
    TelemetryTopology.Settings topology = TelemetryTopology.Settings.defaults(application);
    try (TelemetryApp app = new TelemetryApp(settings(kafka, state, topology))) {
      app.streams().setGlobalStateRestoreListener(restores);
      app.start();
      assertThat(app.awaitRunning(Duration.ofSeconds(90))).isTrue();
      Snapshot after = awaitAll(new LocalStores(app.streams()), ns);
      assertThat(after.totals()).hasSize(2 * EDGES) // each edge has two destination versions
          .allSatisfy(m -> assertThat(m.getRequests()).isEqualTo(CALLS / 2));
    }
    System.out.println("restored after a kill " + restores.byStore + "; starts " + restores.starts);
    // Under exactly-once the killed run's local state is not trusted: the stores with our
    // edges were restored from their changelogs, all three of them.
    assertThat(restores.byStore.keySet()).contains(TelemetryTopology.STORE_10S, TelemetryTopology.STORE_1M,
        TelemetryTopology.TOTALS_STORE);
  }

  /** The first run of {@link #aKilledPipelineRestoresTheSameCountsFromTheChangelogs}, in a JVM of its own. */
  static final class Child {
    static final String RUNNING = "child: running";
    static final String COUNTED = "child: counted";

    public static void main(String[] args) throws Exception {
      try {
        TelemetryTopology.Settings topology = TelemetryTopology.Settings.defaults(args[2]);
        TelemetryApp app = new TelemetryApp(new TelemetryApp.Settings(args[0], Path.of(args[1]), "127.0.0.1:1",
            Duration.ofMillis(200), topology, 1));
        app.start();
        if (!app.awaitRunning(Duration.ofSeconds(90))) {
          throw new IllegalStateException("not RUNNING: " + app.streams().state());
        }
        System.out.println(RUNNING);
        awaitAll(new LocalStores(app.streams()), args[3]);
        System.out.println(COUNTED);
        System.out.flush();
        // Until the test kills this JVM; if the test's JVM goes first, its end of stdin closes.
        while (System.in.read() != -1) {
          // nothing to read
        }
      } catch (Throwable e) {
        e.printStackTrace(System.out);
      }
      System.exit(1);
    }
  }

  static TelemetryApp.Settings settings(KafkaCluster kafka, Path state, TelemetryTopology.Settings topology) {
    return new TelemetryApp.Settings(kafka.bootstrapServers(), state, "127.0.0.1:1",
        Duration.ofMillis(200), topology, 1);
  }

  /** {@link #CALLS} calls of each of {@link #EDGES} edges over the 20 s from {@code start}, in batches of five. */
  static void send(KafkaCluster kafka, String ns, Instant start) {
    try (KafkaProducer<String, dev.meshlog.events.telemetry.RequestEventBatch> producer = new KafkaProducer<>(
        kafka.clientConfig(), Topics.TELEMETRY_REQUESTS.keySerde().serializer(),
        Topics.TELEMETRY_REQUESTS.valueSerde().serializer())) {
      for (int e = 0; e < EDGES; e++) {
        List<RequestEvent> batch = new ArrayList<>();
        for (int i = 0; i < CALLS; i++) {
          batch.add(Requests.request(ns, "caller" + e, "v1", "callee" + e, "v" + (i % 2), i % 7 == 0 ? 503 : 200,
              1 + i % 30, start.plusMillis(500L * i)));
          if (batch.size() == 5) {
            producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), Requests.key(batch.get(0)),
                Requests.batch(List.copyOf(batch))));
            batch.clear();
          }
        }
      }
      producer.flush();
    }
  }

  /** What the stores answer for {@code ns}, once every call is in the totals and in both window sizes. */
  static Snapshot awaitAll(LocalStores stores, String ns) {
    Instant from = Instant.now().minus(Duration.ofMinutes(10));
    Instant to = Instant.now().plus(Duration.ofMinutes(10));
    long expected = (long) EDGES * CALLS;
    Snapshot[] last = new Snapshot[1];
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
      try {
        Snapshot s = new Snapshot(of(stores.totals(EdgeFilter.ALL), ns),
            of(stores.windows(Duration.ofSeconds(10), from, to, EdgeFilter.ALL), ns),
            of(stores.windows(Duration.ofMinutes(1), from, to, EdgeFilter.ALL), ns));
        last[0] = s;
        return s.requests(s.totals) == expected && s.requests(s.windows10s) == expected
            && s.requests(s.windows1m) == expected;
      } catch (InvalidStateStoreException e) {
        return false;
      }
    });
    return last[0];
  }

  private static List<EdgeMetrics> of(List<EdgeMetrics> all, String ns) {
    return all.stream().filter(m -> ns.contentEquals(m.getSource().getNamespace()))
        .sorted(Comparator.comparing((EdgeMetrics m) -> m.getSource().toString() + m.getDestination())
            .thenComparing(m -> m.getWindowStart() == null ? Instant.EPOCH : m.getWindowStart()))
        .toList();
  }

  /** Records in the changelogs of the application's three stores. */
  static long changelogRecords(KafkaCluster kafka, String application) throws Exception {
    try (Admin admin = kafka.admin()) {
      Map<TopicPartition, OffsetSpec> ends = new java.util.HashMap<>();
      for (String store : List.of(TelemetryTopology.STORE_10S, TelemetryTopology.STORE_1M, TelemetryTopology.TOTALS_STORE)) {
        for (int p = 0; p < Topics.TELEMETRY_REQUESTS.partitions(); p++) {
          ends.put(new TopicPartition(application + "-" + store + "-changelog", p), OffsetSpec.latest());
        }
      }
      return admin.listOffsets(ends).all().get().values().stream().mapToLong(r -> r.offset()).sum();
    }
  }

  /** The totals and windows of one namespace, sorted. */
  record Snapshot(List<EdgeMetrics> totals, List<EdgeMetrics> windows10s, List<EdgeMetrics> windows1m) {
    long requests(List<EdgeMetrics> metrics) {
      return metrics.stream().mapToLong(EdgeMetrics::getRequests).sum();
    }
  }

  /** Counts what each store restores, per changelog partition. */
  static final class Restores implements StateRestoreListener {
    final Map<String, AtomicLong> byStore = new ConcurrentHashMap<>();
    final Set<String> starts = ConcurrentHashMap.newKeySet();

    @Override
    public void onRestoreStart(TopicPartition partition, String store, long start, long end) {
      starts.add(store + "-" + partition.partition() + ":" + start + ".." + end);
    }

    @Override
    public void onBatchRestored(TopicPartition partition, String store, long batchEnd, long restored) {
      byStore.computeIfAbsent(store, s -> new AtomicLong()).addAndGet(restored);
    }

    @Override
    public void onRestoreEnd(TopicPartition partition, String store, long restored) {
    }

    long total() {
      return byStore.values().stream().mapToLong(AtomicLong::get).sum();
    }
  }
}
