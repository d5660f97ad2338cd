package dev.meshlog.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.client.ConfigCommands;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.model.Resource;
import dev.meshlog.e2e.support.AppClient;
import dev.meshlog.e2e.support.InProcessMesh;
import dev.meshlog.e2e.support.ProxyProcess;
import dev.meshlog.e2e.support.Running;
import dev.meshlog.e2e.support.TestApp;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sidecar killed with SIGKILL — no drain, no deregistration: its instance must leave the
 * callers' views once its lease lapses (3 s here, heartbeats every second), and from then on the
 * caller gets no error. What the caller sees between the kill and that moment is counted and
 * printed (the proxy's defaults: Istio's default retry policy — a failed connect retried on
 * another endpoint — and no outlier detection without a DestinationRule).
 * The control plane runs in the test JVM on the shared broker; the sidecars are processes.
 */
@WithKafka
class SidecarKillE2EIT {

  /** The lease every sidecar here registers with: short, so the test is short. */
  static final String LEASE = "3s";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final KafkaCluster kafka;
  private final String ns = "kill" + UUID.randomUUID().toString().substring(0, 8);
  private final Running running = new Running();

  @TempDir
  Path dir;

  SidecarKillE2EIT(KafkaCluster kafka) {
    this.kafka = kafka;
  }

  @AfterEach
  void stop() throws Exception {
    running.close();
  }

  @Test
  void aKilledSidecarLeavesTheCallersViewWhenItsLeaseLapsesAndNoCallFailsAfterThat()
      throws Exception {
    Map<Integer, Integer> meanwhile = killOneOfTwoReviews(false);
    // The defaults retry a failed connect on another endpoint but eject nothing; a call in
    // flight at the kill is cut (not retried by default): printed, not judged.
    assertThat(meanwhile).as("every call meanwhile answered (by the proxy, if not the app)")
        .doesNotContainKey(-1);
  }

  @Test
  void withRetriesAndOutlierDetectionTheCallerSeesNoErrorWhileTheLeaseRuns() throws Exception {
    Map<Integer, Integer> meanwhile = killOneOfTwoReviews(true);
    assertThat(meanwhile).as("calls between the kill and the lease's end, by status")
        .containsOnlyKeys(200);
  }

  /**
   * Starts the control plane, two reviews instances and productpage (the caller); with
   * {@code resilient}, first applies a VirtualService retrying connect failures and a
   * DestinationRule ejecting an endpoint after one gateway error, as an operator would. Kills one
   * reviews sidecar with SIGKILL, calls through productpage until the dead endpoint leaves its
   * view, checks every call after that succeeds, and returns the statuses of the calls made
   * meanwhile.
   */
  private Map<Integer, Integer> killOneOfTwoReviews(boolean resilient) throws Exception {
    running.add(InProcessMesh.controlPlane(kafka, dir));
    if (resilient) {
      try (MeshClient mesh = MeshClient.connect(kafka.bootstrapServers())) {
        ConfigCommands commands = ConfigCommands.of("e2e", SourceType.CLI, Clock.systemUTC());
        assertThat(mesh.submit(List.of(commands.apply(retries()),
            commands.apply(outlierDetection())))).allSatisfy(o -> assertThat(o.accepted())
            .as("%s: %s", o.resource(), o.errors()).isTrue());
      }
    }
    TestApp appA = new TestApp("reviews-a");
    running.add(appA);
    TestApp appB = new TestApp("reviews-b");
    running.add(appB);
    ProxyProcess reviewsA = sidecar("reviews-a", "reviews", appA.port());
    ProxyProcess reviewsB = sidecar("reviews-b", "reviews", appB.port());
    ProxyProcess productpage = sidecar("productpage", "productpage", 1);
    String a = "127.0.0.1:" + reviewsA.inboundPort();
    String b = "127.0.0.1:" + reviewsB.inboundPort();
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
        .until(() -> endpoints(productpage).equals(sorted(a, b))
            // (the policies were accepted before any instance registered, so a view with
            // both endpoints has them; the route's retries show in the dump, the rule does not)
            && (!resilient || productpage.admin("/config_dump").contains("\"retries\"")));

    AppClient app = new AppClient(productpage.outboundPort());
    String url = "http://reviews:9080/reviews/1";
    assertThat(app.getMany(url, ns + "-before", 20, 2)).as("both instances up")
        .containsOnly(200);

    long killedAt = System.nanoTime();
    reviewsB.kill();
    // Calls go on, one at a time, until productpage's view no longer has the dead endpoint.
    Map<Integer, Integer> meanwhile = new TreeMap<>();
    int calls = 0;
    while (endpoints(productpage).contains(b)) {
      assertThat(System.nanoTime() - killedAt).as("the dead endpoint still in the view; "
          + "calls meanwhile by status: " + meanwhile).isLessThan(Duration.ofSeconds(90).toNanos());
      for (int i = 0; i < 5; i++) {
        meanwhile.merge(status(app, url, ns + "-meanwhile-" + calls++), 1, Integer::sum);
      }
    }
    long goneAfterMillis = (System.nanoTime() - killedAt) / 1_000_000;
    System.out.printf("SidecarKillE2EIT: lease %s, %s; the dead endpoint left the caller's "
        + "view %d ms after SIGKILL; %d calls meanwhile, by status (-1: no answer): %s%n", LEASE,
        resilient ? "retries and outlier detection" : "the proxy's defaults", goneAfterMillis,
        calls, meanwhile);
    assertThat(endpoints(productpage)).as("the living instance stays").containsExactly(a);

    // From now on, nothing reaches the dead instance.
    assertThat(app.getMany(url, ns + "-after", 100, 4)).as("calls after the lease lapsed")
        .containsOnly(200);
    assertThat(productpage.alive()).isTrue();
    return meanwhile;
  }

