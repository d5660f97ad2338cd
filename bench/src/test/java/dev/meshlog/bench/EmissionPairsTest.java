package dev.meshlog.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.List;

import dev.meshlog.bench.EmissionPairs.Pair;
import dev.meshlog.bench.EmissionPairs.Side;
import org.junit.jupiter.api.Test;

class EmissionPairsTest {

  private static final String[] NO_ENV = {"--meshlog-jvm-options", "", "--meshlog-env", ""};

  private static Side side(double rps, double cpuMicros, double c2Ms) {
    return new Side(rps, cpuMicros, 25, c2Ms, 1.5, 0.8, 5,
        new ProxyBench.Switches(c2Ms < 5 ? 1.5 : 2.5, 2, 0.5, c2Ms < 5 ? 0.25 : 1.25));
  }

  private static Pair pair(int n, double offRps, double onRps, double offCpu, double onCpu) {
    return new Pair(n, EmissionPairs.offFirst(n), side(offRps, offCpu, 4), side(onRps, onCpu, 5));
  }

  @Test
  void judgesByTheRatioBalancedOverTheTwoOrdersNotByOnePair() {
    // Whichever side runs second is 4% faster: off-first pairs read 1.00 × 1.04, on-first ones
    // 1.00 / 1.04; the true cost is nil.
    List<Pair> pairs = List.of(pair(1, 25_000, 26_000, 38, 36.54), pair(2, 26_000, 25_000, 37, 38.48),
        pair(3, 24_000, 24_960, 40, 38.46), pair(4, 26_000, 25_000, 37, 38.48));

    assertThat(EmissionPairs.balanced(pairs, Pair::ratio)).isCloseTo(1.0, within(1e-9));
    assertThat(EmissionPairs.verdict(pairs)).startsWith("**met**")
        .contains("1.000 (throughput)").contains("over the 4 of 4 pairs");
  }

  @Test
  void missesWhenOnlyTheOrderThatRanMoreOftenMakesTheMedianMeetTheTarget() {
    // Off-first pairs 0.99, 1.00, 0.96; on-first 0.88, 0.91: the median pair (0.96) meets the
    // target, the order-balanced ratio (√(0.99 × 0.895) ≈ 0.941) does not.
    List<Pair> pairs = List.of(pair(1, 25_000, 24_750, 38, 38.38), pair(2, 25_000, 22_000, 38, 43.18),
        pair(3, 25_000, 25_000, 38, 38), pair(4, 25_000, 22_750, 38, 41.76),
        pair(5, 25_000, 24_000, 38, 39.58));

    assertThat(EmissionPairs.median(pairs, Pair::ratio)).isEqualTo(0.96);
    assertThat(EmissionPairs.balanced(pairs, Pair::ratio)).isCloseTo(0.941, within(0.001));
    assertThat(EmissionPairs.verdict(pairs)).startsWith("**missed**");
  }

  @Test
  void doesNotJudgePairsAllRunInOneOrder() {
    List<Pair> oneOrder = List.of(pair(1, 25_000, 25_000, 38, 38), pair(3, 25_000, 25_000, 38, 38),
        pair(5, 25_000, 25_000, 38, 38));

    assertThat(EmissionPairs.verdict(oneOrder)).startsWith("**not judged**").contains("both orders");
  }

  @Test
  void missesWhenCpuPerRequestGrowsMoreThanFivePercentEvenIfThroughputHolds() {
    List<Pair> pairs = List.of(pair(1, 25_000, 25_000, 38, 42), pair(2, 25_000, 25_000, 38, 42),
        pair(3, 25_000, 25_000, 38, 42));

    assertThat(EmissionPairs.verdict(pairs)).startsWith("**missed**")
        .contains("0.905 (CPU per request)");
  }

  @Test
  void doesNotJudgeFewerThanThreePairs() {
    assertThat(EmissionPairs.verdict(List.of(pair(1, 25_000, 25_000, 38, 38))))
        .startsWith("**not judged**").contains("1 of 1 pair(s)");
  }

  @Test
  void leavesPairsWithACompilingSideOutOfTheVerdict() {
    Pair compiling = new Pair(4, false, side(25_000, 38, 4), side(12_000, 80, 40));
    List<Pair> pairs = List.of(pair(1, 25_000, 24_500, 38, 39), pair(2, 26_000, 25_800, 37, 37.5),
        pair(3, 24_000, 24_300, 40, 39.5), compiling);

    assertThat(EmissionPairs.verdict(pairs)).startsWith("**met**").contains("3 of 4 pairs");
    assertThat(EmissionPairs.verdict(List.of(pair(1, 25_000, 25_000, 38, 38),
        pair(2, 25_000, 25_000, 38, 38), compiling))).startsWith("**not judged**")
        .contains("2 of 3 pair(s)");
  }

