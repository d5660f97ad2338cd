package dev.meshlog.e2e.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.client.ConfigCommands;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.client.Outcome;
import dev.meshlog.config.model.Resource;
import dev.meshlog.e2e.support.AppClient;
import dev.meshlog.e2e.support.InProcessMesh;
import dev.meshlog.e2e.support.PipelineApi;
import dev.meshlog.e2e.support.ProxyProcess;
import dev.meshlog.e2e.support.TestApp;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.telemetry.TelemetryService;
import dev.meshlog.telemetry.TelemetryTopology;
import dev.meshlog.testkit.HeadlessChromium;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real traffic through real proxies (processes from the built jar) configured by the real
 * control plane, aggregated by the real telemetry pipeline, read from its graph API: a caller
 * (this test, through productpage's sidecar) calls reviews (plain), ratings (a 20% abort fault)
 * and details (a 10% delay fault of 400 ms), each behind its own sidecar and app.
 */
@WithKafka
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TelemetryGraphE2EIT {

  static final int REVIEWS = 150;
  static final int RATINGS = 400;
  static final int DETAILS = 150;
  static final double ABORT_PERCENT = 20;
  static final double DELAY_PERCENT = 10;
  static final long DELAY_MILLIS = 400;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final KafkaCluster kafka;
  private final String ns = "e2e" + UUID.randomUUID().toString().substring(0, 8);
  private final List<AutoCloseable> running = new ArrayList<>();
  private Path dir;
  private TelemetryService pipeline;
  private TelemetryService secondPipeline;
  private final List<ProxyProcess> proxies = new ArrayList<>();
  private List<Integer> ratingsStatuses;

  TelemetryGraphE2EIT(KafkaCluster kafka) {
    this.kafka = kafka;
  }

  @BeforeAll
  void startTheMeshAndSendTraffic() throws Exception {
    dir = Files.createTempDirectory("meshlog-e2e-telemetry");
    running.add(InProcessMesh.controlPlane(kafka, dir));
    // Two instances of the pipeline (one application id): they share the input partitions, and
    // a query to either must answer the whole graph.
    TelemetryTopology.Settings topology =
        TelemetryTopology.Settings.defaults(KafkaCluster.uniqueName("telemetry"));
    pipeline = InProcessMesh.pipeline(kafka, dir.resolve("telemetry"), topology);
    running.add(pipeline);
    secondPipeline = InProcessMesh.pipeline(kafka, dir.resolve("telemetry-2"), topology);
    running.add(secondPipeline);

    try (MeshClient mesh = MeshClient.connect(kafka.bootstrapServers())) {
      ConfigCommands commands = ConfigCommands.of("e2e", SourceType.CLI, Clock.systemUTC());
      List<Outcome> outcomes = mesh.submit(List.of(
          commands.apply(faultRoute("ratings", abort())),
          commands.apply(faultRoute("details", delay()))));
      assertThat(outcomes).allSatisfy(o -> assertThat(o.accepted())
          .as("%s: %s", o.resource(), o.errors()).isTrue());
    }

    for (String service : List.of("reviews", "ratings", "details")) {
      TestApp app = new TestApp(service);
      running.add(app);
      sidecar(service, app.port());
    }
    ProxyProcess productpage = sidecar("productpage", 1);
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
        .until(() -> readyToCall(productpage));

    AppClient app = new AppClient(productpage.outboundPort());
    assertThat(app.getMany("http://reviews:9080/reviews/1", ns + "-reviews", REVIEWS, 10))
        .containsOnly(200);
    ratingsStatuses = app.getMany("http://ratings:9080/ratings/1", ns + "-ratings", RATINGS, 10);
    assertThat(ratingsStatuses).containsOnly(200, 503);
    assertThat(app.getMany("http://details:9080/details/1", ns + "-details", DETAILS, 20))
        .containsOnly(200);
  }

  @AfterAll
  void stop() throws Exception {
    proxies.forEach(ProxyProcess::close);
    for (int i = running.size() - 1; i >= 0; i--) {
      running.get(i).close();
    }
  }

  private ProxyProcess sidecar(String service, int appPort) {
    ProxyProcess p = ProxyProcess.start(service, Duration.ofSeconds(60),
        "--service", service, "--version", "v1", "--namespace", ns,
        "--app-port", Integer.toString(appPort), "--service-port", "http:9080",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve(service + ".views").toString(),
        "--drain", "0s", "--concurrency", "1");
    proxies.add(p);
    return p;
  }

  /** Whether productpage's proxy has every callee's endpoint and both faults in force. */
  private boolean readyToCall(ProxyProcess productpage) throws Exception {
    JsonNode services = JSON.readTree(productpage.admin("/config_dump")).path("services");
    for (String service : List.of("reviews", "ratings", "details")) {
      JsonNode view = services.path(service + "." + ns + ".svc.cluster.local");
      if (view.path("endpoints").size() != 1
          || !view.path("endpoints").get(0).path("healthy").asBoolean()) {
        return false;
      }
    }
    String dump = services.toString();
    return dump.contains("\"abortPercent\":" + ABORT_PERCENT)
        && dump.contains("\"delayPercent\":" + DELAY_PERCENT);
  }

  private static ObjectNode abort() {
    ObjectNode fault = JSON.createObjectNode();
    ObjectNode abort = fault.putObject("abort").put("httpStatus", 503);
    abort.putObject("percentage").put("value", ABORT_PERCENT);
    return fault;
  }

  private static ObjectNode delay() {
    ObjectNode fault = JSON.createObjectNode();
    ObjectNode delay = fault.putObject("delay").put("fixedDelay", DELAY_MILLIS + "ms");
    delay.putObject("percentage").put("value", DELAY_PERCENT);
    return fault;
  }

  private Resource faultRoute(String service, ObjectNode fault) {
    ObjectNode spec = JSON.createObjectNode();
    spec.putArray("hosts").add(service);
    ObjectNode http = spec.putArray("http").addObject();
    http.put("name", service + "-faulty");
    http.set("fault", fault);
    http.putArray("route").addObject().putObject("destination").put("host", service);
    return new Resource("networking.istio.io/v1", "VirtualService", ns, service, Map.of(), spec);
  }

  /**
   * The graph's edges from productpage in this test's namespace, by destination service. An
   * edge is versioned: a call the proxy answered itself (an injected abort) reached no
   * endpoint, so it has no destination version and is an edge of its own, as in Istio.
   */
  private Map<String, List<JsonNode>> edges() throws Exception {
    return edges(pipeline);
  }

  private Map<String, List<JsonNode>> edges(TelemetryService instance) throws Exception {
    Map<String, List<JsonNode>> out = new HashMap<>();
    for (JsonNode e : JSON.readTree(get(instance, "/api/v1/graph?window=15m")).path("edges")) {
      if (e.path("source").path("namespace").asText().equals(ns)) {
        assertThat(e.path("source").path("service").asText()).isEqualTo("productpage");
        out.computeIfAbsent(e.path("destination").path("service").asText(),
            k -> new ArrayList<>()).add(e);
      }
    }
    return out;
  }

  /** {@code field} summed over the versions of one destination's edges. */
  private static long sum(List<JsonNode> edges, String... path) {
    long total = 0;
    for (JsonNode e : edges) {
      JsonNode n = e;
      for (String p : path) {
        n = n.path(p);
      }
      total += n.asLong();
    }
    return total;
  }

  /** The edge to version {@code version} of a destination. */
  private static JsonNode version(List<JsonNode> edges, String version) {
    return edges.stream().filter(e -> e.path("destination").path("version").asText()
        .equals(version)).findFirst().orElseThrow(() -> new AssertionError(
            "no edge to version " + version + " in " + edges));
  }

  private Map<String, List<JsonNode>> edgesOnceCounted(Map<String, Integer> expected) {
    return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(this::edges, e -> expected.entrySet().stream().allMatch(x ->
            e.containsKey(x.getKey()) && sum(e.get(x.getKey()), "requests") >= x.getValue()));
  }

  @Test
  void graphCountsEveryRequestSentPerEdgeWhenNothingWasDropped() {
    Map<String, Integer> sent = Map.of("reviews", REVIEWS, "ratings", RATINGS,
        "details", DETAILS);
    Map<String, List<JsonNode>> edges = edgesOnceCounted(sent);
    assertThat(edges.keySet()).containsExactlyInAnyOrderElementsOf(sent.keySet());
    sent.forEach((service, count) ->
        assertThat(sum(edges.get(service), "requests")).as(service).isEqualTo((long) count));
    assertThat(version(edges.get("reviews"), "v1").path("requests").asLong())
        .isEqualTo(REVIEWS);
    for (ProxyProcess p : proxies) {
      assertThat(p.metric("meshlog_telemetry_events_dropped_total")).as(p.toString())
          .isEqualTo(0.0);
      assertThat(p.metric("meshlog_telemetry_events_failed_total")).as(p.toString())
          .isEqualTo(0.0);
    }
    // both sidecars report each in-mesh call (reviews' as DESTINATION); it is counted once.
    // Awaited: the graph counts the caller's (SOURCE) events, so it says nothing of when
    // reviews' own last record was acknowledged.
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(proxies.get(0).metric("meshlog_telemetry_events_sent_total"))
            .isEqualTo((double) REVIEWS));
  }

  @Test
  void errorRateMatchesTheInjectedAbortFault() {
    Map<String, List<JsonNode>> edges = edgesOnceCounted(Map.of("ratings", RATINGS));
    List<JsonNode> ratings = edges.get("ratings");
    long aborted = ratingsStatuses.stream().filter(s -> s == 503).count();
    assertThat(sum(ratings, "errors")).isEqualTo(aborted);
    assertThat(sum(ratings, "responseFlags", "FI")).isEqualTo(aborted);
    // 400 calls at 20%: the standard deviation of the rate is 2 points; allow 4 of them
    assertThat((double) sum(ratings, "errors") / sum(ratings, "requests"))
        .isBetween(0.12, 0.28);
    assertThat(version(ratings, "v1").path("errors").asLong()).isZero();
    assertThat(sum(edges.get("reviews"), "errors")).isZero();
  }

  @Test
  void p99ReflectsTheInjectedDelay() {
    Map<String, List<JsonNode>> edges = edgesOnceCounted(Map.of("details", DETAILS, "reviews",
        REVIEWS));
    JsonNode details = version(edges.get("details"), "v1");
    assertThat(details.path("requests").asLong()).isEqualTo(DETAILS);
    double accuracy = details.path("relativeAccuracy").asDouble();
    // About 10% of the calls waited 400 ms (flag DI): with at least 2 of 150 delayed the p99
    // is one of them, so it is at least the delay, within the sketch's accuracy. (No upper
    // bound on undelayed calls: that would assert the machine's speed.)
    long delayed = details.path("responseFlags").path("DI").asLong();
    assertThat(delayed).isBetween(2L, DETAILS / 2L);
    assertThat(details.path("p99Millis").asDouble())
        .isGreaterThanOrEqualTo(DELAY_MILLIS * (1 - accuracy));
    assertThat(details.path("maxMillis").asDouble()).isGreaterThanOrEqualTo(DELAY_MILLIS);
    assertThat(version(edges.get("reviews"), "v1").path("responseFlags").path("DI").asLong())
        .isZero();
  }

  @Test
  void bothPipelineInstancesAnswerTheSameWholeGraph() throws Exception {
    Map<String, List<JsonNode>> fromFirst = edgesOnceCounted(Map.of("reviews", REVIEWS,
        "ratings", RATINGS, "details", DETAILS));
    Map<String, List<JsonNode>> fromSecond = edges(secondPipeline);
    assertThat(requestsByVersionedEdge(fromSecond)).isEqualTo(requestsByVersionedEdge(fromFirst));
    // Each versioned edge is held by exactly one instance (its input partition's owner); the
    // answers above are whole because each instance asks the other for the rest.
    long held = localEdges(pipeline) + localEdges(secondPipeline);
    assertThat(held).isEqualTo(fromFirst.values().stream().mapToLong(List::size).sum());
  }

  @Test
  void theGraphPageDrawsTheRealTrafficInChromium(@TempDir Path profiles) throws Exception {
    Assumptions.assumeTrue(HeadlessChromium.installed(), "no " + HeadlessChromium.BINARY);
    edgesOnceCounted(Map.of("reviews", REVIEWS, "ratings", RATINGS, "details", DETAILS));
    HeadlessChromium chromium = new HeadlessChromium(profiles);
    String page = "http://127.0.0.1:" + secondPipeline.httpPort() + "/?window=15m";
    String dom = chromium.dumpDom(page, 4000);
    assertThat(dom).contains("data-state=\"loaded\"");
    for (String service : List.of("productpage", "reviews", "ratings", "details")) {
      assertThat(dom).contains("data-service=\"" + ns + "/" + service + "\"");
    }
    for (String callee : List.of("reviews", "ratings", "details")) {
      assertThat(dom).contains("data-edge=\"" + ns + "/productpage/v1-&gt;" + ns + "/" + callee
          + "/v1\"");
    }
    // the aborted calls (answered by the caller's proxy, no destination version) are marked bad
    assertThat(dom).containsPattern("<tr data-edge=\"" + ns + "/productpage/v1-&gt;" + ns
        + "/ratings/?\" class=\"bad\"");
    assertThat(dom).doesNotContainPattern("/(reviews|details|ratings)/v1\" class=\"bad\"");
    assertThat(dom).as("Cytoscape drew the canvas").contains("<canvas");
    Path png = Path.of("target", "graph-page-e2e.png").toAbsolutePath();
    Files.deleteIfExists(png);
    chromium.screenshot(page, 4000, png);
    assertThat(Files.size(png)).isGreaterThan(10_000);
  }

  /** Requests per "destination/version" in a graph answer. */
  private static Map<String, Long> requestsByVersionedEdge(Map<String, List<JsonNode>> edges) {
    Map<String, Long> out = new HashMap<>();
    edges.forEach((service, list) -> list.forEach(e -> out.put(
        service + "/" + e.path("destination").path("version").asText(),
        e.path("requests").asLong())));
    return out;
  }

  /** The versioned edges of this test's namespace an instance holds in its own stores. */
  private long localEdges(TelemetryService instance) throws Exception {
    return get(instance, "/metrics").lines().filter(l -> l.startsWith("meshlog_edge_errors_total{")
        && l.contains("source_namespace=\"" + ns + "\"")).count();
  }

  private static String get(TelemetryService instance, String path) throws Exception {
    return PipelineApi.get(instance, path);
  }
}