  /** Retries a call whose connection failed, on another endpoint. */
  private Resource retries() {
    ObjectNode spec = JSON.createObjectNode();
    spec.putArray("hosts").add("reviews");
    ObjectNode http = spec.putArray("http").addObject();
    http.put("name", "reviews");
    http.putObject("retries").put("attempts", 2).put("retryOn", "connect-failure,reset");
    http.putArray("route").addObject().putObject("destination").put("host", "reviews");
    return new Resource("networking.istio.io/v1", "VirtualService", ns, "reviews", Map.of(),
        spec);
  }

  /** Ejects an endpoint after one gateway error (a refused connection is one), for 30 s. */
  private Resource outlierDetection() {
    ObjectNode spec = JSON.createObjectNode();
    spec.put("host", "reviews");
    spec.putObject("trafficPolicy").putObject("outlierDetection")
        .put("consecutiveGatewayErrors", 1).put("interval", "1s")
        .put("baseEjectionTime", "30s").put("maxEjectionPercent", 50);
    return new Resource("networking.istio.io/v1", "DestinationRule", ns, "reviews", Map.of(),
        spec);
  }

  private static List<String> sorted(String... addresses) {
    return java.util.Arrays.stream(addresses).sorted().toList();
  }

  /** The status of one call, or -1 when the call got no HTTP answer at all. */
  private static int status(AppClient app, String url, String requestId) {
    try {
      return app.get(url, requestId);
    } catch (UncheckedIOException e) {
      return -1;
    }
  }

  /** The reviews endpoints in {@code caller}'s view (address:port, sorted). */
  private List<String> endpoints(ProxyProcess caller) throws Exception {
    JsonNode view = JSON.readTree(caller.admin("/config_dump")).path("services")
        .path("reviews." + ns + ".svc.cluster.local");
    List<String> out = new ArrayList<>();
    view.path("endpoints").forEach(e -> {
      if (e.path("healthy").asBoolean()) {
        out.add(e.path("address").asText());
      }
    });
    out.sort(null);
    return out;
  }

  private ProxyProcess sidecar(String name, String service, int appPort) {
    ProxyProcess p = ProxyProcess.start(name, Duration.ofSeconds(60),
        "--service", service, "--version", "v1", "--namespace", ns,
        "--instance-id", ns + "-" + name,
        "--app-port", Integer.toString(appPort), "--service-port", "http:9080",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve(name + ".views").toString(), "--lease", LEASE,
        "--telemetry", "off", "--drain", "0s", "--concurrency", "1");
    running.add(p);
    return p;
  }
}
