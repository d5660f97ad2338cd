package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ProxyState;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.events.status.ViewAck;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** meshctl end to end: the real broker, the real control plane, files in a working directory. */
@WithControlPlane
class MeshctlIT {

  @TempDir
  Path dir;

  private KafkaCluster kafka;
  private Environment env;
  private String ns;

  @BeforeEach
  void setUp(KafkaCluster kafka) {
    this.kafka = kafka;
    env = new Environment(Map.of("MESHLOG_BOOTSTRAP", kafka.bootstrapServers(),
        "XDG_CACHE_HOME", dir.resolve("cache").toString()), dir,
        java.time.Clock.systemUTC(), "ana");
    ns = KafkaCluster.uniqueName("ns");
  }

  private Run meshctl(String... args) {
    return Run.meshctl(env, args);
  }

  private String reviews(int v1, int v2) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
          namespace: %s
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v1}
              weight: %d
            - destination: {host: reviews, subset: v2}
              weight: %d
        """.formatted(ns, v1, v2);
  }

  private Path file(String name, String... documents) throws IOException {
    Path path = dir.resolve(name);
    Files.createDirectories(path.getParent());
    Files.writeString(path, String.join("---\n", documents));
    return path;
  }

  @Test
  void applyCreatesThenReportsUnchangedThenConfigured() throws IOException {
    file("vs.yaml", reviews(90, 10));
    Run created = meshctl("apply", "-f", "vs.yaml");
    assertThat(created.code()).as(created.err()).isZero();
    assertThat(created.out()).isEqualTo("virtualservice.networking.istio.io/reviews created (revision 1)\n");

    Run unchanged = meshctl("apply", "-f", "vs.yaml");
    assertThat(unchanged.out()).isEqualTo("virtualservice.networking.istio.io/reviews unchanged (revision 1)\n");

    file("vs.yaml", reviews(50, 50));
    Run configured = meshctl("apply", "-f", "vs.yaml");
    assertThat(configured.out()).isEqualTo("virtualservice.networking.istio.io/reviews configured (revision 2)\n");
  }

  @Test
  void applyAgainstAClusterWithoutTheSchemaRegistryNotesItAndApplies() throws Exception {
    // A cluster an earlier release set up has no mesh.schemas: apply must neither wait for the
    // topic's metadata until its timeout nor fail; it says why nothing was registered.
    try (Admin admin = kafka.admin()) {
      admin.deleteTopics(List.of(Topics.SCHEMAS.name())).all().get();
      await().atMost(Duration.ofSeconds(30)).until(() ->
          !admin.listTopics().names().get().contains(Topics.SCHEMAS.name()));
      try {
        file("vs.yaml", reviews(90, 10));
        Run created = meshctl("apply", "-f", "vs.yaml");
        assertThat(created.code()).as(created.err()).isZero();
        assertThat(created.out())
            .isEqualTo("virtualservice.networking.istio.io/reviews created (revision 1)\n");
        assertThat(created.err()).contains("note: mesh.schemas does not exist on this cluster");
        assertThat(admin.listTopics().names().get()).as("not created by the apply")
            .doesNotContain(Topics.SCHEMAS.name());
      } finally {
        new TopicBootstrapper(admin).ensureAll();
      }
    }
  }

  @Test
  void anInvalidResourceExitsNonZeroPrintingItsFieldErrors() throws IOException {
    file("vs.yaml", reviews(0, 120));
    Run run = meshctl("apply", "-f", "vs.yaml");
    assertThat(run.code()).isEqualTo(Meshctl.FAILED);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).isEqualTo("VirtualService/" + ns
        + "/reviews: spec.http[0].route[1].weight: 120 (expected: 0..100)\n");
  }

  @Test
  void aDocumentThatIsNotAResourceIsReportedWithItsLineAndTheOthersStillApply() throws IOException {
    file("mesh/all.yaml", reviews(90, 10), "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
        + "metadata: {namespace: " + ns + "}\nspec: {}\n");
    Run run = meshctl("apply", "-f", "mesh");
    assertThat(run.code()).isEqualTo(Meshctl.FAILED);
    assertThat(run.out()).contains("virtualservice.networking.istio.io/reviews created");
    assertThat(run.err()).startsWith("mesh/all.yaml:").contains("metadata.name");
  }

  @Test
  void applyReadsAStreamOfJsonObjectsAndNamesTheIndexOfABadOne() throws IOException {
    String sidecar = "{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"Sidecar\", "
        + "\"metadata\": {\"name\": \"%s\", \"namespace\": \"" + ns + "\"}, \"spec\": {}}";
    file("stream.json", sidecar.formatted("a") + "\n" + sidecar.formatted("b") + "\n"
        + "{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"Sidecar\", \"spec\": {}}\n");
    Run run = meshctl("apply", "-f", "stream.json");
    assertThat(run.code()).isEqualTo(Meshctl.FAILED);
    assertThat(run.out()).isEqualTo("sidecar.networking.istio.io/a created (revision 1)\n"
        + "sidecar.networking.istio.io/b created (revision 1)\n");
    assertThat(run.err()).startsWith("stream.json:3: objects[2].metadata.name: ");
  }

  @Test
  void applyingAtAStaleRevisionIsAConflict() throws IOException {
    file("vs.yaml", reviews(90, 10));
    meshctl("apply", "-f", "vs.yaml");
    file("vs.yaml", reviews(80, 20));
    Run run = meshctl("apply", "-f", "vs.yaml", "--expected-revision", "5");
    assertThat(run.code()).isEqualTo(Meshctl.FAILED);
    assertThat(run.err()).contains("VirtualService/" + ns + "/reviews: expectedRevision: conflict: ")
        .contains("is at revision 1");
    assertThat(meshctl("apply", "-f", "vs.yaml", "--expected-revision", "1").out())
        .contains("configured (revision 2)");
  }

  @Test
  void deleteByNameAndByFile() throws IOException {
    file("vs.yaml", reviews(90, 10));
    meshctl("apply", "-f", "vs.yaml");
    Run deleted = meshctl("delete", "vs", "reviews", "-n", ns);
    assertThat(deleted.code()).isZero();
    assertThat(deleted.out()).isEqualTo("virtualservice.networking.istio.io/reviews deleted (revision 2)\n");

    Run again = meshctl("delete", "-f", "vs.yaml");
    assertThat(again.code()).isEqualTo(Meshctl.FAILED);
    assertThat(again.err()).contains("VirtualService/" + ns + "/reviews: metadata.name: ")
        .contains("does not exist");

    meshctl("apply", "-f", "vs.yaml");
    assertThat(meshctl("delete", "-f", "vs.yaml").out()).contains("deleted (revision 4)");
  }

  @Test
  void historyShowsEveryRevisionAndRollbackRestoresOne() throws IOException {
    file("vs.yaml", reviews(90, 10));
    meshctl("apply", "-f", "vs.yaml");
    file("vs.yaml", reviews(50, 50));
    meshctl("apply", "-f", "vs.yaml");

    Run rollback = meshctl("rollback", "virtualservice", "reviews", "-n", ns, "--to-revision", "1");
    assertThat(rollback.code()).as(rollback.err()).isZero();
    assertThat(rollback.out()).isEqualTo(
        "virtualservice.networking.istio.io/reviews rolled back to revision 1 (revision 3)\n");

    Run history = meshctl("history", "vs", "reviews", "-n", ns);
    assertThat(history.code()).isZero();
    List<String> lines = history.out().lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).startsWith("REVISION   CHANGE    ACTOR   SOURCE   ACCEPTED");
    assertThat(lines.get(1)).startsWith("1          CREATED   ana     cli");
    assertThat(lines.get(2)).startsWith("2          UPDATED   ana     cli");
    assertThat(lines.get(3)).startsWith("3          UPDATED   ana     cli").endsWith("rollback to 1");

    Run yaml = meshctl("get", "vs", "reviews", "-n", ns, "-o", "yaml");
    assertThat(yaml.out()).contains("weight: 90");

    Run missing = meshctl("rollback", "vs", "reviews", "-n", ns, "--to-revision", "9");
    assertThat(missing.code()).isEqualTo(Meshctl.FAILED);
    assertThat(missing.err()).contains("rollbackToRevision: no such revision");
  }

  @Test
  void whatGetPrintsAsYamlOrJsonAppliesBackWithNoNewRevision() throws IOException {
    String ratings = reviews(90, 10).replace("name: reviews", "name: ratings");
    file("vs.yaml", reviews(90, 10), ratings);
    assertThat(meshctl("apply", "-f", "vs.yaml").code()).isZero();

    for (String output : List.of("yaml", "json")) {
      // Several resources: YAML as --- documents, JSON as a kind: List, as kubectl prints them.
      Run got = meshctl("get", "vs", "-n", ns, "-o", output);
      assertThat(got.code()).as(got.err()).isZero();
      Files.writeString(dir.resolve("got." + output), got.out());
      Run again = meshctl("apply", "-f", "got." + output);
      assertThat(again.code()).as(output + ": " + again.err()).isZero();
      assertThat(again.out()).isEqualTo(
          "virtualservice.networking.istio.io/ratings unchanged (revision 1)\n"
              + "virtualservice.networking.istio.io/reviews unchanged (revision 1)\n");
    }
  }

  @Test
  void getListsResourcesAsATableYamlOrJson() throws IOException {
    file("vs.yaml", reviews(90, 10));
    meshctl("apply", "-f", "vs.yaml");

    Run table = meshctl("get", "virtualservices", "-n", ns);
    assertThat(table.out().lines().toList()).satisfiesExactly(
        header -> assertThat(header).isEqualTo("NAME      REVISION   UPDATED-BY   SOURCE   AGE"),
        row -> assertThat(row).startsWith("reviews   1          ana          cli      "));
    assertThat(meshctl("get", "vs", "reviews", "-n", ns, "-o", "json").out())
        .contains("\"kind\" : \"VirtualService\"");
    Run none = meshctl("get", "dr", "-n", ns);
    assertThat(none.code()).isZero();
    assertThat(none.err()).isEqualTo("No resources found in " + ns + " namespace.\n");
    assertThat(meshctl("get", "vs", "nothing", "-n", ns).code()).isEqualTo(Meshctl.FAILED);
  }

  @Test
  void analyzeReportsTheProblemsOfCompiledViewsAndExitsOneOnErrors() throws IOException {
    String entry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: reviews
          namespace: %s
        spec:
          hosts: [reviews.%s.svc.cluster.local]
          location: MESH_INTERNAL
          ports: [{number: 9080, name: http, protocol: HTTP}]
          resolution: STATIC
          endpoints: [{address: 127.0.0.1}]
        """.formatted(ns, ns);
    file("mesh.yaml", entry, reviews(90, 10));
    Run applied = meshctl("apply", "-f", "mesh.yaml");
    assertThat(applied.code()).as(applied.err()).isZero();

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Run run = meshctl("analyze", "-n", ns);
      assertThat(run.code()).isEqualTo(Meshctl.FAILED);
      assertThat(run.out()).contains("Error [VirtualService/" + ns + "/reviews] "
          + "spec.http[0].route[0].destination.subset: subset v1 of reviews." + ns
          + ".svc.cluster.local is not defined");
    });
  }

  /** Registers (or deregisters) instances of reviews in this test's namespace. */
  private void registry(RegistrationState state, String pad, int from, int to) {
    Instant now = Instant.now();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new StringSerializer(), new ByteArraySerializer())) {
      for (int i = from; i <= to; i++) {
        String id = "reviews-" + i;
        producer.send(new ProducerRecord<>(Topics.REGISTRY_INSTANCES.name(), ns + "/reviews/" + id,
            Topics.REGISTRY_INSTANCES.serializeValue(InstanceRegistration.newBuilder()
                .setInstanceId(id).setService("reviews").setNamespace(ns).setAddress("127.0.0.1")
                .setPort(15006).setLabels(Map.of("app", "reviews", "pad", pad)).setState(state)
                .setLeaseDurationMillis(600_000).setRegisteredAt(now).setHeartbeatAt(now)
                .build())));
      }
    }
  }

  @Test
  void analyzeReportsAViewHeldBackForSizeUntilItFitsAgain() {
    String host = "reviews." + ns + ".svc.cluster.local";
    // 165 instances with 100 KB of labels each: a view of ≈16.5 MB, over the 16,000,000
    // bytes a view may have (Topics.MAX_VIEW_BYTES).
    registry(RegistrationState.REGISTERED, "y".repeat(100_000), 1, 165);

    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Run run = meshctl("analyze", "-n", ns);
      assertThat(run.code()).as(run.err()).isEqualTo(Meshctl.FAILED);
      assertThat(run.out()).containsPattern("Error \\[ServiceView/" + ns + "/" + host.replace(".", "\\.")
          + "\\] view: held back: 1[0-9]{7} bytes \\(expected: at most 16000000 bytes, what one"
          + " Kafka record carries\\); proxies keep version [0-9]+ since ")
          .contains("(views: " + host + ")")
          .contains("Error: Analyzers found 1 error(s)");
    });
    Run json = meshctl("analyze", "-n", ns, "-o", "json");
    assertThat(json.out()).contains("\"hold\"").contains("\"host\" : \"" + host + "\"")
        .contains("\"limitBytes\" : 16000000").contains("\"keptVersion\"");

    // Ten leave: the view (≈15.5 MB) fits again, is published, and the hold is tombstoned.
    registry(RegistrationState.DEREGISTERED, "", 156, 165);
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Run run = meshctl("analyze", "-n", ns);
      assertThat(run.code()).as(run.out()).isZero();
      assertThat(run.out()).startsWith("No validation issues found");
    });
  }

  @Test
  void proxyStatusShowsOneRowPerProxy() {
    String proxy = KafkaCluster.uniqueName("reviews-v2");
    String host = KafkaCluster.uniqueName("ratings") + ".default.svc.cluster.local";
    Instant now = Instant.now();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(Topics.DISCOVERY_VIEWS.name(), host,
          Topics.DISCOVERY_VIEWS.serializeValue(ServiceView.newBuilder().setHost(host).setVersion(3)
              .setGeneratedAt(now).build())));
      producer.send(new ProducerRecord<>(Topics.PROXY_STATUS.name(), proxy,
          Topics.PROXY_STATUS.serializeValue(ProxyStatus.newBuilder().setProxyId(proxy)
              .setService("reviews").setState(ProxyState.RUNNING).setStartedAt(now)
              .setReportedAt(now).setViews(List.of(ViewAck.newBuilder().setHost(host)
                  .setVersion(3).setAck(AckState.NACK).setAppliedVersion(2L)
                  .setErrorDetail("route 0: subset v9 not defined").setUpdatedAt(now).build()))
              .build())));
    }
    Run run = meshctl("proxy-status");
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("NAME").contains(proxy)
        .contains(proxy + ": " + host + " NACK of version 3 (serving 2): route 0: subset v9 not defined");
    Run one = meshctl("proxy-status", proxy);
    assertThat(one.out()).contains(host).contains("NACK");
  }

  @Test
  void gitopsSyncAppliesEachCommitOnceAndSaysWhenItIsUpToDate() throws Exception {
    Path repo = dir.resolve("repo");
    try (Git git = Git.init().setDirectory(repo.toFile()).setInitialBranch("main").call()) {
      Files.createDirectories(repo.resolve("mesh"));
      Files.writeString(repo.resolve("mesh/reviews.yaml"), reviews(90, 10));
      git.add().addFilepattern(".").call();
      RevCommit first = git.commit().setMessage("add reviews").setSign(false)
          .setAuthor("ana", "ana@example.com").setCommitter("ana", "ana@example.com").call();

      Run sync = meshctl("gitops", "sync", "--repo", "repo", "--path", "mesh");
      assertThat(sync.code()).as(sync.out() + sync.err()).isZero();
      assertThat(sync.out()).contains("commit " + first.name().substring(0, 7)
          + " add reviews (ana <ana@example.com>)")
          .contains("  virtualservice.networking.istio.io/reviews created (revision 1)")
          .contains("1 commit(s) with config changes");

      Run again = meshctl("gitops", "sync", "--repo", "repo", "--path", "mesh");
      assertThat(again.code()).isZero();
      assertThat(again.out()).contains("is up to date at " + first.name().substring(0, 7));

      Run history = meshctl("history", "vs", "reviews", "-n", ns);
      assertThat(history.out()).contains("ana@example.com")
          .contains("git " + first.name().substring(0, 7) + " mesh/reviews.yaml");

      // A rejection names the file it came from: in a repository of many files the resource
      // alone does not say where to fix it.
      Files.createDirectories(repo.resolve("mesh/team-a"));
      Files.writeString(repo.resolve("mesh/team-a/ratings.yaml"),
          reviews(0, 120).replace("name: reviews", "name: ratings"));
      git.add().addFilepattern(".").call();
      git.commit().setMessage("add ratings").setSign(false)
          .setAuthor("ana", "ana@example.com").setCommitter("ana", "ana@example.com").call();
      Run rejected = meshctl("gitops", "sync", "--repo", "repo", "--path", "mesh");
      assertThat(rejected.code()).isEqualTo(Meshctl.FAILED);
      assertThat(rejected.out()).contains("  error: mesh/team-a/ratings.yaml: VirtualService/" + ns
          + "/ratings: spec.http[0].route[1].weight: 120 (expected: 0..100)");
    }
  }
}
