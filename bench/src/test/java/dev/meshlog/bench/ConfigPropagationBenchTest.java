package dev.meshlog.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import dev.meshlog.bench.ConfigPropagationBench.ChildJvm.Pause;
import org.junit.jupiter.api.Test;

class ConfigPropagationBenchTest {

  @Test
  void readsTheBrokersJvmOptionsFromTestkitsSettings() {
    List<String> options = ImageSettings.jvmOptions(
        Path.of("..").resolve(ConfigPropagationBench.BROKER_SETTINGS), "broker JVM options",
        "--broker-jvm-options");

    assertThat(options).contains("-XX:+UseG1GC")
        .anySatisfy(o -> assertThat(o).startsWith("-Xms"))
        .anySatisfy(o -> assertThat(o).startsWith("-Xmx"))
        .allSatisfy(o -> assertThat(o).startsWith("-").doesNotContain(",").doesNotContain(" "));
  }

  @Test
  void readsPausesWithTheirWallClockEndFromG1AndZgcLogLines() {
    List<Pause> pauses = ConfigPropagationBench.ChildJvm.pauses(List.of(
        "[2026-11-25T09:41:24.148+0000][17.513s] GC(18) Pause Young (Normal) (G1 Evacuation Pause)"
            + " 94M->53M(512M) 8.322ms",
        "[2026-11-25T09:41:24.148+0000][17.513s] GC(18) User=0.00s Sys=0.01s Real=0.01s",
        "[2026-11-25T09:41:24.148+0000][17.513s] GC(18)   Evacuate Collection Set: 7.6ms",
        "[2026-11-25T10:00:00.500+0100][3.000s] GC(2) Pause Mark Start 0.011ms"));

    assertThat(pauses).containsExactly(
        new Pause(Instant.parse("2026-11-25T09:41:24.148Z").toEpochMilli(), 17.513, 8.322),
        new Pause(Instant.parse("2026-11-25T09:00:00.500Z").toEpochMilli(), 3.0, 0.011));
  }

  @Test
  void aPauseOverlapsAnApplyWhenItEndsInItOrStartedBeforeItsEnd() {
    Pause pause = new Pause(1_000, 1.0, 20.0); // from 980 to 1,000 ms

    assertThat(pause.overlaps(990, 1_010)).isTrue();
    assertThat(pause.overlaps(900, 985)).isTrue();
    assertThat(pause.overlaps(1_001, 1_050)).isFalse();
    assertThat(pause.overlaps(900, 979)).isFalse();
  }

  @Test
  void readsSafepointsWithTheirOperationAndTotalTime() {
    List<ConfigPropagationBench.ChildJvm.Safepoint> stops =
        ConfigPropagationBench.ChildJvm.safepoints(List.of(
            "[2026-11-25T09:41:24.148+0000][17.513s] Safepoint \"G1CollectForAllocation\", Time since"
                + " last: 1000463207 ns, Reaching safepoint: 172402 ns, Cleanup: 0 ns, At safepoint:"
                + " 8120000 ns, Total: 8292402 ns",
            "[2026-11-25T09:41:24.148+0000][17.513s] GC(18) Pause Young (Normal) 94M->53M(512M) 8.322ms"));

    assertThat(stops).containsExactly(new ConfigPropagationBench.ChildJvm.Safepoint(
        17.513, "G1CollectForAllocation", 8.292402));
  }
}
