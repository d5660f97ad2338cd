package dev.meshlog.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PersistentKafkaIT {

  @Test
  void restartOnTheSameDataDirKeepsTopicsRecordsAndPort(@TempDir Path dataDir) throws Exception {
    String bootstrap;
    try (EmbeddedKafka kafka = EmbeddedKafka.startPersistent(dataDir, 0, Map.of());
         Admin admin = kafka.admin();
         KafkaProducer<String, String> producer = new KafkaProducer<>(kafka.clientConfig(),
             new StringSerializer(), new StringSerializer())) {
      bootstrap = kafka.bootstrapServers();
      admin.createTopics(List.of(new NewTopic("kept", 2, (short) 1))).all().get();
      producer.send(new ProducerRecord<>("kept", "k", "survives a restart")).get();
    }

    try (EmbeddedKafka kafka = EmbeddedKafka.startPersistent(dataDir, 0, Map.of());
         Admin admin = kafka.admin()) {
      assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
      assertThat(admin.listTopics().names().get()).contains("kept");
      Map<String, Object> config = kafka.clientConfig();
      config.put(ConsumerConfig.GROUP_ID_CONFIG, "reader");
      config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config,
          new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of("kept"));
        List<String> values = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (values.isEmpty() && System.nanoTime() < deadline) {
          consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
        }
        assertThat(values).containsExactly("survives a restart");
      }
    }
  }

  /**
   * A port taken between being picked free and bound is how parallel builds made brokers fail
   * to start ("Address already in use"): the start recognises Kafka's own bind failure, and picks
   * again only ports it picked itself — a requested port taken is the caller's failure, at once.
   */
  @Test
  void aRequestedPortThatIsTakenFailsAsABindFailure(@TempDir Path dataDir) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Throwable failure = catchThrowable(() ->
          EmbeddedKafka.startPersistent(dataDir, taken.getLocalPort(), Map.of()).close());

      assertThat(failure).isNotNull();
      assertThat(EmbeddedKafka.isBindFailure(failure)).as("bind failure: %s", failure).isTrue();
    }
    // Nothing of the failed start is left bound: the same directory starts on a free port.
    try (EmbeddedKafka kafka = EmbeddedKafka.startPersistent(dataDir, 0, Map.of());
         Admin admin = kafka.admin()) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    }
  }

  @Test
  void onlyAnAddressInUseIsABindFailure() {
    assertThat(EmbeddedKafka.isBindFailure(new org.apache.kafka.common.KafkaException(
        "Socket server failed to bind to 127.0.0.1:4242: Address already in use.",
        new java.net.BindException("Address already in use")))).isTrue();
    assertThat(EmbeddedKafka.isBindFailure(new IllegalStateException("wrapped",
        new java.net.BindException("Address already in use")))).isTrue();
    assertThat(EmbeddedKafka.isBindFailure(new IllegalStateException("log dir is locked")))
        .isFalse();
  }
}
