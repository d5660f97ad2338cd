package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamsOverridesTest {

  @Test
  void acceptsStreamsClientPrefixedAndTopicSettings() {
    Map<String, String> overrides = StreamsOverrides.parse(List.of(
        "group.protocol=streams", "security.protocol = SASL_SSL", "consumer.fetch.max.wait.ms=50",
        "main.consumer.max.poll.records=100", "producer.linger.ms=5", "admin.retries=3",
        "topic.segment.bytes=1048576", "sasl.jaas.config=a=b c=d"));
    assertThat(overrides)
        .containsEntry("group.protocol", "streams")
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("consumer.fetch.max.wait.ms", "50")
        .containsEntry("topic.segment.bytes", "1048576")
        // only the first '=' separates key and value
        .containsEntry("sasl.jaas.config", "a=b c=d");
  }

  @Test
  void refusesMisspelledAndUnknownKeysNamingThem() {
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("group.protocl=streams")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--streams-config group.protocl: not a Kafka Streams or Kafka client setting");
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("consumer.fetch.max.wait=50")))
        .hasMessage("--streams-config consumer.fetch.max.wait: not a setting of Kafka's consumer");
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("producer.fetch.max.wait.ms=50")))
        .hasMessage("--streams-config producer.fetch.max.wait.ms: not a setting of Kafka's producer");
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("topic.linger.ms=5")))
        .hasMessage("--streams-config topic.linger.ms: not a setting of Kafka's topics");
  }

  @Test
  void refusesWhatTheFlagsSetAndTheProcessingGuarantee() {
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("processing.guarantee=at_least_once")))
        .hasMessage("--streams-config processing.guarantee: the pipeline's counts rely on exactly-once v2; it cannot be changed");
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("application.id=x")))
        .hasMessage("--streams-config application.id: use --application-id");
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("consumer.bootstrap.servers=h:1")))
        .hasMessage("--streams-config consumer.bootstrap.servers: use --bootstrap-server");
  }

  @Test
  void refusesMalformedAndRepeatedEntries() {
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("group.protocol")))
        .hasMessage("--streams-config group.protocol: expected KEY=VALUE");
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("=streams")))
        .hasMessage("--streams-config =...: expected KEY=VALUE (the key is empty)");
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("group.protocol=classic", "group.protocol=streams")))
        .hasMessage("--streams-config group.protocol: given twice");
  }

  @Test
  void theAdminClientGetsItsOwnAndTheSharedClientSettings() {
    Map<String, String> overrides = StreamsOverrides.parse(List.of("security.protocol=SSL",
        "admin.request.timeout.ms=5000", "consumer.fetch.max.wait.ms=50", "group.protocol=streams"));
    assertThat(StreamsOverrides.adminConfig(overrides)).isEqualTo(Map.of(
        "security.protocol", "SSL", "request.timeout.ms", "5000"));
  }

  @Test
  void overridesComeLastInTheAppsProperties() {
    Properties props = TelemetryApp.streamsConfig(settings(Map.of(
        "consumer.max.poll.records", "100", "group.protocol", "streams")));
    assertThat(props.getProperty("consumer.max.poll.records")).isEqualTo("100");
    assertThat(props.getProperty(StreamsConfig.GROUP_PROTOCOL_CONFIG)).isEqualTo("streams");
    assertThat(props.getProperty(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)).isEqualTo(StreamsConfig.EXACTLY_ONCE_V2);
  }

  @Test
  void settingsRefuseAnOverrideThatSkippedTheCheck() {
    assertThatThrownBy(() -> settings(Map.of("processing.guarantee", "at_least_once")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("processing.guarantee");
  }

  @Test
  void aValueKafkaRefusesFailsTheAppsCreationNamingIt(@TempDir Path dir) {
    TelemetryApp.Settings bad = new TelemetryApp.Settings("127.0.0.1:9", dir, "127.0.0.1:1",
        Duration.ofSeconds(1), TelemetryTopology.Settings.defaults("overrides-test"), 1,
        Duration.ofSeconds(5), Map.of("group.protocol", "gossip"));
    assertThatThrownBy(() -> new TelemetryApp(bad))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gossip").hasMessageContaining("group.protocol");
  }

  @Test
  void theCommandLineRefusesAnUnknownKeyBeforeTalkingToKafka() {
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cli = new picocli.CommandLine(new TelemetryMain());
    cli.setErr(new java.io.PrintWriter(err));
    int code = cli.execute("--bootstrap-server", "127.0.0.1:9", "--streams-config", "fetch.max.wait=1");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--streams-config fetch.max.wait: not a Kafka Streams or Kafka client setting");
  }

  @Test
  void streamsConfigEntriesGoOverTheKafkaConfigFile(@TempDir Path dir) throws Exception {
    Path file = java.nio.file.Files.writeString(dir.resolve("client.properties"),
        "security.protocol=SSL\nrequest.timeout.ms=20000\n");
    Map<String, String> merged = StreamsOverrides.merge(dev.meshlog.schemas.KafkaClientSettings
        .load(file, StreamsOverrides.RESERVED_CLIENT_KEYS), List.of("request.timeout.ms=5000"));
    assertThat(merged).isEqualTo(Map.of("security.protocol", "SSL", "request.timeout.ms", "5000"));
    assertThat(StreamsOverrides.adminConfig(merged)).containsEntry("security.protocol", "SSL");
  }

  @Test
  void refusesTheClientKeysExactlyOnceRestsOnBareOrPrefixed() {
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("producer.transactional.id=x")))
        .hasMessageStartingWith("--streams-config producer.transactional.id: the pipeline's counts");
    assertThatThrownBy(() -> StreamsOverrides.parse(List.of("isolation.level=read_uncommitted")))
        .hasMessageStartingWith("--streams-config isolation.level: the pipeline's counts");
  }

  @Test
  void theCommandLineRefusesAnUnknownKeyInTheKafkaConfigFileWithExitTwo(@TempDir Path dir)
      throws Exception {
    Path file = java.nio.file.Files.writeString(dir.resolve("client.properties"),
        "sasl.mechanisms=PLAIN\n");
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cli = new picocli.CommandLine(new TelemetryMain());
    cli.setErr(new java.io.PrintWriter(err));
    int code = cli.execute("--bootstrap-server", "127.0.0.1:9", "--kafka-config", file.toString());
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--kafka-config " + file + ": sasl.mechanisms is not a "
        + "Kafka client setting");
  }

  @Test
  void theCommandLineRefusesAReservedKeyInTheKafkaConfigFileWithExitTwo(@TempDir Path dir)
      throws Exception {
    Path file = java.nio.file.Files.writeString(dir.resolve("client.properties"),
        "group.id=mine\n");
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cli = new picocli.CommandLine(new TelemetryMain());
    cli.setErr(new java.io.PrintWriter(err));
    int code = cli.execute("--bootstrap-server", "127.0.0.1:9", "--kafka-config", file.toString());
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("group.id cannot be set here: use --application-id");
  }

  private static TelemetryApp.Settings settings(Map<String, String> overrides) {
    return new TelemetryApp.Settings("127.0.0.1:9092", Path.of("state"), "10.0.0.7:8486",
        Duration.ofSeconds(1), TelemetryTopology.Settings.defaults("meshlog-telemetry"), 2,
        Duration.ofSeconds(5), overrides);
  }
}
