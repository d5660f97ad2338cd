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
}
