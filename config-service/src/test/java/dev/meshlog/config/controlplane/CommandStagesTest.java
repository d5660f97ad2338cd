package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** {@link CommandStages} on clocks the test moves: each stage is the difference it should be. */
class CommandStagesTest {

  private long nanos = 1_000_000_000L;
  private long wallMicros = 1_700_000_000_000_000L;
  private final List<CommandStages.Timing> timings = new ArrayList<>();
  private final CommandStages stages = new CommandStages(() -> nanos, () -> wallMicros, timings::add);

  private void advanceMicros(long micros) {
    nanos += micros * 1_000;
    wallMicros += micros;
  }

  @Test
  void splitsOneCommandIntoItsStagesOnceItsTransactionCommits() {
    long timestamp = wallMicros / 1_000 - 2; // appended 2 ms before the poll returned
    stages.polled(41);
    advanceMicros(100);
    stages.started("c1", 41, timestamp);
    stages.stageStarted();
    advanceMicros(300);
    stages.checked();
    advanceMicros(50);
    stages.stageStarted();
    advanceMicros(700);
    stages.viewsPublished(2);
    advanceMicros(150);
    stages.processed();
    advanceMicros(200);
    assertThat(timings).as("nothing before the commit").isEmpty();
    stages.flushStarted();
    advanceMicros(1_500);
    stages.flushed();
    advanceMicros(800);
    stages.offsetsSent();
    advanceMicros(400);
    stages.committed();

    assertThat(timings).hasSize(1);
    CommandStages.Timing t = timings.get(0);
    assertThat(t.commandId()).isEqualTo("c1");
    assertThat(t.offset()).isEqualTo(41);
    assertThat(t.queuedMs()).isCloseTo(2.0, within(1e-9));
    assertThat(t.waitMs()).isCloseTo(0.1, within(1e-9));
    assertThat(t.checkMs()).isCloseTo(0.3, within(1e-9));
    assertThat(t.viewsMs()).isCloseTo(0.7, within(1e-9));
    assertThat(t.views()).isEqualTo(2);
    assertThat(t.processMs()).isCloseTo(1.2, within(1e-9));
    assertThat(t.toCommitMs()).isCloseTo(0.2, within(1e-9));
    assertThat(t.flushMs()).isCloseTo(1.5, within(1e-9));
    assertThat(t.offsetsMs()).isCloseTo(0.8, within(1e-9));
    assertThat(t.endTxnMs()).isCloseTo(0.4, within(1e-9));
    assertThat(t.committedAtMicros() - t.polledAtMicros()).isEqualTo(100 + 1_200 + 200 + 2_700);
  }

  @Test
  void aCommitWithNoCommandInItReportsNothing() {
    stages.flushStarted();
    stages.flushed();
    stages.offsetsSent();
    stages.committed();
    assertThat(timings).isEmpty();
  }

  @Test
  void anAbortedTransactionsCommandsAreNotReported() {
    stages.polled(7);
    stages.started("c7", 7, 0);
    stages.processed();
    stages.aborted();
    stages.flushStarted();
    stages.committed();
    assertThat(timings).isEmpty();
  }

  @Test
  void aCommandFromAnEarlierPollHasNoWaitAndAllCommandsOfOneCommitShareItsStages() {
    stages.polled(3);
    stages.started("a", 3, 0);
    stages.processed();
    stages.started("b", 9, 0); // no poll seen up to offset 9
    stages.processed();
    stages.flushStarted();
    advanceMicros(1_000);
    stages.flushed();
    stages.committed();
    assertThat(timings).extracting(CommandStages.Timing::commandId).containsExactly("a", "b");
    assertThat(timings.get(1).waitMs()).isNaN();
    assertThat(timings).allSatisfy(t -> assertThat(t.flushMs()).isCloseTo(1.0, within(1e-9)));
  }

  @Test
  void offWhenNeitherTheLoggerNorAListenerWantsIt() {
    CommandStages.OFF.polled(1);
    CommandStages.OFF.started("x", 1, 0);
    CommandStages.OFF.processed();
    CommandStages.OFF.flushStarted();
    CommandStages.OFF.committed();
    assertThat(CommandStages.OFF.on()).isFalse();
  }

  @Test
  void aLogLineParsesBackToItsTiming() {
    CommandStages.Timing t = new CommandStages.Timing("id-1", 5, 1000, 2_000_000, 2_004_000, 1.0,
        0.1, 0.2, 0.3, 0.9, 0.05, 1.5, 0.7, 0.4, 3);
    assertThat(CommandStages.Timing.parse("12:00:00.000 DEBUG [t] d.m.c.c.CommandStages - " + t.line()))
        .contains(t);
    assertThat(CommandStages.Timing.parse("12:00:00.000 INFO something else")).isEmpty();
    assertThatThrownBy(() -> CommandStages.Timing.parse("stages command=x offset=1"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no timestamp=");
  }

  @Test
  void theLineFormatsEveryDurationAsPercentDotThreeFWould() {
    java.util.Random random = new java.util.Random(42);
    List<Double> values = new ArrayList<>(List.of(0.0, -0.0, 0.0005, 0.5005, 0.0015, 1.0005,
        -0.0004, -0.5115, 2.9995, 999.9995, 123_456.789_5, Double.NaN));
    for (long micros = -2_000; micros <= 3_000; micros++) {
      values.add(micros / 1e3); // every µs, ties at the ns included below
    }
    for (int i = 0; i < 20_000; i++) {
      values.add(random.nextLong(60_000_000_000L) / 1e6); // ns differences, as the stages are
      values.add(random.nextDouble() * 200 - 100);
    }
    for (double v : values) {
      StringBuilder line = new StringBuilder();
      CommandStages.Timing.millis(line, v);
      assertThat(line.toString()).as("%s", v)
          .isEqualTo(String.format(java.util.Locale.ROOT, "%.3f", v));
    }
  }

  @Test
  void theLineIsWhatTheFormatPatternPrinted() {
    CommandStages.Timing t = new CommandStages.Timing("id-1", 5, 1000, 2_000_000, 2_004_000,
        Double.NaN, 0.1, 0.2004, 0.3005, 0.9, -0.05, 1.5, 0.7, 12_345.6789, 3);
    assertThat(t.line()).isEqualTo(String.format(java.util.Locale.ROOT,
        "stages command=%s offset=%d timestamp=%d polledAt=%d committedAt=%d queued=%.3f"
            + " wait=%.3f check=%.3f views=%.3f process=%.3f toCommit=%.3f flush=%.3f"
            + " offsets=%.3f endTxn=%.3f viewCount=%d",
        "id-1", 5L, 1000L, 2_000_000L, 2_004_000L, Double.NaN, 0.1, 0.2004, 0.3005, 0.9, -0.05,
        1.5, 0.7, 12_345.6789, 3));
    assertThat(CommandStages.Timing.parse(t.line()).orElseThrow().checkMs()).isEqualTo(0.2);
  }
}
