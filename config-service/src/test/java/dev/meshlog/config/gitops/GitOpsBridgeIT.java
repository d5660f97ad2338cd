package dev.meshlog.config.gitops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.CountDownLatch;

import dev.meshlog.config.client.CurrentResource;
import dev.meshlog.config.client.FencedException;
import dev.meshlog.config.client.LogReader;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.client.Outcome;
import dev.meshlog.config.client.Revision;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.config.resource.ResourceParser;
import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.RejectionReason;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GitOps bridge on a local repository, against the real broker and control plane. */
@WithControlPlane
class GitOpsBridgeIT {

  @TempDir
  Path repoDir;

  @TempDir
  Path cacheDir;

  private KafkaCluster kafka;
  private Git git;
  private String namespace;
  private MeshClient client;
  private final List<GitOpsBridge> bridges = new ArrayList<>();

  @BeforeEach
  void setUp(KafkaCluster kafka) throws Exception {
    this.kafka = kafka;
    git = Git.init().setDirectory(repoDir.toFile()).setInitialBranch("main").call();
    namespace = KafkaCluster.uniqueName("ns");
    client = new MeshClient(kafka.clientConfig(), Duration.ofSeconds(30));
  }

  @AfterEach
  void tearDown() {
    bridges.forEach(GitOpsBridge::close);
    client.close();
    git.close();
  }

  private GitOpsBridge bridge() {
    GitOpsBridge bridge = new GitOpsBridge(new GitSource(repoDir.toString(), "main", "mesh"),
        kafka.clientConfig(), cacheDir, "default", Duration.ofSeconds(30), Clock.systemUTC());
    bridges.add(bridge);
    return bridge;
  }

  // ---- the repository ---------------------------------------------------------------------------

