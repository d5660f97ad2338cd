package dev.meshlog.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class JvmRequestCountsTest {

  @Test
  void perDividesWhatGrewAndLeavesOutWhatDidNot() {
    Map<String, Double> before = Map.of("Produce", 10.0, "Fetch", 4.0);
    Map<String, Double> after = Map.of("Produce", 30.0, "Fetch", 4.0, "EndTxn", 5.0);

    assertThat(JvmRequestCounts.per(before, after, 10))
        .containsExactlyInAnyOrderEntriesOf(Map.of("Produce", 2.0, "EndTxn", 0.5));
  }

  @Test
  void readsEachKafkaClientsRequestsByItsClientId() throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1",
        ProducerConfig.CLIENT_ID_CONFIG, "counted-producer"),
        new ByteArraySerializer(), new ByteArraySerializer());
         JvmRequestCounts counts = JvmRequestCounts.local()) {
      assertThat(counts.clientRequests()).containsKey("counted-producer");
    }
  }

  @Test
  void groupsThreadsCpuByNameWithDigitsAsN() throws Exception {
    try (JvmRequestCounts counts = JvmRequestCounts.local()) {
      assertThat(counts.threadCpu().keySet()).allMatch(name -> !name.matches(".*[0-9].*"));
    }
  }
}
