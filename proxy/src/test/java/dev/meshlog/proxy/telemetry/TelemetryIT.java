package dev.meshlog.proxy.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.proxy.ProxyMain;
import dev.meshlog.schemas.SchemaRegistry;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Requests through two real proxies (started from their command line, views from a file)
 * become exactly one event per request and side on {@code mesh.telemetry.requests} of a real
 * broker, with the fields a reader needs.
 */
@WithKafka
class TelemetryIT {

  private final KafkaCluster kafka;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClientAgent http = vertx.createHttpClient();
  private final List<ProxyMain.Running> proxies = new ArrayList<>();

  @TempDir
  Path dir;

  TelemetryIT(KafkaCluster kafka) {
    this.kafka = kafka;
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensure(List.of(Topics.TELEMETRY_REQUESTS, Topics.SCHEMAS),
          (short) 1);
    }
  }

  @AfterEach
  void stop() {
    proxies.forEach(p -> p.stop(Duration.ZERO));
    vertx.close().await();
  }

  private ProxyMain.Running proxy(String... args) {
    ProxyMain main = new ProxyMain();
    new CommandLine(main).parseArgs(args);
    ProxyMain.Running running = main.start();
    proxies.add(running);
    return running;
  }

  private Path views(String name, String json) throws Exception {
    Path file = dir.resolve(name + ".json");
    Files.writeString(file, json);
    return file;
  }

  private int status(int port, String host, String path, String requestId) {
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
            .setPort(port).setURI(path).putHeader("host", host)
            .putHeader("x-request-id", requestId))
        .compose(r -> r.send().compose(resp -> resp.body().map(b -> resp.statusCode())))
        .await();
  }

  /** The events on the topic now whose request id starts with {@code prefix}. */
  private List<RequestEvent> events(String prefix) {
    List<RequestEvent> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r
        : TopicRecords.all(kafka.clientConfig(), Topics.TELEMETRY_REQUESTS.name())) {
      for (RequestEvent e : Topics.TELEMETRY_REQUESTS.deserializeValue(r.value()).getEvents()) {
        // every event of a record is of the record key's edge
        if (e.getRequestId().startsWith(prefix)) {
          assertThat(r.key()).isEqualTo(RequestEvents.key(e.getSource(), e.getDestination()));
          out.add(e);
        }
      }
    }
    return out;
  }

  @Test
  void eachRequestIsOneEventFromEachSideAndNoneIsLost() throws Exception {
    String ns = "tele" + UUID.randomUUID().toString().substring(0, 8);
    int app = vertx.createHttpServer().requestHandler(req -> req.response()
            .setStatusCode(req.path().startsWith("/fail") ? 503 : 200).end("reviews"))
        .listen(0, "127.0.0.1").await().actualPort();
    ProxyMain.Running reviews = proxy("--service", "reviews", "--version", "v2", "--namespace",
        ns, "--zone", "zone-b", "--cluster", "c1", "--app-port", Integer.toString(app),
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--views-file", views("reviews", "[]").toString(),
        "--snapshot-file", dir.resolve("reviews.views").toString(),
        "--telemetry-bootstrap-server", kafka.bootstrapServers());
    String reviewsView = """
        [{"host": "reviews.%s.svc.cluster.local", "service": "reviews", "namespace": "%s",
          "version": 1, "generatedAt": 0,
          "endpoints": [{"instanceId": "reviews-v2", "address": "127.0.0.1", "port": %d,
            "labels": {"app": "reviews", "version": "v2"}, "zone": "zone-b", "cluster": "c1",
            "health": "HEALTHY"}]}]
        """.formatted(ns, ns, reviews.sidecar().inboundPort());
    ProxyMain.Running productpage = proxy("--service", "productpage", "--version", "v1",
        "--namespace", ns, "--zone", "zone-a", "--cluster", "c1", "--app-port", "1",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--views-file", views("pp", reviewsView).toString(),
        "--snapshot-file", dir.resolve("pp.views").toString(),
        "--telemetry", "on", "--telemetry-bootstrap-server", kafka.bootstrapServers());

    Instant before = Instant.now();
    int ok = 30;
    int failing = 7;
    for (int i = 0; i < ok; i++) {
      assertThat(status(productpage.sidecar().outboundPort(), "reviews:9080", "/r/" + i + "?q=1",
          ns + "-ok-" + i)).isEqualTo(200);
    }
    for (int i = 0; i < failing; i++) {
      assertThat(status(productpage.sidecar().outboundPort(), "reviews:9080", "/fail",
          ns + "-fail-" + i)).isEqualTo(503);
    }
    assertThat(status(productpage.sidecar().outboundPort(), "nowhere:9080", "/", ns + "-nr"))
        .isEqualTo(404);
    // Stopping drains: every event is sent before stop returns.
    proxies.forEach(p -> p.stop(Duration.ZERO));
    proxies.clear();

    List<RequestEvent> events = events(ns);
    List<RequestEvent> source = events.stream()
        .filter(e -> e.getReporter() == Reporter.SOURCE).toList();
    List<RequestEvent> destination = events.stream()
        .filter(e -> e.getReporter() == Reporter.DESTINATION).toList();
    assertThat(source).hasSize(ok + failing + 1);
    // The route sets no retries: Istio's default policy tries each 503 three times, and the
    // destination's sidecar reports every try.
    assertThat(destination).hasSize(ok + 3 * failing);
    assertThat(source.stream().map(RequestEvent::getRequestId).collect(Collectors.toSet()))
        .hasSize(ok + failing + 1);
    assertThat(events).allSatisfy(e -> {
      assertThat(e.getDroppedBefore()).isZero();
      assertThat(e.getStartTime()).isAfterOrEqualTo(before.minusSeconds(1));
      assertThat(e.getTraceId()).hasSize(32);
      assertThat(e.getDurationMicros()).isPositive();
    });

    RequestEvent out = source.stream().filter(e -> e.getRequestId().equals(ns + "-ok-3"))
        .findFirst().orElseThrow();
    assertThat(out.getSource().getService()).isEqualTo("productpage");
    assertThat(out.getSource().getVersion()).isEqualTo("v1");
    assertThat(out.getSource().getNamespace()).isEqualTo(ns);
    assertThat(out.getSource().getZone()).isEqualTo("zone-a");
    assertThat(out.getDestination().getService()).isEqualTo("reviews");
    assertThat(out.getDestination().getNamespace()).isEqualTo(ns);
    assertThat(out.getDestination().getVersion()).isEqualTo("v2");
    assertThat(out.getDestination().getZone()).isEqualTo("zone-b");
    assertThat(out.getPath()).isEqualTo("/r/3");
    assertThat(out.getMethod()).isEqualTo("GET");
    assertThat(out.getResponseCode()).isEqualTo(200);
    assertThat(out.getResponseBytes()).isEqualTo("reviews".length());
    RequestEvent in = destination.stream().filter(e -> e.getRequestId().equals(ns + "-ok-3"))
        .findFirst().orElseThrow();
    assertThat(in.getTraceId()).isEqualTo(out.getTraceId());
    assertThat(in.getSource()).isEqualTo(out.getSource());
    assertThat(in.getDestination().getService()).isEqualTo("reviews");
    assertThat(in.getDestination().getVersion()).isEqualTo("v2");
    assertThat(in.getProxyId()).isNotEqualTo(out.getProxyId());

    assertThat(source.stream().filter(e -> e.getResponseCode() == 503))
        .hasSize(failing).allSatisfy(e -> assertThat(e.getRetries()).isEqualTo(2));
    RequestEvent noRoute = source.stream().filter(e -> e.getRequestId().equals(ns + "-nr"))
        .findFirst().orElseThrow();
    assertThat(noRoute.getResponseCode()).isEqualTo(404);
    assertThat(noRoute.getResponseFlags()).containsExactly("NR");
    assertThat(Set.copyOf(source.stream().map(e -> e.getDestination().getService()).toList()))
        .containsExactlyInAnyOrder("reviews", "unknown");
  }

  /** A database and its sidecar, and a client sidecar with a TCP listener for it. */
  private record TcpMesh(String ns, ProxyMain.Running db, ProxyMain.Running client,
                         int clientPort) {}

  private TcpMesh tcpMesh() throws Exception {
    String ns = "tcp" + UUID.randomUUID().toString().substring(0, 8);
    int database = vertx.createNetServer().connectHandler(s -> s.handler(b ->
            s.write(io.vertx.core.buffer.Buffer.buffer("db:").appendBuffer(b))))
        .listen(0, "127.0.0.1").await().actualPort();
    ProxyMain.Running db = proxy("--service", "db", "--version", "v1", "--namespace", ns,
        "--zone", "zone-b", "--cluster", "c1", "--app-port", "1",
        "--service-port", "tcp-db:" + database + ":TCP",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--views-file", views("db" + ns, "[]").toString(),
        "--snapshot-file", dir.resolve("db" + ns + ".views").toString(),
        "--telemetry-bootstrap-server", kafka.bootstrapServers());
    String dbView = """
        [{"host": "db.%s.svc.cluster.local", "service": "db", "namespace": "%s",
          "version": 1, "generatedAt": 0,
          "ports": [{"name": "tcp-db", "number": %d, "protocol": "TCP"}],
          "endpoints": [{"instanceId": "db-v1", "address": "127.0.0.1", "port": %d,
            "labels": {"app": "db", "version": "v1"}, "zone": "zone-b", "cluster": "c1",
            "health": "HEALTHY"}]}]
        """.formatted(ns, ns, database, db.sidecar().inboundPort());
    ProxyMain.Running client = proxy("--service", "productpage", "--version", "v1",
        "--namespace", ns, "--zone", "zone-a", "--cluster", "c1", "--app-port", "1",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--tcp-listener", "db:" + database + "=0",
        "--views-file", views("pp" + ns, dbView).toString(),
        "--snapshot-file", dir.resolve("pp" + ns + ".views").toString(),
        "--telemetry-bootstrap-server", kafka.bootstrapServers());
    assertThat(client.tcpPorts()).hasSize(1);
    return new TcpMesh(ns, db, client, client.tcpPorts().values().iterator().next());
  }

  /** Writes {@code message} and reads the database's answer to it. */
  private static void exchange(java.net.Socket s, String message) throws Exception {
    s.getOutputStream().write(message.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    byte[] answer = s.getInputStream().readNBytes(("db:" + message).length());
    assertThat(new String(answer, java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("db:" + message);
  }

  /** The TCP reports on the topic now of connections from namespace {@code ns}. */
  private List<RequestEvent> tcpReports(String ns) {
    List<RequestEvent> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r
        : TopicRecords.all(kafka.clientConfig(), Topics.TELEMETRY_REQUESTS.name())) {
      for (RequestEvent e : Topics.TELEMETRY_REQUESTS.deserializeValue(r.value()).getEvents()) {
        if (e.getTcp() != null && ns.equals(e.getSource().getNamespace())) {
          assertThat(r.key()).isEqualTo(RequestEvents.key(e.getSource(), e.getDestination()));
          out.add(e);
        }
      }
    }
    return out;
  }

  /** Each side reported the connection once, closed, with every byte and nothing lost. */
  private static void reportedClosedByBothSides(List<RequestEvent> reports) {
    assertThat(reports).extracting(RequestEvent::getReporter)
        .containsExactlyInAnyOrder(Reporter.SOURCE, Reporter.DESTINATION);
    assertThat(reports).allSatisfy(e -> {
      assertThat(e.getProtocol()).isEqualTo("tcp");
      assertThat(e.getTcp().getOpened()).isTrue();
      assertThat(e.getTcp().getClosed()).isTrue();
      assertThat(e.getRequestBytes()).isEqualTo("SELECT 1".length() + "SELECT 22".length());
      assertThat(e.getResponseBytes())
          .isEqualTo("db:SELECT 1".length() + "db:SELECT 22".length());
      assertThat(e.getResponseFlags()).isEmpty();
      assertThat(e.getDroppedBefore()).isZero();
      assertThat(e.getSource().getWorkload()).isEqualTo("productpage-v1");
      assertThat(e.getDestination().getWorkload()).isEqualTo("db-v1");
    });
  }

  @Test
  void aTcpConnectionOpenWhenTheClientsSidecarStopsIsReportedClosedByBothSides()
      throws Exception {
    // as on SIGTERM: the client's sidecar ends the connection, reports it and flushes
    stopOneSideWithAConnectionOpen(true);
  }

  @Test
  void aTcpConnectionOpenWhenTheDatabasesSidecarStopsIsReportedClosedByBothSides()
      throws Exception {
    stopOneSideWithAConnectionOpen(false);
  }

  /**
   * Opens a connection through the client's and the database's sidecars, exchanges two queries,
   * stops one sidecar ({@code clientFirst}: the client's) the way {@code ProxyMain} stops, sees
   * the app's connection end, stops the other, and checks that each side reported the
   * connection once, closed, with every byte.
   */
  private void stopOneSideWithAConnectionOpen(boolean clientFirst) throws Exception {
    TcpMesh mesh = tcpMesh();
    ProxyMain.Running first = clientFirst ? mesh.client() : mesh.db();
    ProxyMain.Running second = clientFirst ? mesh.db() : mesh.client();
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", mesh.clientPort())) {
      s.setSoTimeout(10_000);
      exchange(s, "SELECT 1");
      exchange(s, "SELECT 22");

      first.stop(Duration.ZERO);
      proxies.remove(first);
      assertThat(s.getInputStream().read()).as("the app's connection ended").isEqualTo(-1);
      second.stop(Duration.ZERO);
      proxies.remove(second);
    }
    reportedClosedByBothSides(tcpReports(mesh.ns()));
  }

  @Test
  void telemetryOffSendsNothingAndShowsNoTelemetryMetrics() throws Exception {
    String ns = "off" + UUID.randomUUID().toString().substring(0, 8);
    int app = vertx.createHttpServer().requestHandler(req -> req.response().end("ok"))
        .listen(0, "127.0.0.1").await().actualPort();
    ProxyMain.Running reviews = proxy("--service", "reviews", "--namespace", ns, "--app-port",
        Integer.toString(app), "--inbound-port", "0", "--outbound-port", "0", "--admin-port",
        "0", "--inbound-bind", "127.0.0.1", "--views-file", views("off", "[]").toString(),
        "--snapshot-file", dir.resolve("off.views").toString(),
        "--telemetry-bootstrap-server", kafka.bootstrapServers(), "--telemetry", "off");
    for (int i = 0; i < 5; i++) {
      assertThat(status(reviews.sidecar().inboundPort(), "reviews", "/", ns + "-" + i))
          .isEqualTo(200);
    }
    String metrics = http.request(new RequestOptions().setHost("127.0.0.1")
            .setPort(reviews.adminPort()).setURI("/stats/prometheus"))
        .compose(r -> r.send().compose(resp -> resp.body())).await().toString();
    assertThat(metrics).contains("istio_requests_total").doesNotContain("meshlog_telemetry");
    proxies.forEach(p -> p.stop(Duration.ZERO));
    proxies.clear();
    assertThat(events(ns)).isEmpty();
  }

  /**
   * A proxy whose events go to a cluster its views do not come from (here: views from a file,
   * events to the broker) registers its schemas on the events' cluster, so that readers there
   * can decode what a newer proxy writes.
   */
  @Test
  void eventsToAClusterOfTheirOwnRegisterTheSchemasThere() throws Exception {
    TopicPartition registry = new TopicPartition(Topics.SCHEMAS.name(), 0);
    long before;
    try (Admin admin = kafka.admin()) {
      before = admin.listOffsets(Map.of(registry, OffsetSpec.latest())).partitionResult(registry)
          .get().offset();
    }
    String batchKey = SchemaRegistry.key(
        SchemaNormalization.parsingFingerprint64(RequestEventBatch.getClassSchema()));
    proxy("--service", "reviews", "--namespace", "reg", "--app-port", "1", "--inbound-port",
        "0", "--outbound-port", "0", "--admin-port", "0", "--inbound-bind", "127.0.0.1",
        "--views-file", views("reg", "[]").toString(),
        "--snapshot-file", dir.resolve("reg.views").toString(),
        "--telemetry", "on", "--telemetry-bootstrap-server", kafka.bootstrapServers());
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
        assertThat(TopicRecords.all(kafka.clientConfig(), Topics.SCHEMAS.name()).stream()
            .filter(r -> r.offset() >= before).map(ConsumerRecord::key))
            .as("the schemas registered after the proxy started").contains(batchKey));
  }

  @Test
  void telemetryOnWithoutKafkaOrAnUnknownModeIsRefused() {
    for (String[] args : List.of(new String[] {"--telemetry", "on"},
        new String[] {"--telemetry", "sometimes", "--telemetry-bootstrap-server", "x:9092"})) {
      ProxyMain main = new ProxyMain();
      List<String> all = new ArrayList<>(List.of("--service", "s", "--app-port", "1",
          "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
          "--snapshot-file", dir.resolve("refused.views").toString()));
      all.addAll(List.of(args));
      new CommandLine(main).parseArgs(all.toArray(String[]::new));
      org.assertj.core.api.Assertions.assertThatThrownBy(main::start)
          .isInstanceOf(CommandLine.ParameterException.class)
          .hasMessageContaining("--telemetry");
    }
  }
}
