package dev.meshlog.config.gitops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.meshlog.config.client.LogReader;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.testing.GitHttpServer;
import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.gitops.GitSyncState;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GitOps bridge on a private repository over HTTP with basic authentication (a real git
 * server on loopback: {@link GitHttpServer}), against the real broker and control plane.
 */
@WithControlPlane
class GitOpsPrivateRepositoryIT {

  private static final String USER = "ci-bot";
  private static final String TOKEN = "glpat-s3cr3t-T0ken-do-not-leak";

  @TempDir
  Path root;

  @TempDir
  Path cacheDir;

  private KafkaCluster kafka;
  private Git git;
  private GitHttpServer server;
  private String namespace;
  private final List<GitOpsBridge> bridges = new ArrayList<>();

  private final LogCapture logs = new LogCapture();

  @BeforeEach
  void setUp(KafkaCluster kafka) throws Exception {
    Assumptions.assumeTrue(GitHttpServer.available(), "git http-backend is not installed");
    logs.start("dev.meshlog.config", "org.eclipse.jgit");
    this.kafka = kafka;
    git = Git.init().setDirectory(root.resolve("mesh-config").toFile()).setInitialBranch("main").call();
    server = GitHttpServer.start(root, USER, TOKEN);
    namespace = KafkaCluster.uniqueName("ns");
  }

  @AfterEach
  void tearDown() {
    logs.stop();
    bridges.forEach(GitOpsBridge::close);
    if (server != null) {
      server.close();
    }
    if (git != null) {
      git.close();
    }
  }

  private GitOpsBridge bridge(String repository, GitCredentials credentials) {
    GitOpsBridge bridge = new GitOpsBridge(new GitSource(repository, "main", "mesh"), credentials,
        kafka.clientConfig(), cacheDir, "default", Duration.ofSeconds(30), Clock.systemUTC());
    bridges.add(bridge);
    return bridge;
  }

  private RevCommit commitVirtualService(String name, int v1Weight) throws Exception {
    return GitCommits.virtualService(git, namespace, name, v1Weight);
  }

  /** Every record of {@code mesh.gitops.state}, key and value as text, in log order. */
  private List<String> stateRecords() {
    List<String> records = new ArrayList<>();
    try (LogReader reader = new LogReader(kafka.clientConfig(), Duration.ofSeconds(30))) {
      reader.readToEnd(Topics.GITOPS_STATE, (key, state) -> records.add(key + " = " + state));
    }
    return records;
  }

