package dev.meshlog.e2e.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.e2e.support.InProcessMesh;
import dev.meshlog.e2e.support.PipelineApi;
import dev.meshlog.e2e.support.ProxyProcess;
import dev.meshlog.telemetry.TelemetryService;
import dev.meshlog.telemetry.TelemetryTopology;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A database's TCP edge in the dependency graph, end to end: reviews' app opens connections to
 * db through its sidecar's local TCP listener, db's sidecar relays them to db's app (real
 * processes from the built jar, configured by the real control plane from their
 * registrations), both sidecars report each connection on {@code mesh.telemetry.requests}, and
 * the real telemetry pipeline shows one TCP edge reviews → db with exactly the connections and
 * bytes that passed, counted once and never as requests or errors.
 */
@WithKafka
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TcpTelemetryE2EIT {

  static final int CONNECTIONS = 3;
  static final int QUERY_BYTES = 100;
  static final int ANSWER_BYTES = 250;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final KafkaCluster kafka;
  private final String ns = "tcp" + UUID.randomUUID().toString().substring(0, 8);
  private final List<AutoCloseable> running = new ArrayList<>();
  private final List<ProxyProcess> proxies = new ArrayList<>();
  private Path dir;
  private TelemetryService pipeline;
  private ServerSocket db;
  private Thread dbThread;

  TcpTelemetryE2EIT(KafkaCluster kafka) {
    this.kafka = kafka;
  }

  @BeforeAll
  void startTheMeshAndOpenConnections() throws Exception {
    dir = Files.createTempDirectory("meshlog-e2e-tcp");
    running.add(InProcessMesh.controlPlane(kafka, dir));
    pipeline = InProcessMesh.pipeline(kafka, dir.resolve("telemetry"),
        TelemetryTopology.Settings.defaults(KafkaCluster.uniqueName("telemetry")));
    running.add(pipeline);

    db = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    dbThread = new Thread(this::serveDb, "db-app");
    dbThread.setDaemon(true);
    dbThread.start();
    // db registers its TCP port; the control plane puts it in db's view.
    sidecar("db", "--app-port", "1", "--service-port", "tcp-db:" + db.getLocalPort());
    String target = "db." + ns + ":" + db.getLocalPort();
    ProxyProcess reviews = sidecar("reviews", "--app-port", "1", "--tcp-listener",
        target + "=0");
    int local = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
        .until(() -> readyLocalPort(reviews), p -> p > 0);

    for (int i = 0; i < CONNECTIONS; i++) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), local)) {
        s.setSoTimeout(30_000);
        s.getOutputStream().write(bytes(QUERY_BYTES, 'q'));
        s.getOutputStream().flush();
        assertThat(s.getInputStream().readNBytes(ANSWER_BYTES)).hasSize(ANSWER_BYTES);
      }
    }
  }

  @AfterAll
  void stop() throws Exception {
    proxies.forEach(ProxyProcess::close);
    if (db != null) {
      db.close();
    }
    for (int i = running.size() - 1; i >= 0; i--) {
      running.get(i).close();
    }
  }

  /** db's app: reads a query, answers it, and waits for the client to hang up. */
  private void serveDb() {
    while (!db.isClosed()) {
      try (Socket s = db.accept()) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        if (in.readNBytes(QUERY_BYTES).length == QUERY_BYTES) {
          out.write(bytes(ANSWER_BYTES, 'a'));
          out.flush();
          in.transferTo(OutputStream.nullOutputStream());
        }
      } catch (IOException e) {
        // closed at the end of the test, or a connection the client dropped
      }
    }
  }

  private static byte[] bytes(int n, char c) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) c);
    return b;
  }

  private ProxyProcess sidecar(String service, String... more) {
    List<String> args = new ArrayList<>(List.of("--service", service, "--version", "v1",
        "--namespace", ns, "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve(service + ".views").toString(), "--drain", "0s",
        "--concurrency", "1"));
    args.addAll(List.of(more));
    ProxyProcess p = ProxyProcess.start(service, Duration.ofSeconds(60),
        args.toArray(new String[0]));
    proxies.add(p);
    return p;
  }

  /**
   * reviews' local port for db once its view has db's healthy endpoint (the listener exists as
   * soon as the flag names it; a connection before the endpoint is known would fail), else 0.
   */
  private int readyLocalPort(ProxyProcess reviews) throws Exception {
    JsonNode view = JSON.readTree(reviews.admin("/config_dump")).path("services")
        .path("db." + ns + ".svc.cluster.local");
    if (view.path("endpoints").size() != 1
        || !view.path("endpoints").get(0).path("healthy").asBoolean()) {
      return 0;
    }
    for (JsonNode l : JSON.readTree(reviews.admin("/listeners")).path("tcp")) {
      if (l.path("destination").asText().startsWith("db." + ns + ".")) {
        String local = l.path("local").asText();
        return Integer.parseInt(local.substring(local.lastIndexOf(':') + 1));
      }
    }
    return 0;
  }

  /** The graph's edges of this test's namespace. */
  private List<JsonNode> edges() throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode e : JSON.readTree(PipelineApi.get(pipeline, "/api/v1/graph?window=15m"))
        .path("edges")) {
      if (e.path("source").path("namespace").asText().equals(ns)) {
        out.add(e);
      }
    }
    return out;
  }

  @Test
  void theGraphHasOneTcpEdgeWithTheConnectionsAndBytesThatPassed() throws Exception {
    List<JsonNode> edges = await().atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500)).until(this::edges, e -> e.size() == 1
            && e.get(0).path("tcp").path("connectionsClosed").asLong() >= CONNECTIONS);
    JsonNode edge = edges.get(0);
    assertThat(edge.path("source").path("service").asText()).isEqualTo("reviews");
    assertThat(edge.path("destination").path("service").asText()).isEqualTo("db");
    assertThat(edge.path("destination").path("version").asText()).isEqualTo("v1");
    assertThat(edge.path("protocols")).extracting(JsonNode::asText).containsExactly("tcp");
    JsonNode tcp = edge.path("tcp");
    // both sidecars reported each connection; the graph counts it once
    assertThat(tcp.path("connectionsOpened").asLong()).isEqualTo(CONNECTIONS);
    assertThat(tcp.path("connectionsClosed").asLong()).isEqualTo(CONNECTIONS);
    assertThat(tcp.path("failedConnections").asLong()).isZero();
    assertThat(tcp.path("receivedBytes").asLong()).isEqualTo((long) CONNECTIONS * QUERY_BYTES);
    assertThat(tcp.path("sentBytes").asLong()).isEqualTo((long) CONNECTIONS * ANSWER_BYTES);
    // a connection is not a request: no requests, no errors
    assertThat(edge.path("requests").asLong()).isZero();
    assertThat(edge.path("errors").asLong()).isZero();
  }

  @Test
  void bothSidecarsReportedEveryConnectionAndCountedItsBytesUnderIstiosNames() {
    ProxyProcess dbSidecar = proxies.get(0);
    ProxyProcess reviews = proxies.get(1);
    for (ProxyProcess p : List.of(dbSidecar, reviews)) {
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(p.metric("meshlog_telemetry_events_sent_total")).as(p.toString())
              .isEqualTo((double) CONNECTIONS));
      assertThat(p.metric("meshlog_telemetry_events_dropped_total")).as(p.toString()).isZero();
      String page = p.admin("/stats/prometheus");
      assertThat(page).as(p.toString())
          .containsPattern("istio_tcp_received_bytes_total\\{[^}]*} "
              + (double) (CONNECTIONS * QUERY_BYTES))
          .containsPattern("istio_tcp_sent_bytes_total\\{[^}]*} "
              + (double) (CONNECTIONS * ANSWER_BYTES));
    }
  }
}
