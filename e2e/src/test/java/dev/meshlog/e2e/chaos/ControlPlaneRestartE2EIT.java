package dev.meshlog.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.client.ConfigCommands;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.client.Outcome;
import dev.meshlog.config.client.Revision;
import dev.meshlog.config.client.SubmitTimeoutException;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.e2e.support.AppClient;
import dev.meshlog.e2e.support.ProxyProcess;
import dev.meshlog.e2e.support.Running;
import dev.meshlog.e2e.support.ServiceProcess;
import dev.meshlog.e2e.support.TestApp;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control plane, run as its own process from the config-service jar, stopped (SIGTERM) and
 * started again on the same data directory and application id, on the shared broker: the
 * sidecars (processes) keep serving on their last views while it is away; an apply made
 * meanwhile waits in {@code mesh.config.commands} (the client gets no answer in time) and takes
 * effect once it is back; the resource's history holds each revision exactly once.
 */
@WithKafka
class ControlPlaneRestartE2EIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final KafkaCluster kafka;
  private final String ns = "cprestart" + UUID.randomUUID().toString().substring(0, 8);
  private final Running running = new Running();

  @TempDir
  Path dir;

  ControlPlaneRestartE2EIT(KafkaCluster kafka) {
    this.kafka = kafka;
  }

  @AfterEach
  void stop() throws Exception {
    running.close();
  }

  @Test
  void anApplyMadeWhileTheControlPlaneIsDownTakesEffectOnceItIsBackAndProxiesServeMeanwhile()
      throws Exception {
    String applicationId = KafkaCluster.uniqueName("config-service");
    Path data = dir.resolve("control-plane");
    ServiceProcess controlPlane = ServiceProcess.controlPlane(kafka.bootstrapServers(),
        applicationId, data, Duration.ofSeconds(120));
    running.add(controlPlane);
    ConfigCommands commands = ConfigCommands.of("e2e", SourceType.CLI, Clock.systemUTC());
    try (MeshClient mesh = MeshClient.connect(kafka.bootstrapServers())) {
      List<Outcome> first = mesh.submit(List.of(commands.apply(reviewsRoute(null))));
      assertThat(first).singleElement().satisfies(o -> assertThat(o.accepted())
          .as("%s: %s", o.resource(), o.errors()).isTrue());
    }

    TestApp reviewsApp = new TestApp("reviews");
    running.add(reviewsApp);
    sidecar("reviews", reviewsApp.port());
    ProxyProcess productpage = sidecar("productpage", 1);
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
        .until(() -> reviewsEndpoints(productpage) == 1);
    AppClient app = new AppClient(productpage.outboundPort());
    String url = "http://reviews:9080/reviews/1";
    assertThat(app.getMany(url, ns + "-before", 20, 2)).containsOnly(200);

    assertThat(controlPlane.stop()).as("config-service's exit status after SIGTERM")
        .isIn(0, 143);
    // Away: the mesh serves on its last views.
    assertThat(app.getMany(url, ns + "-away", 50, 2)).as("calls with the control plane away")
        .containsOnly(200);
    // An apply meanwhile: the command is written (the client's send succeeded) and no answer
    // comes; the client says so.
    try (MeshClient mesh = new MeshClient(kafka.clientConfig(), Duration.ofSeconds(3))) {
      assertThatThrownBy(() -> mesh.submit(List.of(commands.apply(reviewsRoute(abort())))))
          .isInstanceOf(SubmitTimeoutException.class);
    }
    assertThat(app.getMany(url, ns + "-pending", 20, 2))
        .as("calls with the apply waiting for the control plane").containsOnly(200);
    assertThat(productpage.alive()).isTrue();

    ServiceProcess again = ServiceProcess.controlPlane(kafka.bootstrapServers(),
        applicationId, data, Duration.ofSeconds(120));
    running.add(again);
    // The waiting apply is processed: productpage gets the fault (the calls meanwhile still
    // reach reviews), and from then on every call is aborted.
    try {
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
          .until(() -> app.get(url, ns + "-awaiting-" + UUID.randomUUID()) == 418);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("the apply made while the control plane was down did not reach "
          + "productpage; " + whatTheMeshHolds(), e);
    }
    assertThat(app.getMany(url, ns + "-after", 20, 2)).as("calls once the apply took effect")
        .containsOnly(418);
    assertThat(reviewsEndpoints(productpage)).as("reviews' instance kept across the restart")
        .isEqualTo(1);

    try (MeshClient mesh = MeshClient.connect(kafka.bootstrapServers())) {
      List<Revision> history = mesh.history(new ResourceId("VirtualService", ns, "reviews"));
      assertThat(history).extracting(Revision::revision).as("revisions, once each")
          .containsExactly(1L, 2L);
      assertThat(history.get(0).document()).doesNotContain("abort");
      assertThat(history.get(1).document()).contains("abort").contains("418");
    }
  }

  /** The resource's revisions and reviews' latest view, for a failure message. */
  private String whatTheMeshHolds() {
    try (MeshClient mesh = MeshClient.connect(kafka.bootstrapServers())) {
      return "history: " + mesh.history(new ResourceId("VirtualService", ns, "reviews"))
          + "; reviews' latest view: " + mesh.views().get("reviews." + ns + ".svc.cluster.local")
          + "; proxy status: " + mesh.proxyStatuses().get(ns + "-productpage");
    } catch (RuntimeException e) {
      return "(mesh not readable: " + e + ")";
    }
  }

  private ProxyProcess sidecar(String service, int appPort) {
    ProxyProcess p = ProxyProcess.start(service, Duration.ofSeconds(60),
        "--service", service, "--version", "v1", "--namespace", ns,
        "--instance-id", ns + "-" + service,
        "--app-port", Integer.toString(appPort), "--service-port", "http:9080",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve(service + ".views").toString(),
        "--telemetry", "off", "--drain", "0s", "--concurrency", "1");
    running.add(p);
    return p;
  }

  /** Healthy reviews endpoints in {@code caller}'s view. */
  private int reviewsEndpoints(ProxyProcess caller) throws Exception {
    JsonNode view = JSON.readTree(caller.admin("/config_dump")).path("services")
        .path("reviews." + ns + ".svc.cluster.local");
    int healthy = 0;
    for (JsonNode e : view.path("endpoints")) {
      healthy += e.path("healthy").asBoolean() ? 1 : 0;
    }
    return healthy;
  }

  /** Every call aborted with 418 (a status nothing else in the mesh answers). */
  private static ObjectNode abort() {
    ObjectNode fault = JSON.createObjectNode();
    ObjectNode abort = fault.putObject("abort").put("httpStatus", 418);
    abort.putObject("percentage").put("value", 100.0);
    return fault;
  }

  /** A VirtualService for reviews: one route to it, with {@code fault} when not null. */
  private Resource reviewsRoute(ObjectNode fault) {
    ObjectNode spec = JSON.createObjectNode();
    spec.putArray("hosts").add("reviews");
    ObjectNode http = spec.putArray("http").addObject();
    http.put("name", "reviews");
    if (fault != null) {
      http.set("fault", fault);
    }
    http.putArray("route").addObject().putObject("destination").put("host", "reviews");
    return new Resource("networking.istio.io/v1", "VirtualService", ns, "reviews", Map.of(),
        spec);
  }
}
