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
