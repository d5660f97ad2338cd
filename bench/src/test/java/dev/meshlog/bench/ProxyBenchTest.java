package dev.meshlog.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProxyBenchTest {

  @Test
  void readsTheSidecarsProductionJvmOptionsFromTheProxysImageSettings() {
    List<String> options = ProxyBench.sidecarJvmOptions(
        Path.of("..").resolve(ProxyBench.SIDECAR_IMAGE_SETTINGS));

    assertThat(options).contains("-Xmx64m", "-XX:+UseSerialGC")
        .allSatisfy(o -> assertThat(o).startsWith("-").doesNotContain(",").doesNotContain(" "));
  }

  @Test
  void splitsCommaSeparatedFlags(@TempDir Path dir) throws IOException {
    Path settings = Files.writeString(dir.resolve("p.properties"),
        "image.name=x\njib.container.jvmFlags=-Xmx8m, -Xss256k,,-Dk=v\n");

    assertThat(ProxyBench.sidecarJvmOptions(settings))
        .containsExactly("-Xmx8m", "-Xss256k", "-Dk=v");
  }

  @Test
  void refusesSettingsWithoutJvmFlags(@TempDir Path dir) throws IOException {
    Path settings = Files.writeString(dir.resolve("p.properties"), "image.name=x\n");

    assertThatThrownBy(() -> ProxyBench.sidecarJvmOptions(settings))
        .hasMessageContaining("has no jib.container.jvmFlags");
  }

  @Test
  void namesTheFileItCannotRead(@TempDir Path dir) {
    assertThatThrownBy(() -> ProxyBench.sidecarJvmOptions(dir.resolve("missing.properties")))
        .hasMessageContaining("missing.properties").hasMessageContaining("repository root");
  }

  @Test
  void readsTheSidecarsEnvironmentFromTheProxysImageSettings() {
    Map<String, String> env = ProxyBench.sidecarEnvironment(
        Path.of("..").resolve(ProxyBench.SIDECAR_IMAGE_SETTINGS));

    assertThat(env).containsEntry("MALLOC_ARENA_MAX", "2");
  }

  @Test
  void splitsCommaSeparatedVariablesAndAllowsNone(@TempDir Path dir) throws IOException {
    Path settings = Files.writeString(dir.resolve("p.properties"),
        "jib.container.environment=A=1, B=x=y,,\n");
    Path none = Files.writeString(dir.resolve("none.properties"), "image.name=x\n");

    assertThat(ProxyBench.sidecarEnvironment(settings)).containsExactly(
        Map.entry("A", "1"), Map.entry("B", "x=y"));
    assertThat(ProxyBench.sidecarEnvironment(none)).isEmpty();
  }

  @Test
  void refusesAVariableWithoutAName() {
    assertThatThrownBy(() -> ProxyBench.environmentList("=2", "--meshlog-env"))
        .hasMessageContaining("--meshlog-env: =2").hasMessageContaining("NAME=value");
  }

  @Test
  void spreadsTheFixedRatesConnectionsOneRequestIntervalApart() {
    List<String> cmd = LoadGen.fixedRateCommand(8080, 1000, 10, java.time.Duration.ofSeconds(30),
        LoadGen.Shape.SPREAD, Path.of("body"), Path.of("log"));

    assertThat(cmd).containsSequence("-c10", "--rps=100", "-r", "1", "--rate-period=1ms",
        "-n", "30000").doesNotContain("-D");
  }

  @Test
  void opensSeveralConnectionsPerMillisecondAboveOneThousandRequestsPerSecond() {
    List<String> cmd = LoadGen.fixedRateCommand(8080, 4000, 40, java.time.Duration.ofSeconds(2),
        LoadGen.Shape.SPREAD, Path.of("body"), Path.of("log"));

    assertThat(cmd).containsSequence("-r", "4", "--rate-period=1ms", "-n", "8000");
  }

  @Test
  void burstIsH2loadsDefaultForADuration() {
    List<String> cmd = LoadGen.fixedRateCommand(8080, 1000, 10, java.time.Duration.ofSeconds(30),
        LoadGen.Shape.BURST, Path.of("body"), Path.of("log"));

    assertThat(cmd).containsSequence("--rps=100", "-D", "30").doesNotContain("-r");
  }

  @Test
  void refusesARateThatTheConnectionsCannotShare() {
    assertThatThrownBy(() -> LoadGen.fixedRateCommand(8080, 1005, 10,
        java.time.Duration.ofSeconds(1), LoadGen.Shape.SPREAD, Path.of("b"), Path.of("l")))
        .hasMessageContaining("rate 1005").hasMessageContaining("multiple of the 10");
  }

  @Test
  void countsBunchedArrivals() {
    // Two bursts of three 10 µs apart, 10 ms apart: 4 of 5 gaps are under 100 µs.
    assertThat(LoadGen.bunched(new long[] {10_020, 10_000, 10_010, 0, 10, 20}))
        .isEqualTo(0.8);
    assertThat(LoadGen.bunched(new long[] {0, 1_000, 2_000, 3_000})).isZero();
    assertThat(LoadGen.bunched(new long[] {5})).isZero();
  }

  @Test
  void burstsByDefaultAndSpreadsWhenAsked() {
    // No JVM options or environment: parse would read them from the repository root.
    String[] none = {"--meshlog-jvm-options", "", "--meshlog-env", ""};
    assertThat(ProxyBench.parse(none).rateShape()).isEqualTo(LoadGen.Shape.BURST);
    String[] spread = {"--meshlog-jvm-options", "", "--meshlog-env", "", "--rate-shape", "spread"};
    assertThat(ProxyBench.parse(spread).rateShape()).isEqualTo(LoadGen.Shape.SPREAD);
  }

  @Test
  void refusesAnUnknownRateShape() {
    assertThatThrownBy(() -> ProxyBench.parse(new String[] {"--rate-shape", "poisson"}))
        .hasMessageContaining("--rate-shape poisson").hasMessageContaining("spread or burst");
  }
}
