package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpServer;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.events.telemetry.Workload;
import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code meshctl telemetry tail} on a real broker; {@code meshctl graph} against an HTTP API on loopback. */
@WithKafka
class TelemetryCommandsIT {

  @TempDir
  Path dir;

  @Test
  // tail -n 3 waits for its three events: fail, do not hang the build, if they never come
  @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void tailPrintsTheRequestsOfOneService(KafkaCluster kafka) throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("ns");
    // A mixed topic: a batch of one edge's events (what proxies write) and single events (what
    // releases before batching wrote), each read as one line per event. Sent one at a time: on
    // partitions created a moment ago, the broker can refuse a first batch (not yet leader) and
    // take the second one in flight behind it, after which the idempotent producer's retry of the
    // first is out of sequence for good and that record never lands (seen once in CI).
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        Topics.TELEMETRY_REQUESTS.keySerde().serializer(), new ByteArraySerializer())) {
      String reviews = ns + "/productpage->" + ns + "/reviews";
      producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), reviews,
          Topics.TELEMETRY_REQUESTS.serializeValue(RequestEventBatch.newBuilder()
              .setEvents(List.of(event(ns, "reviews", "/reviews/1"), event(ns, "reviews", "/reviews/2"))).build())))
          .get(60, TimeUnit.SECONDS);
      producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), ns + "/productpage->" + ns + "/details",
          SINGLE.encode(event(ns, "details", "/details/1")))).get(60, TimeUnit.SECONDS);
      producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), reviews,
          SINGLE.encode(event(ns, "reviews", "/reviews/3")))).get(60, TimeUnit.SECONDS);
    }
    Environment env = new Environment(Map.of("MESHLOG_BOOTSTRAP", kafka.bootstrapServers()), dir,
        java.time.Clock.systemUTC(), "ana");
    Run run = Run.meshctl(env, "telemetry", "tail", "--since", "5m", "--service", ns + "/reviews", "-n", "3");
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out().lines()).hasSize(3).allMatch(l -> l.contains(ns + "/reviews v1 GET /reviews/"))
        .allMatch(l -> l.endsWith(" 200 1.0ms"));
    assertThat(run.out().lines().map(l -> l.substring(l.indexOf(" GET ") + 5, l.indexOf(" 200"))))
        .containsExactly("/reviews/1", "/reviews/2", "/reviews/3");
  }

  private static final AvroSerde<RequestEvent> SINGLE = AvroSerde.of(RequestEvent.class);

  /** A request of {@code ns} to reviews that started {@code seconds} after {@code base}, path {@code /t<seconds>}. */
  private static RequestEvent at(String ns, Instant base, int seconds) {
    return RequestEvent.newBuilder(event(ns, "reviews", "/t" + seconds)).setStartTime(base.plusSeconds(seconds)).build();
  }

  /** Each event of {@code seconds} as one record on {@code partition}, sent together. */
  private static void send(KafkaCluster kafka, String ns, Instant base, int partition, int... seconds) throws Exception {
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        Topics.TELEMETRY_REQUESTS.keySerde().serializer(), new ByteArraySerializer())) {
      for (int s : seconds) {
        producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), partition, ns + "/productpage->" + ns + "/reviews",
            Topics.TELEMETRY_REQUESTS.serializeValue(RequestEventBatch.newBuilder().setEvents(List.of(at(ns, base, s))).build())))
            .get(60, TimeUnit.SECONDS);
      }
    }
  }

  /** The paths of tail's lines: {@code /t3} and so on. */
  private static List<String> paths(String out) {
    return out.lines().map(l -> l.substring(l.indexOf(" GET ") + 5, l.indexOf(" 200"))).toList();
  }

  @Test
  @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void tailPrintsEventsOldestFirstAcrossPartitionsAndTheNNewest(KafkaCluster kafka) throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("order");
    Instant base = Instant.now().minusSeconds(60);
    // four partitions, each in its own time order, their times interleaved: partition p holds
    // p, p+4, p+8; written partition after partition, the last partition first
    for (int p = 3; p >= 0; p--) {
      send(kafka, ns, base, p, p, p + 4, p + 8);
    }
    Environment env = new Environment(Map.of("MESHLOG_BOOTSTRAP", kafka.bootstrapServers()), dir,
        java.time.Clock.systemUTC(), "ana");
    Run all = Run.meshctl(env, "telemetry", "tail", "--since", "5m", "--service", ns + "/reviews", "-n", "12");
    assertThat(all.code()).as(all.err()).isZero();
    assertThat(paths(all.out())).containsExactly("/t0", "/t1", "/t2", "/t3", "/t4", "/t5", "/t6", "/t7", "/t8",
        "/t9", "/t10", "/t11");
    Run three = Run.meshctl(env, "telemetry", "tail", "--since", "5m", "--service", ns + "/reviews", "-n", "3");
    assertThat(three.code()).as(three.err()).isZero();
    assertThat(paths(three.out())).containsExactly("/t9", "/t10", "/t11");
    // without --since: looked back from the end of each partition, past other tests' events
    Run noSince = Run.meshctl(env, "telemetry", "tail", "--service", ns + "/reviews", "-n", "5");
    assertThat(noSince.code()).as(noSince.err()).isZero();
    assertThat(paths(noSince.out())).containsExactly("/t7", "/t8", "/t9", "/t10", "/t11");
  }

  @Test
  @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void followedTailPrintsTheBacklogThenLiveEventsInTimeOrder(KafkaCluster kafka) throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("follow");
    Instant base = Instant.now().minusSeconds(60);
    send(kafka, ns, base, 5, 2, 3);
    send(kafka, ns, base, 4, 1, 4);
    Environment env = new Environment(Map.of("MESHLOG_BOOTSTRAP", kafka.bootstrapServers()), dir,
        java.time.Clock.systemUTC(), "ana");
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    Thread tail = new Thread(() -> MeshctlMain.run(new String[] {"telemetry", "tail", "--since", "5m", "--service",
        ns + "/reviews"}, env, new java.io.PrintWriter(out), new java.io.PrintWriter(err)));
    tail.start();
    try {
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
          .until(() -> out.toString().lines().count() >= 4);
      assertThat(paths(out.toString())).containsExactly("/t1", "/t2", "/t3", "/t4");
      // live: the later event lands first, on partition 4, the earlier one right after on 5
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
          Topics.TELEMETRY_REQUESTS.keySerde().serializer(), new ByteArraySerializer())) {
        for (int[] ps : new int[][] {{4, 21}, {5, 20}}) {
          producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), ps[0], ns + "/productpage->" + ns + "/reviews",
              Topics.TELEMETRY_REQUESTS.serializeValue(RequestEventBatch.newBuilder()
                  .setEvents(List.of(at(ns, base, ps[1]))).build())));
        }
        producer.flush();
      }
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
          .until(() -> out.toString().lines().count() >= 6);
      assertThat(paths(out.toString())).as(err.toString()).containsExactly("/t1", "/t2", "/t3", "/t4", "/t20", "/t21");
    } finally {
      tail.interrupt();
      tail.join(30_000);
    }
    assertThat(tail.isAlive()).isFalse();
  }

  private static RequestEvent event(String ns, String dst, String path) {
    return RequestEvent.newBuilder().setReporter(dev.meshlog.events.telemetry.Reporter.SOURCE)
        .setSource(Workload.newBuilder().setNamespace(ns).setService("productpage").setVersion("v1").build())
        .setDestination(Workload.newBuilder().setNamespace(ns).setService(dst).setVersion("v1").build())
        .setMethod("GET").setPath(path).setResponseCode(200).setDurationMicros(1000)
        .setStartTime(Instant.now()).build();
  }

  @Test
  void graphAsksTheTelemetryApi() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    String[] asked = new String[1];
    server.createContext("/api/v1/graph", exchange -> {
      asked[0] = exchange.getRequestURI().toString();
      byte[] body = GraphAndTelemetryTest.GRAPH.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      Environment env = new Environment(Map.of("MESHLOG_TELEMETRY_URL",
          "http://127.0.0.1:" + server.getAddress().getPort()), dir, java.time.Clock.systemUTC(), "ana");
      Run run = Run.meshctl(env, "graph", "--window", "5m");
      assertThat(run.code()).as(run.err()).isZero();
      assertThat(asked[0]).isEqualTo("/api/v1/graph?window=5m");
      assertThat(run.out()).contains("productpage.default v1").contains("10.0%");
      Run unreachable = Run.meshctl(env, "graph", "--telemetry-url", "http://127.0.0.1:1");
      assertThat(unreachable.code()).isEqualTo(Meshctl.UNREACHABLE);
      assertThat(unreachable.err()).contains("cannot reach the telemetry pipeline at http://127.0.0.1:1");
    } finally {
      server.stop(0);
    }
  }
}
