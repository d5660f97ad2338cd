package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import dev.meshlog.config.testing.GitHttpServer;
import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.testkit.KafkaCluster;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshctl gitops sync} on a private repository over HTTP with basic authentication (a
 * real git server on loopback), against the real broker and control plane.
 */
@WithControlPlane
class GitopsCredentialsIT {

  private static final String TOKEN = "ghp_n0t-t0-be-pr1nted";

  @TempDir
  Path dir;

  private KafkaCluster kafka;
  private GitHttpServer server;
  private String url;
  private String ns;

  @BeforeEach
  void setUp(KafkaCluster kafka) throws Exception {
    Assumptions.assumeTrue(GitHttpServer.available(), "git http-backend is not installed");
    this.kafka = kafka;
    ns = KafkaCluster.uniqueName("ns");
    Path repo = dir.resolve("served/mesh-config");
    try (Git git = Git.init().setDirectory(repo.toFile()).setInitialBranch("main").call()) {
      Files.createDirectories(repo.resolve("mesh"));
      Files.writeString(repo.resolve("mesh/reviews.yaml"), """
          apiVersion: networking.istio.io/v1
          kind: VirtualService
          metadata: {name: reviews, namespace: %s}
          spec:
            hosts: [reviews]
            http:
            - route:
              - destination: {host: reviews}
          """.formatted(ns));
      git.add().addFilepattern(".").call();
      git.commit().setMessage("add reviews").setSign(false)
          .setAuthor("ana", "ana@example.com").setCommitter("ana", "ana@example.com").call();
    }
    server = GitHttpServer.start(dir.resolve("served"), "ci-bot", TOKEN);
    url = server.url("mesh-config");
    Files.writeString(dir.resolve("token"), TOKEN + "\n");
    Files.writeString(dir.resolve("wrong-token"), "wrong-" + TOKEN + "\n");
  }

  @AfterEach
  void tearDown() {
    if (server != null) {
      server.close();
    }
  }

  private Run meshctl(Map<String, String> extra, String... args) {
    Map<String, String> variables = new HashMap<>(Map.of("MESHLOG_BOOTSTRAP", kafka.bootstrapServers(),
        "XDG_CACHE_HOME", dir.resolve("cache").toString()));
    variables.putAll(extra);
    return Run.meshctl(new Environment(variables, dir, java.time.Clock.systemUTC(), "ana"), args);
  }

  @Test
  void syncsAPrivateRepositoryWithTheTokenFromAFile() {
    Run sync = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--path", "mesh",
        "--git-username", "ci-bot", "--git-password-file", "token");

    assertThat(sync.code()).as(sync.out() + sync.err()).isZero();
    assertThat(sync.out()).contains("virtualservice.networking.istio.io/reviews created")
        .contains("synced " + url + " main:mesh");
    assertThat(sync.out() + sync.err()).doesNotContain(TOKEN);
  }

  @Test
  void takesTheUserAndTheTokenFileFromTheEnvironment() {
    Run sync = meshctl(Map.of("MESHLOG_GIT_USERNAME", "ci-bot",
        "MESHLOG_GIT_PASSWORD_FILE", dir.resolve("token").toString()),
        "gitops", "sync", "--repo", url, "--path", "mesh");

    assertThat(sync.code()).as(sync.out() + sync.err()).isZero();
    assertThat(sync.out()).contains("1 commit(s) with config changes");
  }

  @Test
  void aWrongTokenIsOneErrorLineNamingTheRepositoryAndNotTheToken() {
    Run sync = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--path", "mesh",
        "--git-username", "ci-bot", "--git-password-file", "wrong-token");

    assertThat(sync.code()).isEqualTo(Meshctl.FAILED);
    assertThat(sync.err()).startsWith("error: cannot read " + url + ": the server refused user ci-bot")
        .doesNotContain("wrong-" + TOKEN).doesNotContain("Exception").hasLineCount(1);
    assertThat(sync.out()).isEmpty();
  }

  @Test
  void noCredentialsSayWhichFlagsToPass() {
    Run sync = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--branch", "main", "--path", "mesh");

    assertThat(sync.code()).isEqualTo(Meshctl.FAILED);
    assertThat(sync.err()).contains("error: cannot fetch main of " + url
        + ": the server asks for credentials (expected: --git-username and --git-password-file");
  }

  @Test
  void credentialsInTheUrlWorkWithAWarningAndAreNeverPrinted() {
    String withToken = url.replace("http://", "http://ci-bot:" + TOKEN + "@");

    Run sync = meshctl(Map.of(), "gitops", "sync", "--repo", withToken, "--path", "mesh");

    assertThat(sync.code()).as(sync.out() + sync.err()).isZero();
    assertThat(sync.err()).startsWith("warning: --repo " + url + " carries credentials in its URL");
    assertThat(sync.out()).contains("synced " + url + " main:mesh");
    assertThat(sync.out() + sync.err()).doesNotContain(TOKEN);

    Run history = meshctl(Map.of(), "history", "vs", "reviews", "-n", ns);
    assertThat(history.out()).contains("git ").contains("mesh/reviews.yaml");
    assertThat(history.out() + history.err()).doesNotContain(TOKEN);
  }

  @Test
  void credentialsInTheUrlAndAPasswordFileAreAUsageError() {
    String withToken = url.replace("http://", "http://ci-bot:" + TOKEN + "@");

    Run sync = meshctl(Map.of(), "gitops", "sync", "--repo", withToken, "--path", "mesh",
        "--git-password-file", "token");

    assertThat(sync.code()).isEqualTo(Meshctl.USAGE);
    assertThat(sync.err()).contains("carries credentials in its URL and --git-password-file gives a"
        + " password too").doesNotContain(TOKEN);
  }

  @Test
  void aPasswordFileThatCannotBeReadIsAUsageErrorNamingIt() {
    Run sync = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--path", "mesh",
        "--git-password-file", "missing");

    assertThat(sync.code()).isEqualTo(Meshctl.USAGE);
    assertThat(sync.err()).contains("--git-password-file " + dir.resolve("missing") + ": cannot be read");
  }
}
