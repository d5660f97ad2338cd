package dev.meshlog.config.gitops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import dev.meshlog.config.client.LogReader;
import dev.meshlog.config.testing.GitSshServer;
import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GitOps bridge on a repository over SSH with a deploy key and strict known_hosts checking
 * (a real SSH git server on loopback: {@link GitSshServer}), against the real broker and control
 * plane.
 */
@WithControlPlane
class GitOpsSshIT {

  private static final String USER = "git";

  @TempDir
  Path root;

  @TempDir
  Path cacheDir;

  @TempDir
  Path secrets;

  private KafkaCluster kafka;
  private Git git;
  private GitSshServer server;
  private KeyPair deployKey;
  private Path keyFile;
  private Path knownHosts;
  private String url;
  private String namespace;
  private final List<GitOpsBridge> bridges = new ArrayList<>();
  private final LogCapture logs = new LogCapture();

  @BeforeEach
  void setUp(KafkaCluster kafka) throws Exception {
    logs.start("dev.meshlog.config", "org.eclipse.jgit", "org.apache.sshd");
    this.kafka = kafka;
    git = Git.init().setDirectory(root.resolve("mesh-config").toFile()).setInitialBranch("main").call();
    deployKey = GitSshServer.newKeyPair();
    keyFile = GitSshServer.writePrivateKey(deployKey, secrets.resolve("id_deploy"), null);
    server = GitSshServer.start(root, deployKey.getPublic());
    knownHosts = secrets.resolve("known_hosts");
    Files.writeString(knownHosts, server.knownHostsLine() + "\n");
    url = server.url(USER, "mesh-config");
    namespace = KafkaCluster.uniqueName("ns");
  }

  @AfterEach
  void tearDown() throws Exception {
    logs.stop();
    bridges.forEach(GitOpsBridge::close);
    if (server != null) {
      server.close();
    }
    if (git != null) {
      git.close();
    }
  }

  private GitCredentials credentials(Path key) {
    return GitCredentials.ssh(key == null ? null : GitSshKey.fromFile(key, "key", null, null),
        List.of(knownHosts));
  }

  private GitOpsBridge bridge(Supplier<GitCredentials> credentials) {
    GitOpsBridge bridge = new GitOpsBridge(new GitSource(url, "main", "mesh"), credentials,
        kafka.clientConfig(), cacheDir, "default", Duration.ofSeconds(30), Clock.systemUTC());
    bridges.add(bridge);
    return bridge;
  }

