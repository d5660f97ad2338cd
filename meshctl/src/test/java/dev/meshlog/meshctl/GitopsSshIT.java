package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.HashMap;
import java.util.Map;

import dev.meshlog.config.testing.GitSshServer;
import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.testkit.KafkaCluster;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshctl gitops sync} on a repository over SSH with a deploy key and a known_hosts file
 * (a real SSH git server on loopback), against the real broker and control plane.
 */
@WithControlPlane
class GitopsSshIT {

  @TempDir
  Path dir;

  private KafkaCluster kafka;
  private GitSshServer server;
  private String url;
  private String keyText;

  @BeforeEach
  void setUp(KafkaCluster kafka) throws Exception {
    this.kafka = kafka;
    String ns = KafkaCluster.uniqueName("ns");
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
    KeyPair key = GitSshServer.newKeyPair();
    GitSshServer.writePrivateKey(key, dir.resolve("deploy_key"), null);
    keyText = Files.readAllLines(dir.resolve("deploy_key")).get(1);
    server = GitSshServer.start(dir.resolve("served"), key.getPublic());
    Files.writeString(dir.resolve("known_hosts"), server.knownHostsLine() + "\n");
    Files.createDirectories(dir.resolve("home/.ssh"));
    url = server.url("git", "mesh-config");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private Run meshctl(Map<String, String> extra, String... args) {
    Map<String, String> variables = new HashMap<>(Map.of("MESHLOG_BOOTSTRAP", kafka.bootstrapServers(),
        "XDG_CACHE_HOME", dir.resolve("cache").toString(), "HOME", dir.resolve("home").toString()));
    variables.putAll(extra);
    return Run.meshctl(new Environment(variables, dir, java.time.Clock.systemUTC(), "ana"), args);
  }

  @Test
  void syncsWithTheDeployKeyAndKnownHostsFromFlags() {
    Run sync = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--path", "mesh",
        "--git-ssh-key", "deploy_key", "--git-known-hosts", "known_hosts");

    assertThat(sync.code()).as(sync.out() + sync.err()).isZero();
    assertThat(sync.out()).contains("virtualservice.networking.istio.io/reviews created")
        .contains("synced " + url + " main:mesh");
    assertThat(sync.out() + sync.err()).doesNotContain(keyText);

    Run again = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--path", "mesh",
        "--git-ssh-key", "deploy_key", "--git-known-hosts", "known_hosts");
    assertThat(again.out()).contains(url + " main:mesh is up to date");
  }

  @Test
  void takesTheKeyAndKnownHostsFromTheEnvironment() {
    Run sync = meshctl(Map.of("MESHLOG_GIT_SSH_KEY_FILE", dir.resolve("deploy_key").toString(),
        "MESHLOG_GIT_KNOWN_HOSTS_FILE", dir.resolve("known_hosts").toString()),
        "gitops", "sync", "--repo", url, "--path", "mesh");

    assertThat(sync.code()).as(sync.out() + sync.err()).isZero();
    assertThat(sync.out()).contains("1 commit(s) with config changes");
  }

  @Test
  void withoutKnownHostsFlagsTheUsersKnownHostsAreReadAndNotWritten() throws Exception {
    Path userKnownHosts = dir.resolve("home/.ssh/known_hosts");

    Run unknown = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--path", "mesh",
        "--git-ssh-key", "deploy_key");

    assertThat(unknown.code()).isEqualTo(Meshctl.FAILED);
    assertThat(unknown.err()).startsWith("error: cannot read " + url + ": the host key of [127.0.0.1]:"
        + server.port() + " (ecdsa-sha2-nistp256 " + server.hostKeyFingerprint() + ") is not in")
        .contains("ssh-keyscan -p " + server.port() + " 127.0.0.1 >> " + userKnownHosts)
        .doesNotContain("Exception").hasLineCount(1);
    assertThat(userKnownHosts).doesNotExist();

    Files.writeString(userKnownHosts, server.knownHostsLine() + "\n");
    Run sync = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--path", "mesh",
        "--git-ssh-key", "deploy_key");
    assertThat(sync.code()).as(sync.out() + sync.err()).isZero();
  }

  @Test
  void aChangedHostKeyIsOneErrorLineNamingBothKeys() {
    String known = server.hostKeyFingerprint();
    server.changeHostKey();

    Run sync = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--branch", "main", "--path", "mesh",
        "--git-ssh-key", "deploy_key", "--git-known-hosts", "known_hosts");

    assertThat(sync.code()).isEqualTo(Meshctl.FAILED);
    assertThat(sync.err()).startsWith("error: cannot fetch main of " + url + ": the host key of [127.0.0.1]:"
        + server.port() + " CHANGED").contains(known).contains(server.hostKeyFingerprint())
        .doesNotContain("Exception").hasLineCount(1);
  }

  @Test
  void aWrongKeyAndNoKeyAreOneErrorLineEach() throws Exception {
    GitSshServer.writePrivateKey(GitSshServer.newKeyPair(), dir.resolve("other_key"), null);

    Run wrong = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--branch", "main", "--path", "mesh",
        "--git-ssh-key", "other_key", "--git-known-hosts", "known_hosts");
    Run none = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--branch", "main", "--path", "mesh",
        "--git-known-hosts", "known_hosts");

    assertThat(wrong.code()).isEqualTo(Meshctl.FAILED);
    assertThat(wrong.err()).startsWith("error: cannot fetch main of " + url
        + ": the server refused user git with key " + dir.resolve("other_key"))
        .doesNotContain("Exception").hasLineCount(1);
    assertThat(none.code()).isEqualTo(Meshctl.FAILED);
    assertThat(none.err()).startsWith("error: cannot fetch main of " + url
        + ": the server asks user git for a key (expected: --git-ssh-key FILE").hasLineCount(1);
  }

  @Test
  void badKeyFilesAndMismatchedFlagsAreUsageErrors() throws Exception {
    GitSshServer.writePrivateKey(GitSshServer.newKeyPair(), dir.resolve("encrypted_key"), "pw");

    Run missing = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--git-ssh-key", "missing");
    Run encrypted = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--git-ssh-key", "encrypted_key");
    Run noKnownHosts = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--git-ssh-key",
        "deploy_key", "--git-known-hosts", "nowhere");
    Run password = meshctl(Map.of(), "gitops", "sync", "--repo", url, "--git-password-file", "deploy_key");
    Run sshForHttps = meshctl(Map.of(), "gitops", "sync", "--repo", "https://git.example.com/mesh",
        "--git-ssh-key", "deploy_key");

    assertThat(missing.code()).isEqualTo(Meshctl.USAGE);
    assertThat(missing.err()).contains("--git-ssh-key " + dir.resolve("missing") + ": cannot be read");
    assertThat(encrypted.code()).isEqualTo(Meshctl.USAGE);
    assertThat(encrypted.err()).contains("the key is encrypted with a passphrase")
        .contains("--git-ssh-key-passphrase-file");
    assertThat(noKnownHosts.code()).isEqualTo(Meshctl.USAGE);
    assertThat(noKnownHosts.err()).contains("--git-known-hosts " + dir.resolve("nowhere")
        + ": not a readable file");
    assertThat(password.code()).isEqualTo(Meshctl.USAGE);
    assertThat(password.err()).contains("--git-password-file is for a repository over HTTP(S)")
        .doesNotContain(keyText);
    assertThat(sshForHttps.code()).isEqualTo(Meshctl.USAGE);
    assertThat(sshForHttps.err()).contains("--git-ssh-key is for a repository over SSH");
  }
}