  @Test
  void reportsEachPairTheSpreadAndWhichSideWasStillCompiling() {
    Pair compiling = new Pair(2, false, side(25_000, 38, 4), side(19_000, 50, 30));
    String report = EmissionPairs.report("meshlog", "meshlog-telemetry",
        List.of(pair(1, 25_000, 24_000, 38, 39), compiling, pair(3, 24_000, 24_000, 40, 40),
            pair(4, 25_000, 25_500, 38, 38)));

    assertThat(report).contains("| 2 | on, off (5, 5) | 25,000 |").contains("30.0*")
        .contains("median of the per-pair ratios: 0.980 [0.760–1.020], IQR")
        .contains("pairs with neither side compiling (C2 ≤ 10 ms / 1,000 req): 3 of 4")
        .contains("pairs at or above 0.95: 3 of 4")
        .contains("| 0.80 / 0.80 |")
        .contains("the broker's CPU for the events (on − off): 0.000");
  }

  @Test
  void reportsTheContextSwitchesPerThousandRequestsOfTheTelemetryThreadsLoopAndBroker() {
    // side(): the off sides (C2 4) were preempted 1.5 times and the broker woke 0.25 times per
    // 1,000 requests, the on sides (C2 5) 2.5 and 1.25; the telemetry threads woke 2 times.
    String report = EmissionPairs.report("meshlog", "meshlog-telemetry",
        List.of(pair(1, 25_000, 24_000, 38, 39), pair(2, 25_000, 24_000, 38, 39)));

    assertThat(report).contains("- context switches per 1,000 requests: the telemetry threads'"
        + " wake-ups 2.000 [2.000–2.000] and preemptions 0.500 [0.500–0.500]; the event loop"
        + " preempted on / off 2.500 [2.500–2.500] / 1.500 [1.500–1.500]; the broker's wake-ups"
        + " on / off 1.250 [1.250–1.250] / 0.250 [0.250–0.250]");
  }

  @Test
  void alternatesTheOrderFromPairToPair() {
    List<ProxyBench.Target> both = ProxyBench.TARGETS.stream()
        .filter(t -> t.name().equals("meshlog") || t.name().equals("meshlog-telemetry"))
        .toList();

    assertThat(ProxyBench.order(both, 1, true)).extracting(ProxyBench.Target::name)
        .containsExactly("meshlog", "meshlog-telemetry");
    assertThat(ProxyBench.order(both, 2, true)).extracting(ProxyBench.Target::name)
        .containsExactly("meshlog-telemetry", "meshlog");
    assertThat(ProxyBench.order(both, 2, false)).extracting(ProxyBench.Target::name)
        .containsExactly("meshlog", "meshlog-telemetry");
  }

  @Test
  void emissionPairsAreRunsOfTheOneHopPairByDefault() {
    ProxyBench.Settings s = ProxyBench.parse(concat(NO_ENV, "--emission-pairs", "6"));

    assertThat(s.runs()).isEqualTo(6);
    assertThat(s.emissionPairs()).isEqualTo(6);
    assertThat(s.targets()).containsExactly("meshlog", "meshlog-telemetry");
  }

  @Test
  void anAaControlRunsBothSidesWithTheSameTelemetry() {
    assertThat(ProxyBench.parse(concat(NO_ENV, "--emission-pairs", "4")).emissionControl())
        .isEmpty();
    assertThat(ProxyBench.parse(concat(NO_ENV, "--emission-pairs", "4", "--emission-control",
        "off")).emissionControl()).isEqualTo("off");
    assertThat(ProxyBench.parse(concat(NO_ENV, "--emission-pairs", "4", "--emission-control",
        "on")).emissionControl()).isEqualTo("on");
  }

  @Test
  void anAaControlGivesTheFiguresButNoVerdictOnTelemetry() {
    List<Pair> pairs = List.of(pair(1, 25_000, 26_000, 38, 36.54), pair(2, 26_000, 25_000, 37,
        38.48), pair(3, 24_000, 24_960, 40, 38.46), pair(4, 26_000, 25_000, 37, 38.48));

    String control = EmissionPairs.report("meshlog", "meshlog-telemetry", pairs, true);

    assertThat(control).contains("order-balanced").contains("no verdict: an A/A control")
        .doesNotContain("**met**").doesNotContain("**missed**");
    assertThat(EmissionPairs.report("meshlog", "meshlog-telemetry", pairs))
        .contains("**met**").doesNotContain("A/A");
  }