  private RevCommit commitVirtualService(String name, int v1Weight) throws Exception {
    return GitCommits.virtualService(git, namespace, name, v1Weight);
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

  private List<String> stateRecords() {
    List<String> records = new ArrayList<>();
    try (LogReader reader = new LogReader(kafka.clientConfig(), Duration.ofSeconds(30))) {
      reader.readToEnd(Topics.GITOPS_STATE, (key, state) -> records.add(key + " = " + state));
    }
    return records;
  }

  /** The base64 body of the private key file: what must appear nowhere. */
  private String privateKeyText() throws Exception {
    return Files.readAllLines(keyFile).get(1);
  }

  @Test
  void theDeployKeySyncsAndASecondSyncIsANoOp() throws Exception {
    RevCommit commit = commitVirtualService("reviews", 90);
    GitOpsBridge bridge = bridge(() -> credentials(keyFile));

    SyncReport first = bridge.sync();
    SyncReport second = bridge.sync();

    assertThat(first.clean()).as("%s", first).isTrue();
    assertThat(first.commits()).extracting(CommitReport::commitId).containsExactly(commit.name());
    assertThat(second.commits()).isEmpty();
    assertThat(second.toCommit()).isEqualTo(commit.name());
    assertThat(events()).singleElement().satisfies(event ->
        assertThat(event.getSource().getRepository()).isEqualTo(url));
    assertThat(stateRecords()).anyMatch(r -> r.startsWith(url + "#main#mesh = "));
    assertThat(server.logins()).allMatch(login -> login.startsWith(USER + " "));
    String secret = privateKeyText();
    assertThat(stateRecords()).noneMatch(r -> r.contains(secret));
    assertThat(logs.lines()).isNotEmpty().noneMatch(line -> line.contains(secret));
    assertThat(Files.readString(knownHosts)).isEqualTo(server.knownHostsLine() + "\n");
    assertThat(GitOpsBridge.defaultBranch(url, credentials(keyFile))).isEqualTo("main");
  }

  @Test
  void aWrongKeyIsAClearErrorNamingTheRepositoryTheUserAndTheKey() throws Exception {
    commitVirtualService("reviews", 90);
    Path wrong = GitSshServer.writePrivateKey(GitSshServer.newKeyPair(), secrets.resolve("id_other"),
        null);
    GitCredentials credentials = credentials(wrong);

    assertThatThrownBy(() -> bridge(() -> credentials).sync())
        .isInstanceOf(GitAuthenticationException.class)
        .hasMessageContaining("cannot fetch main of " + url)
        .hasMessageContaining("the server refused user " + USER + " with key " + wrong)
        .hasMessageContaining(credentials.sshKey().fingerprint());
    assertThat(events()).isEmpty();
  }

  @Test
  void noKeySaysWhatToPass() throws Exception {
    commitVirtualService("reviews", 90);

    assertThatThrownBy(() -> bridge(() -> credentials(null)).sync())
        .isInstanceOf(GitAuthenticationException.class)
        .hasMessageContaining("cannot fetch main of " + url)
        .hasMessageContaining("the server asks user " + USER + " for a key")
        .hasMessageContaining("--git-ssh-key");
  }

  @Test
  void anUnknownHostKeyFailsNamingTheHostAndItsFingerprintAndIsNotTrusted() throws Exception {
    commitVirtualService("reviews", 90);
    Files.writeString(knownHosts, "[127.0.0.1]:1 " + org.apache.sshd.common.config.keys.PublicKeyEntry
        .toString(GitSshServer.newKeyPair().getPublic()) + "\n");
    String before = Files.readString(knownHosts);

    assertThatThrownBy(() -> bridge(() -> credentials(keyFile)).sync())
        .isInstanceOf(GitAuthenticationException.class)
        .hasMessageContaining("cannot fetch main of " + url)
        .hasMessageContaining("the host key of [127.0.0.1]:" + server.port())
        .hasMessageContaining(server.hostKeyFingerprint())
        .hasMessageContaining("is not in " + knownHosts)
        .hasMessageContaining("ssh-keyscan -p " + server.port() + " 127.0.0.1");
    assertThat(Files.readString(knownHosts)).isEqualTo(before);
    assertThat(server.logins()).as("no key offered to an unverified host").isEmpty();
    assertThat(events()).isEmpty();
  }

  @Test
  void aChangedHostKeyFailsNamingBothKeys() throws Exception {
    commitVirtualService("reviews", 90);
    String known = server.hostKeyFingerprint();
    server.changeHostKey();

    assertThatThrownBy(() -> bridge(() -> credentials(keyFile)).sync())
        .isInstanceOf(GitAuthenticationException.class)
        .hasMessageContaining("cannot fetch main of " + url)
        .hasMessageContaining("the host key of [127.0.0.1]:" + server.port() + " CHANGED")
        .hasMessageContaining("offered ecdsa-sha2-nistp256 " + server.hostKeyFingerprint())
        .hasMessageContaining(known);
    assertThat(server.logins()).isEmpty();
  }

  @Test
  void aKeyRotatedInItsFileIsUsedFromTheNextSyncWithoutANewBridge() throws Exception {
    RevCommit commit = commitVirtualService("reviews", 90);
    KeyPair next = GitSshServer.newKeyPair();
    GitSshServer.writePrivateKey(GitSshServer.newKeyPair(), keyFile, null); // an old, revoked key
    GitOpsBridge bridge = bridge(() -> credentials(keyFile));

    assertThatThrownBy(bridge::sync).isInstanceOf(GitAuthenticationException.class);
    server.authorize(next.getPublic());
    GitSshServer.writePrivateKey(next, keyFile, null);
    SyncReport report = bridge.sync();

    assertThat(report.commits()).extracting(CommitReport::commitId).containsExactly(commit.name());
    assertThat(server.logins()).last().isEqualTo(USER + " " + KeyUtils.getFingerPrint(next.getPublic()));
  }

  @Test
  void anEncryptedKeyIsReadWithItsPassphraseFile() throws Exception {
    RevCommit commit = commitVirtualService("reviews", 90);
    Path encrypted = GitSshServer.writePrivateKey(deployKey, secrets.resolve("id_encrypted"),
        "correct horse");
    Path passphrase = secrets.resolve("passphrase");
    Files.writeString(passphrase, "correct horse\n");

    SyncReport report = bridge(() -> GitCredentials.ssh(
        GitSshKey.fromFile(encrypted, "key", passphrase, "passphrase file"), List.of(knownHosts)))
        .sync();

    assertThat(report.commits()).extracting(CommitReport::commitId).containsExactly(commit.name());
  }

  @Test
  void aServerThatIsNotThereIsConnectionRefused() throws Exception {
    commitVirtualService("reviews", 90);
    server.close();

    assertThatThrownBy(() -> bridge(() -> credentials(keyFile)).sync())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot fetch main of " + url)
        .hasMessageContaining("connection refused");
  }

  @Test
  void anEd25519KeyFromSshKeygenSyncs() throws Exception {
    Path keygen = Path.of("/usr/bin/ssh-keygen");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(keygen), "no ssh-keygen");
    RevCommit commit = commitVirtualService("reviews", 90);
    Path ed25519 = secrets.resolve("id_ed25519");
    Process process = new ProcessBuilder(keygen.toString(), "-q", "-t", "ed25519", "-N", "", "-f",
        ed25519.toString()).redirectErrorStream(true).start();
    assertThat(process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    server.authorize(GitSshKey.fromFile(ed25519, "key", null, null).keyPair().getPublic());

    SyncReport report = bridge(() -> credentials(ed25519)).sync();

    assertThat(report.commits()).extracting(CommitReport::commitId).containsExactly(commit.name());
  }
}
