package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshctlArgumentsTest {

  @TempDir
  Path dir;

  private Run meshctl(String... args) {
    return Run.meshctl(Run.environment(dir, Map.of()), args);
  }

  @Test
  void helpListsEveryCommand() {
    Run run = meshctl("--help");
    assertThat(run.code()).isZero();
    assertThat(run.out()).contains("apply", "delete", "get", "history", "rollback", "analyze",
        "proxy-status", "gitops");
  }

  @Test
  void everySubcommandTakesHelpAndNeedsNothingElseForIt() {
    for (String[] args : new String[][] {{"apply", "--help"}, {"get", "-h"},
        {"gitops", "sync", "--help"}, {"telemetry", "tail", "--help"}, {"proxy-status", "--help"}}) {
      Run run = meshctl(args);
      assertThat(run.code()).as(String.join(" ", args)).isZero();
      assertThat(run.out()).as(String.join(" ", args))
          .contains("Usage: meshctl " + args[0]).contains("--help");
      assertThat(run.err()).as(String.join(" ", args)).isEmpty();
    }
  }

  @Test
  void gitopsGitUsernameWithoutAPasswordIsAUsageError() {
    Run run = Run.meshctl(Run.environment(dir, Map.of("MESHLOG_BOOTSTRAP", "127.0.0.1:1")),
        "gitops", "sync", "--repo", "https://git.example.com/mesh.git", "--branch", "main",
        "--git-username", "ci-bot");
    assertThat(run.code()).isEqualTo(Meshctl.USAGE);
    assertThat(run.err()).contains("--git-username ci-bot without a password (expected: "
        + "--git-password-file FILE or $MESHLOG_GIT_PASSWORD_FILE)");
  }

  @Test
  void gitopsAnEmptyPasswordFileIsAUsageErrorNamingIt() throws Exception {
    java.nio.file.Files.writeString(dir.resolve("token"), "\n");
    Run run = Run.meshctl(Run.environment(dir, Map.of("MESHLOG_BOOTSTRAP", "127.0.0.1:1",
            "MESHLOG_GIT_PASSWORD_FILE", "token")),
        "gitops", "sync", "--repo", "https://git.example.com/mesh.git", "--branch", "main");
    assertThat(run.code()).isEqualTo(Meshctl.USAGE);
    assertThat(run.err()).contains("$MESHLOG_GIT_PASSWORD_FILE " + dir.resolve("token")
        + ": empty (expected: the password or access token, on one line)");
  }

  @Test
  void gitopsCredentialsOverPlainHttpToAnotherHostAreSentInClear() {
    assertThat(GitopsCommand.inClear("http://git.example.com/mesh.git")).isTrue();
    assertThat(GitopsCommand.inClear("HTTP://u:p@git.example.com/mesh.git")).isTrue();
    assertThat(GitopsCommand.inClear("https://git.example.com/mesh.git")).isFalse();
    assertThat(GitopsCommand.inClear("http://127.0.0.1:8080/mesh")).isFalse();
    assertThat(GitopsCommand.inClear("http://localhost/mesh")).isFalse();
    assertThat(GitopsCommand.inClear("http://[::1]:80/mesh")).isFalse();
    assertThat(GitopsCommand.inClear("/srv/git/mesh")).isFalse();
  }

  @Test
  void graphFindsTheLocalRunsPipelineAndSaysInWordsWhyItCannotReachIt() throws Exception {
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    java.nio.file.Files.createDirectories(dir.resolve(".meshlog-data"));
    java.nio.file.Files.writeString(dir.resolve(".meshlog-data/endpoints.json"),
        "{\"kafka\": {\"bootstrapServers\": \"127.0.0.1:1\"},\n"
            + " \"telemetry\": \"http://127.0.0.1:" + closedPort + "/\"}\n");

    Run run = meshctl("graph", "--timeout", "5s");
    assertThat(run.code()).isEqualTo(Meshctl.UNREACHABLE);
    assertThat(run.err()).contains("cannot reach the telemetry pipeline at http://127.0.0.1:"
        + closedPort + "/ (connection refused)");

    Run fromEnv = Run.meshctl(Run.environment(dir,
        Map.of("MESHLOG_TELEMETRY_URL", "http://127.0.0.1:" + closedPort + "/env")), "graph");
    assertThat(fromEnv.err()).contains("at http://127.0.0.1:" + closedPort + "/env (");
  }

  @Test
  void anUnknownKindIsAUsageErrorListingTheKinds() {
    Run run = meshctl("get", "virtualservise", "--bootstrap-server", "127.0.0.1:1");
    assertThat(run.code()).isEqualTo(Meshctl.USAGE);
    assertThat(run.err()).contains("unknown kind virtualservise")
        .contains("VirtualService, DestinationRule");
  }

  @Test
  void anUnknownOutputFormatIsAUsageError() {
    Run run = meshctl("get", "vs", "-o", "xml", "--bootstrap-server", "127.0.0.1:1");
    assertThat(run.code()).isEqualTo(Meshctl.USAGE);
    assertThat(run.err()).contains("xml").contains("table, yaml, json");
  }

  @Test
  void rollbackNeedsARevision() {
    Run run = meshctl("rollback", "vs", "reviews", "--bootstrap-server", "127.0.0.1:1");
    assertThat(run.code()).isEqualTo(Meshctl.USAGE);
    assertThat(run.err()).contains("--to-revision");
  }

  @Test
  void aBadTimeoutIsAUsageErrorSayingWhatIsExpected() {
    Run run = meshctl("get", "vs", "--timeout", "soon");
    assertThat(run.code()).isEqualTo(Meshctl.USAGE);
    assertThat(run.err()).contains("duration: soon (expected e.g. 10s");
  }

  @Test
  void withoutAClusterItSaysWhereItLooked() {
    Run run = meshctl("get", "vs");
    assertThat(run.code()).isEqualTo(Meshctl.USAGE);
    assertThat(run.err()).contains("no Kafka cluster configured").contains("MESHLOG_BOOTSTRAP")
        .contains(dir.resolve(".meshlog-data/bootstrap.servers").toString())
        // nothing on the command line was wrong: no usage after it
        .doesNotContain("Usage:");
  }

  @Test
  void withoutAClusterItNamesEachPlaceItLookedOnce() {
    // ./meshlog runs meshctl in $MESHLOG_HOME: the working directory and the home are one place.
    Run run = Run.meshctl(Run.environment(dir, Map.of("MESHLOG_HOME", dir.toString())),
        "get", "vs");
    assertThat(run.code()).isEqualTo(Meshctl.USAGE);
    String file = dir.resolve(".meshlog-data/bootstrap.servers").toAbsolutePath().normalize()
        .toString();
    assertThat(run.err()).contains("looked in " + file + ")");
  }

  @Test
  void anUnreachableClusterExitsThreeNamingIt() {
    Run run = meshctl("--bootstrap-server", "127.0.0.1:1", "--timeout", "1s", "get", "vs");
    assertThat(run.code()).isEqualTo(Meshctl.UNREACHABLE);
    assertThat(run.err()).contains("cannot reach Kafka at 127.0.0.1:1 within 1s");
  }

  @Test
  void sharedOptionsWorkAfterTheSubcommandToo() {
    Run run = meshctl("get", "vs", "--bootstrap-server", "127.0.0.1:1", "--timeout", "1s");
    assertThat(run.code()).isEqualTo(Meshctl.UNREACHABLE);
    assertThat(run.err()).contains("cannot reach Kafka at 127.0.0.1:1");
  }

  @Test
  void deleteWithoutANameIsAUsageError() {
    Run run = meshctl("delete", "vs", "--bootstrap-server", "127.0.0.1:1");
    assertThat(run.code()).isEqualTo(Meshctl.USAGE);
  }
}
