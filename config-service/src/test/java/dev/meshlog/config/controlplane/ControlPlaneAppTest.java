package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/**
 * The Kafka Streams settings the control plane runs with, as Streams resolves them for its
 * producer: the ones on the path from a command to its view.
 */
class ControlPlaneAppTest {

  private static final ControlPlaneApp.Settings SETTINGS = ControlPlaneApp.Settings.defaults(
      "127.0.0.1:9092", Path.of("state"));

  @Test
  void producerRetriesAConcurrentTransactionAfterTenMillisecondsNotAHundred() {
    ProducerConfig producer = producerConfig(SETTINGS);
    assertThat(producer.getLong(ProducerConfig.RETRY_BACKOFF_MS_CONFIG)).isEqualTo(10L);
    // while a broker is away the backoff still grows to Kafka's 1 s
    assertThat(producer.getLong(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG)).isEqualTo(1000L);
  }

  @Test
  void producerStaysIdempotentAndRetriesUntilDelivered() {
    ProducerConfig producer = producerConfig(SETTINGS);
    assertThat(producer.getBoolean(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG)).isTrue();
    assertThat(producer.getString(ProducerConfig.ACKS_CONFIG)).isEqualTo("-1");
    assertThat(producer.getInt(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)).isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void producerDoesNotCompress() {
    ProducerConfig producer = producerConfig(SETTINGS);
    assertThat(producer.getString(ProducerConfig.COMPRESSION_TYPE_CONFIG)).isEqualTo("none");
  }

  @Test
  void producerSendsAViewAsLargeAsTheViewsTopicTakes() {
    ProducerConfig producer = producerConfig(SETTINGS);
    assertThat(producer.getInt(ProducerConfig.MAX_REQUEST_SIZE_CONFIG))
        .isEqualTo(16 * 1024 * 1024)
        .isEqualTo(Integer.parseInt(dev.meshlog.schemas.Topics.DISCOVERY_VIEWS.configs()
            .get("max.message.bytes")))
        .isGreaterThan(ControlPlaneProcessor.MAX_VIEW_BYTES);
    assertThat(producer.getLong(ProducerConfig.BUFFER_MEMORY_CONFIG))
        .isGreaterThanOrEqualTo(16L * 1024 * 1024);
  }

  @Test
  void refusesAnOperatorsMaxRequestSizeSayingWhy() {
    assertThatThrownBy(() -> ControlPlaneApp.streamsConfig(SETTINGS.withClientSettings(
        Map.of("max.request.size", "1048576"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--kafka-config: max.request.size cannot be set here: the control plane sends"
            + " views of up to 16777216 bytes, what mesh.discovery.views takes");
  }

  @Test
  void producerSendsAChangesEventAtOnceInsteadOfLingering() {
    assertThat(producerConfig(SETTINGS).getLong(ProducerConfig.LINGER_MS_CONFIG)).isZero();
  }

  @Test
  void aLongCommitIntervalRaisesTheTransactionTimeoutAboveIt() {
    ControlPlaneApp.Settings slow = new ControlPlaneApp.Settings("127.0.0.1:9092", "app",
        Path.of("state"), Duration.ofSeconds(30), Duration.ofSeconds(1));
    assertThat(producerConfig(slow).getInt(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG))
        .isEqualTo(40_000);
  }

  @Test
  void processesAnInputWithoutWaitingForTheOtherTopicsPartition() {
    assertThat(ControlPlaneApp.streamsConfig(SETTINGS).get(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG))
        .isEqualTo("-1");
  }

  /** The producer config Streams builds for the stream thread, as the producer reads it. */
  @Test
  void pollsForHalfTheCommitIntervalUnlessAPollIntervalIsSet() {
    assertThat(ControlPlaneApp.streamsConfig(SETTINGS).get(StreamsConfig.POLL_MS_CONFIG)).isEqualTo("2");
    ControlPlaneApp.Settings polling = new ControlPlaneApp.Settings("127.0.0.1:9092", "app",
        Path.of("state"), Duration.ofMillis(5), Duration.ofSeconds(1), Duration.ofMillis(20));
    assertThat(ControlPlaneApp.streamsConfig(polling).get(StreamsConfig.POLL_MS_CONFIG)).isEqualTo("20");
    assertThatThrownBy(() -> new ControlPlaneApp.Settings("127.0.0.1:9092", "app", Path.of("state"),
        Duration.ofMillis(5), Duration.ofSeconds(1), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pollInterval");
  }

  private static ProducerConfig producerConfig(ControlPlaneApp.Settings settings) {
    Properties props = ControlPlaneApp.streamsConfig(settings);
    Map<String, Object> producer = new HashMap<>(
        new StreamsConfig(props).getProducerConfigs("control-plane-producer"));
    producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new ProducerConfig(producer);
  }
}
