package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.Punctuator;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * When a task asks for a commit: the aggregator's caught-up check, run by hand on a
 * {@link MockProcessorContext} (which records commit requests, unlike TopologyTestDriver, which
 * commits after every record), with the commit itself played as Kafka Streams plays it (the
 * flush-before-commit store's flush).
 */
class CaughtUpCheckTest {

  private static final long T0 = 1_800_000_000_000L;
  /** Two hours before T0: a backlog by event time. */
  private static final Instant OLD = Instant.ofEpochMilli(T0).minus(Duration.ofHours(2));

  private MockProcessorContext<String, Object> context;
  private EdgeAggregator aggregator;
  private FlushBeforeCommit hook;
  private Punctuator check;
  private int calls;

  @BeforeEach
  void setUp() {
    context = new MockProcessorContext<>();
    AvroSerde<EdgeMetrics> metrics = AvroSerde.of(EdgeMetrics.class);
    List<StoreBuilder<?>> stores = List.of(
        Stores.timestampedWindowStoreBuilder(Stores.inMemoryWindowStore(TelemetryTopology.STORE_10S,
            Duration.ofHours(1), Duration.ofSeconds(10), false), Serdes.String(), metrics).withLoggingDisabled(),
        Stores.timestampedWindowStoreBuilder(Stores.inMemoryWindowStore(TelemetryTopology.STORE_1M,
            Duration.ofHours(24), Duration.ofMinutes(1), false), Serdes.String(), metrics).withLoggingDisabled(),
        Stores.timestampedKeyValueStoreBuilder(Stores.inMemoryKeyValueStore(TelemetryTopology.TOTALS_STORE),
            Serdes.String(), metrics).withLoggingDisabled(),
        FlushBeforeCommit.builder(TelemetryTopology.FLUSH_STORE));
    for (StoreBuilder<?> builder : stores) {
      var store = builder.build();
      store.init(context.getStateStoreContext(), store);
      context.addStateStore(store);
    }
    hook = context.getStateStore(TelemetryTopology.FLUSH_STORE);
    aggregator = new EdgeAggregator("app", true, new EdgeAggregator.Settings(List.of(
            new EdgeAggregator.WindowSize(10_000, TelemetryTopology.STORE_10S),
            new EdgeAggregator.WindowSize(60_000, TelemetryTopology.STORE_1M)),
        30_000, 0.01, TelemetryTopology.TOTALS_STORE, TelemetryTopology.FLUSH_STORE,
        Duration.ofSeconds(1), 30_000, 60_000));
    context.setCurrentSystemTimeMs(T0); // read per record: events more than 60 s ahead are dead letters
    aggregator.init(context);
    List<MockProcessorContext.CapturedPunctuator> punctuators = context.scheduledPunctuators();
    assertThat(punctuators).hasSize(1);
    assertThat(punctuators.get(0).getInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(punctuators.get(0).getType()).isEqualTo(PunctuationType.WALL_CLOCK_TIME);
    check = punctuators.get(0).getPunctuator();
  }

  @Test
  void taskAtTheEndOfABacklogAsksForACommitAtTheFirstQuietCheck() {
    oldCall();
    assertThat(checkAt(T0)).as("still reading").isFalse();
    assertThat(checkAt(T0 + 250)).as("nothing read for a check").isTrue();
  }

  @Test
  void quietCommitInTheMiddleOfABacklogDoublesTheQuietTimeTheNextNeeds() {
    oldCall();
    checkAt(T0);
    assertThat(checkAt(T0 + 250)).isTrue();
    commitAt(T0 + 250);
    // The backlog goes on: that commit was one too many.
    oldCall();
    assertThat(checkAt(T0 + 2_000)).isFalse();
    assertThat(checkAt(T0 + 2_250)).as("quiet for 250 ms, 500 ms needed now").isFalse();
    assertThat(checkAt(T0 + 2_500)).as("quiet for 500 ms").isTrue();
    commitAt(T0 + 2_500);
    oldCall();
    assertThat(checkAt(T0 + 4_000)).isFalse();
    assertThat(checkAt(T0 + 4_500)).as("1 s needed now").isFalse();
    assertThat(checkAt(T0 + 5_000)).isTrue();
  }

  @Test
  void caughtUpTaskAsksForACommitOnceACommitIntervalAfterTheLastOne() {
    freshCall(T0);
    assertThat(checkAt(T0)).as("caught up, never committed").isTrue();
    commitAt(T0);
    freshCall(T0 + 100);
    assertThat(checkAt(T0 + 250)).isFalse();
    assertThat(checkAt(T0 + 750)).isFalse();
    assertThat(checkAt(T0 + 1_000)).isTrue();
  }

  /** Runs the check at {@code now}; whether it asked for a commit (then forgotten). */
  private boolean checkAt(long now) {
    check.punctuate(now);
    boolean asked = context.committed();
    context.resetCommit();
    return asked;
  }

  /** A commit at {@code now}, as Kafka Streams runs one: the flush-before-commit store's flush. */
  private void commitAt(long now) {
    context.setCurrentSystemTimeMs(now);
    hook.flushCache();
    context.resetForwards();
  }

  private void oldCall() {
    call(OLD.plusMillis(calls));
  }

  private void freshCall(long at) {
    call(Instant.ofEpochMilli(at));
  }

  private void call(Instant start) {
    calls++;
    RequestEvent e = Requests.request("ns", "frontend", "v1", "backend", "v1", 200, 5, start);
    byte[] value = Requests.batchBytes(java.util.List.of(e));
    aggregator.process(new Record<>(Requests.key(e).getBytes(StandardCharsets.UTF_8), value,
        start.toEpochMilli()));
  }
}
