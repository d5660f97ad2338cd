package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootstrapTest {

  @TempDir
  Path cwd;

  @TempDir
  Path home;

  private static void write(Path dir, String servers) throws IOException {
    Files.createDirectories(dir.resolve(".meshlog-data"));
    Files.writeString(dir.resolve(Bootstrap.FILE), servers + "\n");
  }

  @Test
  void theOptionWinsOverEverything() throws IOException {
    write(cwd, "file:1");
    Environment env = Run.environment(cwd, Map.of("MESHLOG_BOOTSTRAP", "env:1"));
    assertThat(Bootstrap.resolve("option:1", env)).contains("option:1");
  }

  @Test
  void theEnvironmentVariableWinsOverTheFile() throws IOException {
    write(cwd, "file:1");
    Environment env = Run.environment(cwd, Map.of("MESHLOG_BOOTSTRAP", "env:1"));
    assertThat(Bootstrap.resolve(null, env)).contains("env:1");
  }

  @Test
  void theLocalRunsFileInTheWorkingDirectoryComesBeforeMeshlogHome() throws IOException {
    write(cwd, "cwd:1");
    write(home, "home:1");
    Environment env = Run.environment(cwd, Map.of("MESHLOG_HOME", home.toString()));
    assertThat(Bootstrap.resolve(null, env)).contains("cwd:1");
  }

  @Test
  void meshlogHomeIsTheLastPlaceLookedIn() throws IOException {
    write(home, "home:1");
    Environment env = Run.environment(cwd, Map.of("MESHLOG_HOME", home.toString()));
    assertThat(Bootstrap.resolve(null, env)).contains("home:1");
  }

  @Test
  void nothingConfiguredIsEmpty() {
    assertThat(Bootstrap.resolve(" ", Run.environment(cwd, Map.of("MESHLOG_BOOTSTRAP", ""))))
        .isEmpty();
  }

  @Test
  void aBootstrapServerWhoseHostDoesNotResolveIsUnreachableNamingIt() {
    // Was "error: Kafka client settings: No resolvable bootstrap urls ...", exit 2: as if
    // --kafka-config were wrong, for a typo in the host name or a DNS outage.
    Run run = Run.meshctl(Run.environment(cwd, Map.of()), "get", "vs",
        "--bootstrap-server", "kafka.no-such-host.invalid:9092", "--timeout", "5s");
    assertThat(run.code()).as(run.err()).isEqualTo(Meshctl.UNREACHABLE);
    assertThat(run.err()).isEqualTo("error: cannot resolve the host of --bootstrap-server "
        + "kafka.no-such-host.invalid:9092 (check the name and DNS)\n");
  }

  @Test
  void aBootstrapServerThatIsNotHostAndPortIsAUsageErrorNamingTheOption() {
    Run run = Run.meshctl(Run.environment(cwd, Map.of()), "get", "vs",
        "--bootstrap-server", "no port here", "--timeout", "5s");
    assertThat(run.code()).as(run.err()).isEqualTo(Meshctl.USAGE);
    assertThat(run.err()).isEqualTo("error: --bootstrap-server no port here (expected: "
        + "HOST:PORT, several separated by commas)\n");
  }
}