  @Test
  void countsTheBrokersThreadsButNotAClientsSender() {
    assertThat(ProxyBench.ThreadCpu.brokerThread("data-plane-kaf")).isTrue();
    assertThat(ProxyBench.ThreadCpu.brokerThread("kafka-1-raft-io")).isTrue();
    assertThat(ProxyBench.ThreadCpu.brokerThread("quorum-control")).isTrue();
    assertThat(ProxyBench.ThreadCpu.brokerThread("kafka-producer-")).isFalse();
    assertThat(ProxyBench.ThreadCpu.brokerThread("C2 CompilerThre")).isFalse();
  }

  @Test
  void refusesAnAaControlWithoutPairsOrWithAnUnknownSide() {
    assertThatThrownBy(() -> ProxyBench.parse(concat(NO_ENV, "--emission-control", "off")))
        .hasMessageContaining("without --emission-pairs");
    assertThatThrownBy(() -> ProxyBench.parse(concat(NO_ENV, "--emission-pairs", "4",
        "--emission-control", "both"))).hasMessageContaining("expected: off or on");
  }

  @Test
  void refusesEmissionPairsWithRunsOrWithoutAPair() {
    assertThatThrownBy(() -> ProxyBench.parse(concat(NO_ENV, "--emission-pairs", "4",
        "--runs", "3"))).hasMessageContaining("--emission-pairs 4 with --runs");
    assertThatThrownBy(() -> ProxyBench.parse(concat(NO_ENV, "--emission-pairs", "4",
        "--targets", "meshlog,nginx"))).hasMessageContaining("expected: meshlog and");
  }

  @Test
  void splitsTheWarmUpIntoRounds() {
    ProxyBench.Settings s = ProxyBench.parse(concat(NO_ENV, "--warmup", "20s",
        "--warmup-rounds", "4"));

    assertThat(s.warmupRounds()).isEqualTo(4);
    assertThat(s.warmup()).isEqualTo(Duration.ofSeconds(20));
    assertThatThrownBy(() -> ProxyBench.parse(concat(NO_ENV, "--warmup", "2s",
        "--warmup-rounds", "3"))).hasMessageContaining("--warmup-rounds 3");
    assertThat(ProxyBench.parse(NO_ENV).warmupRounds()).isEqualTo(5);
    assertThat(ProxyBench.parse(concat(NO_ENV, "--warmup", "2s")).warmupRounds()).isEqualTo(2);
  }

  @Test
  void sumsTheProxiesEventLoopCompilerAndTelemetryThreadsAndTheHarnesssBroker() {
    ProxyBench.ThreadCpu cpu = ProxyBench.ThreadCpu.of(List.of(
        new ProxyBench.ThreadRow("meshlog-telemetry", "vert.x-eventloo", 24, 1, 3, 1),
        new ProxyBench.ThreadRow("meshlog-telemetry", "C2 CompilerThre", 6, 1, 1, 1),
        new ProxyBench.ThreadRow("meshlog-telemetry", "meshlog-telemet", 0.5, 0.5, 0.25, 1),
        new ProxyBench.ThreadRow("meshlog-telemetry", "kafka-producer-", 0.75, 1.5, 0.5, 1),
        new ProxyBench.ThreadRow("meshlog-telemetry", "meshlog-access-", 1, 1, 1, 1),
        new ProxyBench.ThreadRow("harness", "C2 CompilerThre", 9, 1, 1, 1),
        new ProxyBench.ThreadRow("harness", "data-plane-kafk", 0.5, 2, 1, 1),
        new ProxyBench.ThreadRow("harness", "data-plane-kafk", 0.25, 0.5, 1, 1),
        new ProxyBench.ThreadRow("harness", "kafka-1-raft-io", 0.125, 0.25, 1, 1),
        new ProxyBench.ThreadRow("harness", "quorum-controll", 0.0625, 0.125, 1, 1),
        new ProxyBench.ThreadRow("harness", "rss-sampler", 3, 1, 1, 1)));

    // the broker: the harness's Kafka threads, not its compiler, sampler or driver; the
    // switches: the event loop's preemptions, the telemetry threads' and the broker's wake-ups
    assertThat(cpu).isEqualTo(new ProxyBench.ThreadCpu(24, 6, 1.25, 0.9375,
        new ProxyBench.Switches(3, 2, 0.75, 2.875)));
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