  private String virtualService(String name, int v1Weight) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: %s
          namespace: %s
        spec:
          hosts: [%s]
          http:
          - route:
            - destination: {host: %s, subset: v1}
              weight: %d
            - destination: {host: %s, subset: v2}
              weight: %d
        """.formatted(name, namespace, name, name, v1Weight, name, 100 - v1Weight);
  }

  private String destinationRule(String name) {
    return """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: %s
          namespace: %s
        spec:
          host: %s
          subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
        """.formatted(name, namespace, name);
  }

  private void write(String file, String... documents) throws IOException {
    Path path = repoDir.resolve(file);
    Files.createDirectories(path.getParent());
    Files.writeString(path, String.join("---\n", documents));
  }

  private RevCommit commit(String message, String author) throws Exception {
    git.add().addFilepattern(".").call();
    git.add().setUpdate(true).addFilepattern(".").call();
    return git.commit().setMessage(message).setSign(false)
        .setAuthor(author, author + "@example.com")
        .setCommitter(author, author + "@example.com").call();
  }

  /** add: reviews (VS + DR in one file) and ratings; change: reviews' weights, DR removed; delete: ratings. */
  private List<RevCommit> threeCommits() throws Exception {
    write("mesh/reviews.yaml", virtualService("reviews", 90), destinationRule("reviews"));
    write("mesh/ratings.yaml", virtualService("ratings", 100));
    write("docs/not-config.yaml", "this: is outside --path\n");
    RevCommit add = commit("add reviews and ratings", "ana");
    write("mesh/reviews.yaml", virtualService("reviews", 50));
    RevCommit change = commit("reviews: 50/50, drop its DestinationRule", "bob");
    Files.delete(repoDir.resolve("mesh/ratings.yaml"));
    RevCommit delete = commit("remove ratings", "ana");
    return List.of(add, change, delete);
  }

  // ---- the mesh ---------------------------------------------------------------------------------

  private SortedMap<ResourceId, CurrentResource> meshState() {
    SortedMap<ResourceId, CurrentResource> all = new java.util.TreeMap<>(client.resources());
    all.keySet().removeIf(id -> !id.namespace().equals(namespace));
    return all;
  }

  private List<ConfigEvent> events() {
    List<ConfigEvent> events = new ArrayList<>();
    try (LogReader reader = new LogReader(kafka.clientConfig(), Duration.ofSeconds(30))) {
      reader.readToEnd(Topics.CONFIG_EVENTS, (key, event) -> {
        if (event.getResource().getNamespace().equals(namespace)) {
          events.add(event);
        }
      });
    }
    return events;
  }

  /** The resources in the repository's tree under mesh/ now, as the parser reads them. */
  private List<Resource> resourcesInTree() throws IOException {
    return new ResourceParser().parseDirectory(repoDir.resolve("mesh"), "default").stream()
        .map(d -> d.resource()).sorted(java.util.Comparator.comparing(Resource::id)).toList();
  }

  // ---- tests ------------------------------------------------------------------------------------

  @Test
  void threeCommitsReproduceTheLastCommitExactlyAndASecondSyncChangesNothing() throws Exception {
    List<RevCommit> commits = threeCommits();
    GitOpsBridge bridge = bridge();

    SyncReport first = bridge.sync();
    assertThat(first.fromCommit()).isNull();
    assertThat(first.toCommit()).isEqualTo(commits.get(2).name());
    assertThat(first.commits()).extracting(CommitReport::commitId)
        .containsExactly(commits.get(0).name(), commits.get(1).name(), commits.get(2).name());
    assertThat(first.clean()).as("%s", first).isTrue();
    assertThat(first.commits().get(0).outcomes()).extracting(Outcome::changeType)
        .containsOnly(ChangeType.CREATED).hasSize(3);
    assertThat(first.commits().get(1).outcomes()).extracting(o -> o.resource().kind() + " " + o.changeType())
        .containsExactlyInAnyOrder("VirtualService UPDATED", "DestinationRule DELETED");
    assertThat(first.commits().get(2).outcomes()).extracting(o -> o.resource().name() + " " + o.changeType())
        .containsExactly("ratings DELETED");

    assertThat(meshState().values()).extracting(CurrentResource::resource)
        .containsExactlyElementsOf(resourcesInTree());
    int events = events().size();
    assertThat(events).isEqualTo(6);

    SyncReport second = bridge.sync();
    assertThat(second.commits()).isEmpty();
    assertThat(second.fromCommit()).isEqualTo(commits.get(2).name());
    assertThat(events()).hasSize(events);

    SyncReport third = bridge().sync(); // a new bridge instance reads its progress from Kafka
    assertThat(third.commits()).isEmpty();
    assertThat(events()).hasSize(events);
  }

  @Test
  void eachRevisionNamesItsCommitAuthorRepositoryAndFile() throws Exception {
    List<RevCommit> commits = threeCommits();
    bridge().sync();

    List<Revision> history = client.history(new ResourceId("VirtualService", namespace, "reviews"));
    assertThat(history).hasSize(2);
    assertThat(history.get(0).source().getType()).isEqualTo(SourceType.GIT);
    assertThat(history.get(0).source().getCommitId()).isEqualTo(commits.get(0).name());
    assertThat(history.get(0).source().getCommitAuthor()).isEqualTo("ana <ana@example.com>");
    assertThat(history.get(0).source().getRepository()).isEqualTo(repoDir.toString());
    assertThat(history.get(0).source().getPath()).isEqualTo("mesh/reviews.yaml");
    assertThat(history.get(0).actor()).isEqualTo("ana@example.com");
    assertThat(history.get(1).source().getCommitId()).isEqualTo(commits.get(1).name());
    assertThat(history.get(1).actor()).isEqualTo("bob@example.com");
  }

  @Test
  void aRestartedBridgeNeitherReplaysNorSkipsACommit() throws Exception {
    threeCommits();
    GitOpsBridge first = bridge();
    first.sync();
    first.close();
    bridges.remove(first);
    int before = events().size();

    write("mesh/ratings.yaml", virtualService("ratings", 80));
    RevCommit fourth = commit("ratings is back", "carol");
    write("mesh/details.yaml", virtualService("details", 100));
    RevCommit fifth = commit("add details", "carol");

    SyncReport afterRestart = bridge().sync();
    assertThat(afterRestart.commits()).extracting(CommitReport::commitId)
        .containsExactly(fourth.name(), fifth.name());
    assertThat(events()).hasSize(before + 2);
    assertThat(meshState().values()).extracting(CurrentResource::resource)
        .containsExactlyElementsOf(resourcesInTree());
  }

  @Test
  void aCommitWithAnInvalidResourceReportsItWithTheCommitAndAppliesTheRest() throws Exception {
    write("mesh/reviews.yaml", virtualService("reviews", 90));
    commit("reviews", "ana");
    write("mesh/reviews.yaml", virtualService("reviews", 120)); // v2 gets -20
    write("mesh/details.yaml", virtualService("details", 100));
    write("mesh/broken.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec: {}\n");
    RevCommit bad = commit("bad weights, details, and a document without a name", "bob");
    GitOpsBridge bridge = bridge();

    SyncReport report = bridge.sync();
    CommitReport badReport = report.commits().get(1);
    assertThat(badReport.commitId()).isEqualTo(bad.name());
    assertThat(badReport.clean()).isFalse();
    assertThat(badReport.rejections()).singleElement().satisfies(o -> {
      assertThat(o.reason()).isEqualTo(RejectionReason.INVALID);
      assertThat(o.rejection().getCommitId()).isEqualTo(bad.name());
      assertThat(o.errors()).extracting(e -> e.getPath()).contains("spec.http[0].route[0].weight");
    });
    assertThat(badReport.problems()).singleElement().asString().startsWith("mesh/broken.yaml:1: ");
    assertThat(meshState()).containsKey(new ResourceId("VirtualService", namespace, "details"));
    assertThat(meshState().get(new ResourceId("VirtualService", namespace, "reviews")).revision())
        .isEqualTo(1);
    assertThat(report.toCommit()).isEqualTo(bad.name());
    assertThat(bridge.sync().commits()).as("the state moved past the bad commit").isEmpty();
  }

  @Test
  void aResourceDefinedDifferentlyInTwoFilesIsAnErrorForItAndTheRestOfTheCommitApplies()
      throws Exception {
    write("mesh/a.yaml", virtualService("reviews", 90));
    commit("reviews", "ana");
    write("mesh/z.yaml", virtualService("reviews", 50), virtualService("details", 100));
    RevCommit copy = commit("a second reviews, and details", "bob");

    SyncReport report = bridge().sync();
    CommitReport copyReport = report.commits().get(1);
    assertThat(copyReport.commitId()).isEqualTo(copy.name());
    assertThat(copyReport.clean()).isFalse();
    assertThat(copyReport.problems()).containsExactly("VirtualService/" + namespace + "/reviews is "
        + "defined differently in mesh/a.yaml and mesh/z.yaml: not applied (expected: one "
        + "definition of a resource under the path)");
    assertThat(copyReport.outcomes()).extracting(o -> o.resource().name()).containsExactly("details");
    CurrentResource reviews = meshState().get(new ResourceId("VirtualService", namespace, "reviews"));
    assertThat(reviews.revision()).as("z.yaml, the file the commit touched, no longer wins")
        .isEqualTo(1);
    assertThat(meshState()).containsKey(new ResourceId("VirtualService", namespace, "details"));
  }

  @Test
  void aResourceTooLargeForOneRecordIsRejectedByNameAndTheRestOfTheCommitApplies()
      throws Exception {
    // Under the parser's 1 MiB of YAML, over 1 MiB as JSON ("a", four bytes against three):
    // the producer refused it, the commit's transaction failed, and every sync retried it.
    String gateways = String.join(", ", java.util.Collections.nCopies(340_000, "a"));
    write("mesh/big.yaml", virtualService("reviews", 90).replace("http:",
        "gateways: [" + gateways + "]\n  http:"));
    write("mesh/details.yaml", virtualService("details", 100));
    RevCommit commit = commit("a huge reviews, and details", "ana");

    SyncReport report = bridge().sync();
    assertThat(report.toCommit()).isEqualTo(commit.name());
    CommitReport only = report.commits().get(0);
    assertThat(only.rejections()).singleElement().satisfies(o -> {
      assertThat(o.resource().name()).isEqualTo("reviews");
      assertThat(o.command().getSource().getPath()).isEqualTo("mesh/big.yaml");
      assertThat(o.errors().get(0).getMessage()).contains("bytes as a command (expected: at most "
          + "1000000 bytes");
    });
    assertThat(meshState()).containsOnlyKeys(new ResourceId("VirtualService", namespace, "details"));
  }

  @Test
  void aResourceMovedBetweenFilesIsNeitherDeletedNorChanged() throws Exception {
    write("mesh/a.yaml", virtualService("reviews", 90), virtualService("ratings", 100));
    commit("two in one file", "ana");
    write("mesh/a.yaml", virtualService("reviews", 90));
    write("mesh/b.yaml", virtualService("ratings", 100));
    commit("split", "ana");

    SyncReport report = bridge().sync();
    assertThat(report.commits()).hasSize(1);
    assertThat(events()).hasSize(2);
    assertThat(meshState()).hasSize(2);
  }

  @Test
  void aPathThatDoesNotExistOnTheFirstSyncIsAnErrorAndTheCommitCreatingItApplies() throws Exception {
    write("mesh/reviews.yaml", virtualService("reviews", 90));
    RevCommit first = commit("add reviews", "ana");
    GitOpsBridge typo = new GitOpsBridge(new GitSource(repoDir.toString(), "main", "mehs"),
        kafka.clientConfig(), cacheDir, "default", Duration.ofSeconds(30), Clock.systemUTC());
    bridges.add(typo);

    // Argo CD refuses an application path that does not exist; "up to date" (exit 0) let a CI
    // pipeline with a misspelt --path pass while it deployed nothing.
    assertThatThrownBy(typo::sync).isInstanceOf(IllegalStateException.class)
        .hasMessage("path mehs does not exist in main at " + first.name().substring(0, 7)
            + " (expected: a directory or file of the repository); nothing was submitted");

    write("mehs/ratings.yaml", virtualService("ratings", 100));
    commit("add ratings under mehs", "ana");
    SyncReport report = typo.sync();
    assertThat(report.commits()).hasSize(1);
    assertThat(meshState().keySet()).extracting(ResourceId::name).containsExactly("ratings");
  }

  @Test
  void watchPicksUpNewCommitsUntilStopped() throws Exception {
    write("mesh/reviews.yaml", virtualService("reviews", 90));
    commit("reviews", "ana");
    GitOpsBridge bridge = bridge();
    List<SyncReport> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<RuntimeException> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch stop = new CountDownLatch(1);
    Thread watcher = new Thread(() -> {
      try {
        bridge.watch(Duration.ofMillis(100), reports::add, errors::add, stop);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    watcher.start();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> meshState().size() == 1);
      write("mesh/ratings.yaml", virtualService("ratings", 100));
      RevCommit added = commit("ratings", "bob");
      await().atMost(Duration.ofSeconds(30)).until(() -> meshState().size() == 2);
      assertThat(reports).flatExtracting(SyncReport::commits).extracting(CommitReport::commitId)
          .endsWith(added.name());
      assertThat(errors).isEmpty();
    } finally {
      stop.countDown();
      watcher.join(10_000);
    }
    assertThat(watcher.isAlive()).isFalse();
  }

  @Test
  void aSecondBridgeForTheSameSourceFencesTheFirst() throws Exception {
    write("mesh/reviews.yaml", virtualService("reviews", 90));
    commit("reviews", "ana");
    GitOpsBridge first = bridge();
    first.sync();
    GitOpsBridge second = bridge();
    assertThat(second.sync().commits()).isEmpty();

    write("mesh/ratings.yaml", virtualService("ratings", 100));
    commit("ratings", "bob");
    assertThatThrownBy(first::sync).isInstanceOf(FencedException.class);
    assertThat(second.sync().commits()).hasSize(1);
  }

  @Test
  void theSourceKeyAndTransactionalIdAreStablePerSource() {
    GitSource a = new GitSource("/repo", "main", "/mesh/");
    assertThat(a.path()).isEqualTo("mesh");
    assertThat(a.key()).isEqualTo("/repo#main#mesh");
    assertThat(a.transactionalId()).isEqualTo(new GitSource("/repo", "main", "mesh").transactionalId())
        .isNotEqualTo(new GitSource("/repo", "dev", "mesh").transactionalId());
  }
}