  private Map<String, GitSyncState> latestStates() {
    try (LogReader reader = new LogReader(kafka.clientConfig(), Duration.ofSeconds(30))) {
      return new LinkedHashMap<>(reader.latest(Topics.GITOPS_STATE));
    }
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

  @Test
  void theRightCredentialsSyncAndNoSecretIsRecorded() throws Exception {
    RevCommit commit = commitVirtualService("reviews", 90);
    String url = server.url("mesh-config");

    SyncReport report = bridge(url, new GitCredentials(USER, TOKEN)).sync();

    assertThat(report.clean()).as("%s", report).isTrue();
    assertThat(report.commits()).extracting(CommitReport::commitId).containsExactly(commit.name());
    assertThat(events()).singleElement().satisfies(event ->
        assertThat(event.getSource().getRepository()).isEqualTo(url));
    assertThat(stateRecords()).anyMatch(r -> r.startsWith(url + "#main#mesh = "))
        .noneMatch(r -> r.contains(TOKEN));
    assertThat(report.toString()).doesNotContain(TOKEN);
  }

  @Test
  void wrongCredentialsAreAClearErrorNamingTheRepositoryWithoutTheSecret() throws Exception {
    commitVirtualService("reviews", 90);
    String url = server.url("mesh-config");
    String wrong = "wrong-" + TOKEN;

    assertThatThrownBy(() -> bridge(url, new GitCredentials(USER, wrong)).sync())
        .isInstanceOf(GitAuthenticationException.class)
        .hasMessageContaining("cannot fetch main of " + url)
        .hasMessageContaining("the server refused user " + USER)
        .hasMessageNotContaining(wrong);
    assertThat(events()).isEmpty();
    assertThat(logs.lines()).as("JGit's debug log of the refused fetch").isNotEmpty()
        .noneMatch(line -> line.contains(wrong));
  }

  @Test
  void aTokenRotatedInItsFileIsUsedFromTheNextSyncWithoutANewBridge() throws Exception {
    RevCommit commit = commitVirtualService("reviews", 90);
    Path tokenFile = cacheDir.resolve("token");
    Files.writeString(tokenFile, "expired-" + TOKEN + "\n");
    GitOpsBridge bridge = new GitOpsBridge(
        new GitSource(server.url("mesh-config"), "main", "mesh"),
        () -> GitCredentials.fromFile(USER, tokenFile, "token file"), kafka.clientConfig(),
        cacheDir, "default", Duration.ofSeconds(30), Clock.systemUTC());
    bridges.add(bridge);

    assertThatThrownBy(bridge::sync).isInstanceOf(GitAuthenticationException.class);
    Files.writeString(tokenFile, TOKEN + "\n");
    SyncReport report = bridge.sync();

    assertThat(report.commits()).extracting(CommitReport::commitId).containsExactly(commit.name());
  }

  @Test
  void aRedirectWithinTheServerIsFollowedWithTheCredentials() throws Exception {
    RevCommit commit = commitVirtualService("reviews", 90);
    server.redirect("old-name", "mesh-config");
    String url = server.url("old-name");

    SyncReport report = bridge(url, new GitCredentials(USER, TOKEN)).sync();

    assertThat(report.commits()).extracting(CommitReport::commitId).containsExactly(commit.name());
    assertThat(server.requests()).anyMatch(r -> r.contains("/old-name/"))
        .anyMatch(r -> r.contains("/mesh-config/"));
  }

  @Test
  void noCredentialsForAPrivateRepositorySayWhatToPass() throws Exception {
    commitVirtualService("reviews", 90);
    String url = server.url("mesh-config");

    assertThatThrownBy(() -> bridge(url, GitCredentials.none()).sync())
        .isInstanceOf(GitAuthenticationException.class)
        .hasMessageContaining(url)
        .hasMessageContaining("--git-password-file");
    assertThatThrownBy(() -> GitOpsBridge.defaultBranch(url, GitCredentials.none()))
        .isInstanceOf(GitAuthenticationException.class);
    assertThat(GitOpsBridge.defaultBranch(url, new GitCredentials(USER, TOKEN))).isEqualTo("main");
  }

  @Test
  void credentialsInTheUrlAreUsedButNeitherRecordedNorShown() throws Exception {
    commitVirtualService("reviews", 90);
    String url = server.url("mesh-config");
    String withCredentials = url.replace("http://", "http://" + USER + ":" + TOKEN + "@");

    GitOpsBridge bridge = bridge(withCredentials,
        GitUrls.credentials(withCredentials).orElseThrow());
    SyncReport report = bridge.sync();

    assertThat(report.clean()).as("%s", report).isTrue();
    assertThat(bridge.source().repository()).isEqualTo(url);
    assertThat(bridge.source().key()).doesNotContain(TOKEN);
    assertThat(bridge.source().transactionalId())
        .isEqualTo(new GitSource(url, "main", "mesh").transactionalId());
    assertThat(report.toString()).doesNotContain(TOKEN);
    assertThat(stateRecords()).noneMatch(r -> r.contains(TOKEN));
    assertThat(events()).allSatisfy(e -> assertThat(e.toString()).doesNotContain(TOKEN));
    try (var files = Files.walk(cacheDir, 1)) {
      assertThat(files.map(Path::toString)).noneMatch(p -> p.contains(TOKEN));
    }
    assertThat(logs.lines()).isNotEmpty().noneMatch(line -> line.contains(TOKEN));
  }

  @Test
  void aBridgeUpgradedFromAKeyWithCredentialsGoesOnFromItsCommitAndDeletesThatKey()
      throws Exception {
    RevCommit first = commitVirtualService("reviews", 90);
    String url = server.url("mesh-config");
    String oldRepository = url.replace("http://", "http://" + USER + ":" + TOKEN + "@");
    String oldKey = oldRepository + "#main#mesh";
    // What the earlier release wrote after applying the first commit (its key, its value).
    GitSyncState old = GitSyncState.newBuilder().setRepository(oldRepository).setBranch("main")
        .setPath("mesh").setCommitId(first.name()).setAppliedAt(Instant.now()).build();
    Map<String, Object> oldBridge = new java.util.HashMap<>(kafka.clientConfig());
    oldBridge.put(org.apache.kafka.clients.producer.ProducerConfig.TRANSACTIONAL_ID_CONFIG,
        GitSource.transactionalIdOf(oldKey));
    try (MeshClient writer = new MeshClient(oldBridge, Duration.ofSeconds(30))) {
      writer.submit(List.of(), List.of(new org.apache.kafka.clients.producer.ProducerRecord<>(
          Topics.GITOPS_STATE.name(), oldKey, Topics.GITOPS_STATE.serializeValue(old))));
    }
    RevCommit second = commitVirtualService("ratings", 100);

    SyncReport report = bridge(url, new GitCredentials(USER, TOKEN)).sync();

    assertThat(report.fromCommit()).isEqualTo(first.name());
    assertThat(report.commits()).extracting(CommitReport::commitId).containsExactly(second.name());
    assertThat(events()).extracting(e -> e.getResource().getName()).containsExactly("ratings");
    Map<String, GitSyncState> latest = latestStates();
    assertThat(latest).doesNotContainKey(oldKey);
    assertThat(latest.get(url + "#main#mesh").getCommitId()).isEqualTo(second.name());
    assertThat(logs.lines()).anyMatch(line -> line.contains("progress found under 1 key(s) with"
        + " credentials in the URL")).noneMatch(line -> line.contains(TOKEN));
  }
}
