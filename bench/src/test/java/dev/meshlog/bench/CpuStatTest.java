package dev.meshlog.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpuStatTest {

  private static final List<String> STAT_BEFORE = List.of(
      "cpu  300 0 100 1000 0 0 0 0 0 0",
      "cpu0 100 0 50 800 0 0 0 0 0 0",
      "cpu1 200 0 50 200 0 0 0 0 0 0",
      "intr 12345");
  private static final List<String> STAT_AFTER = List.of(
      "cpu  500 0 200 1100 0 0 20 10 0 0",
      "cpu0 180 0 100 810 0 0 0 10 0 0",
      "cpu1 220 0 50 280 0 0 20 0 0 0");
  private static final List<String> INTERRUPTS_BEFORE = List.of(
      "            CPU0       CPU1",
      " LOC:       1000       2000   Local timer interrupts",
      " RES:        100        500   Rescheduling interrupts",
      " CAL:         10         50   Function call interrupts");
  private static final List<String> INTERRUPTS_AFTER = List.of(
      "            CPU0       CPU1",
      " RES:        110       2500   Rescheduling interrupts",
      " CAL:         10        150   Function call interrupts");

  @Test
  void splitsEachCpusTimeIntoBusySoftInterruptsAndStolen() {
    double[][] r = CpuStat.parse(STAT_AFTER, INTERRUPTS_AFTER)
        .since(CpuStat.parse(STAT_BEFORE, INTERRUPTS_BEFORE));

    // cpu0: 80 user + 50 system busy, 10 idle, 10 stolen, of 150 ticks
    assertThat(r[0][0]).isCloseTo(100.0 * 130 / 150, within(1e-9));
    assertThat(r[0][2]).isCloseTo(100.0 * 10 / 150, within(1e-9));
    // cpu1: 20 user + 20 softirq busy, 80 idle, of 120 ticks
    assertThat(r[1][0]).isCloseTo(100.0 * 40 / 120, within(1e-9));
    assertThat(r[1][1]).isCloseTo(100.0 * 20 / 120, within(1e-9));
  }

  @Test
  void countsTheWakeUpInterruptsEachCpuReceivedPerThousandRequests() {
    double[][] w = CpuStat.parse(STAT_AFTER, INTERRUPTS_AFTER)
        .wakeupsSince(CpuStat.parse(STAT_BEFORE, INTERRUPTS_BEFORE), 10_000);

    assertThat(w[0]).containsExactly(1.0, 0.0);
    assertThat(w[1]).containsExactly(200.0, 10.0);
  }

  @Test
  void describesEveryCpuOnOneLine() {
    String line = CpuStat.parse(STAT_AFTER, INTERRUPTS_AFTER)
        .describeSince(CpuStat.parse(STAT_BEFORE, INTERRUPTS_BEFORE), 10_000);

    assertThat(line).startsWith("cpu0 87% busy (softirq 0%, steal 7%; woken 1.0 RES + 0.0 CAL")
        .contains("cpu1 33% busy (softirq 17%, steal 0%; woken 200.0 RES + 10.0 CAL");
  }

  @Test
  void readsThisMachine() {
    CpuStat now = CpuStat.read();

    // the machine's CPUs, not only those this process may run on
    assertThat(now.cpus()).hasSizeGreaterThanOrEqualTo(Runtime.getRuntime()
        .availableProcessors());
    assertThat(now.wakeups()).hasSameSizeAs(now.cpus());
  }
}
