package dev.meshlog.proxy.subscribe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

class KafkaClientsTest {

  @Test
  void boundsTheViewConsumersFetchesFarBelowASidecarsHeap() {
    Map<String, Object> c = KafkaClients.viewConsumer(Map.of("bootstrap.servers", "k:9092"));

    assertThat(c).containsEntry("bootstrap.servers", "k:9092")
        .containsEntry(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 4 * 1024 * 1024)
        .containsEntry(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024 * 1024);
  }

  @Test
  void boundsTheStatusProducersBufferAndNamesIt() {
    Map<String, Object> p = KafkaClients.statusProducer(Map.of("bootstrap.servers", "k:9092"),
        "meshlog-proxy-r1");

    assertThat(p).containsEntry(ProducerConfig.BUFFER_MEMORY_CONFIG, 4L * 1024 * 1024)
        .containsEntry(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000)
        .containsEntry(ProducerConfig.CLIENT_ID_CONFIG, "meshlog-proxy-r1");
  }

  @Test
  void boundsTheTelemetryProducersBufferAndKeepsCountsExact() {
    Map<String, Object> p = KafkaClients.telemetryProducer(Map.of("bootstrap.servers", "k:9092"),
        "meshlog-proxy-telemetry-r1", java.time.Duration.ofMillis(200));

    assertThat(p).containsEntry(ProducerConfig.BUFFER_MEMORY_CONFIG, 8L * 1024 * 1024)
        .containsEntry(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024)
        .containsEntry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4")
        .containsEntry(ProducerConfig.LINGER_MS_CONFIG, 200)
        .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)
        .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
        .containsEntry(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000)
        .containsEntry(ProducerConfig.CLIENT_ID_CONFIG, "meshlog-proxy-telemetry-r1");
  }

  @Test
  void settingsTheCallerGivesWin() {
    Map<String, Object> c = KafkaClients.viewConsumer(
        Map.of(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1024));
    Map<String, Object> p = KafkaClients.statusProducer(
        Map.of(ProducerConfig.BUFFER_MEMORY_CONFIG, 65536L), "x");

    assertThat(c).containsEntry(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1024);
    assertThat(p).containsEntry(ProducerConfig.BUFFER_MEMORY_CONFIG, 65536L);
  }
}
