package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;

import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyDescription;
import org.junit.jupiter.api.Test;

class TelemetryAppTest {

  @Test
  void runsExactlyOnceWithExplicitNamesAndItsHttpAddress() {
    Properties props = TelemetryApp.streamsConfig(new TelemetryApp.Settings("127.0.0.1:9092",
        Path.of("state"), "10.0.0.7:8486", Duration.ofSeconds(1),
        TelemetryTopology.Settings.defaults("meshlog-telemetry")));
    assertThat(props.getProperty(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)).isEqualTo(StreamsConfig.EXACTLY_ONCE_V2);
    assertThat(props.getProperty(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG)).isEqualTo("true");
    assertThat(props.getProperty(StreamsConfig.APPLICATION_SERVER_CONFIG)).isEqualTo("10.0.0.7:8486");
    assertThat(props.getProperty(StreamsConfig.APPLICATION_ID_CONFIG)).isEqualTo("meshlog-telemetry");
  }

  @Test
  void runsTwoStreamThreadsWithoutARecordCacheOrIdling() {
    Properties props = TelemetryApp.streamsConfig(new TelemetryApp.Settings("127.0.0.1:9092",
        Path.of("state"), "10.0.0.7:8486", Duration.ofSeconds(1),
        TelemetryTopology.Settings.defaults("meshlog-telemetry")));
    assertThat(props.getProperty(StreamsConfig.NUM_STREAM_THREADS_CONFIG)).isEqualTo("2");
    // the aggregator is the cache; the rerouting partition is mostly empty
    assertThat(props.getProperty(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG)).isEqualTo("0");
    assertThat(props.getProperty(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG)).isEqualTo("-1");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new TelemetryApp.Settings("k", Path.of("s"),
            "h:1", Duration.ofSeconds(1), TelemetryTopology.Settings.defaults("t"), 0))
        .hasMessage("streamThreads: 0 (expected: at least 1)");
  }

  @Test
  void everyStoreAndInternalTopicHasAStableName() {
    TopologyDescription description = TelemetryTopology.build(
        TelemetryTopology.Settings.defaults("meshlog-telemetry")).describe();
    String text = description.toString();
    assertThat(text).contains("edges-10s", "edges-1m",
        "edges-total", "requests-by-edge-key-repartition");
    assertThat(text).doesNotContain("KSTREAM-AGGREGATE-STATE-STORE", "KSTREAM-REPARTITION");
  }

  @Test
  void refusesARetentionShorterThanWindowAndGrace() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new TelemetryTopology.Settings("t",
            Duration.ofSeconds(30), Duration.ofSeconds(20), Duration.ofHours(1), 0.01))
        .hasMessageStartingWith("retention: PT20S/PT1H (expected: at least window size + grace PT30S)");
  }

  @Test
  void commitsEveryFiveSecondsWhileCatchingUpAndEveryCommitIntervalWhenCaughtUp() {
    TelemetryApp.Settings settings = new TelemetryApp.Settings("127.0.0.1:9092", Path.of("state"),
        "10.0.0.7:8486", Duration.ofSeconds(1), TelemetryTopology.Settings.defaults("meshlog-telemetry"));
    Properties props = TelemetryApp.streamsConfig(settings);
    assertThat(props.getProperty(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)).isEqualTo("5000");
    assertThat(Long.parseLong(props.getProperty(StreamsConfig.producerPrefix("transaction.timeout.ms"))))
        .isGreaterThanOrEqualTo(15_000);
    assertThat(TelemetryApp.topology(settings).caughtUpCommitInterval()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void aCommitIntervalLongerThanTheCatchUpOneIsUsedForBoth() {
    TelemetryApp.Settings settings = new TelemetryApp.Settings("127.0.0.1:9092", Path.of("state"),
        "10.0.0.7:8486", Duration.ofSeconds(10), TelemetryTopology.Settings.defaults("meshlog-telemetry"));
    assertThat(TelemetryApp.streamsConfig(settings).getProperty(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG))
        .isEqualTo("10000");
    assertThat(TelemetryApp.topology(settings).caughtUpCommitInterval()).isZero();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new TelemetryApp.Settings("k", Path.of("s"),
            "h:1", Duration.ofSeconds(2), TelemetryTopology.Settings.defaults("t"), 2, Duration.ofSeconds(1)))
        .hasMessage("catchUpCommitInterval: PT1S (expected: from the commit interval PT2S to 30s)");
  }

  @Test
  void aWellKeyedEventGoesFromItsSourceStraightIntoTheAggregator() {
    TopologyDescription description = TelemetryTopology.build(
        TelemetryTopology.Settings.defaults("meshlog-telemetry")).describe();
    TopologyDescription.Node source = description.subtopologies().stream()
        .flatMap(s -> s.nodes().stream())
        .filter(n -> n.name().equals("telemetry-requests-source"))
        .findFirst().orElseThrow();
    assertThat(source.successors()).extracting(TopologyDescription.Node::name)
        .containsExactly("aggregate-edges");
  }
}
