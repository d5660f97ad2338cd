package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mis-keyed path on a real broker: an event keyed otherwise than by its edge crosses the
 * repartition topic carrying where its record was on {@code mesh.telemetry.requests}, and a dead
 * letter of an event read after the repartition topic names that record, so an operator can find
 * it, not the repartition topic's offset.
 */
@WithKafka
class ReroutedDeadLetterIT {

  @Test
  void aReroutedEventCarriesItsRecordsPlaceAndItsDeadLetterNamesIt(KafkaCluster kafka, @TempDir Path state)
      throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("rerouted");
    String app = KafkaCluster.uniqueName("telemetry-rerouted");
    String repartition = app + "-" + TelemetryTopology.BY_EDGE_KEY + "-repartition";
    try (TelemetryService service = TelemetryService.start(new TelemetryService.Settings(kafka.bootstrapServers(),
        state, "127.0.0.1", 0, "127.0.0.1", Duration.ofMillis(100), TelemetryTopology.Settings.defaults(app)),
        Clock.systemUTC());
         KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(), new StringSerializer(),
             new ByteArraySerializer())) {
      assertThat(service.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
      Instant now = Instant.now().minusSeconds(2);

      // 1. A good event under another producer's key: rerouted, with its record's place in headers.
      RequestEvent good = Requests.request(ns, "a", "v1", "b", "v1", 200, 5, now);
      RecordMetadata original = producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), "another-key",
          Requests.batchBytes(List.of(good)))).get();
      ConsumerRecord<String, byte[]> rerouted = readOne(kafka, repartition, r -> r.key().equals(Requests.key(good)));
      assertThat(headers(rerouted)).containsEntry("meshlog.origin.topic", Topics.TELEMETRY_REQUESTS.name())
          .containsEntry("meshlog.origin.partition", String.valueOf(original.partition()))
          .containsEntry("meshlog.origin.offset", String.valueOf(original.offset()));

      // 2. What an earlier build rerouted and this one refuses (a name with '/'), with the place
      // of its record: the dead letter names that record, the repartition topic's place apart.
      RequestEvent refused = Requests.request(ns, "c/d", "v1", "b", "v1", 200, 5, now);
      RecordHeaders origin = new RecordHeaders();
      origin.add("meshlog.origin.topic", Topics.TELEMETRY_REQUESTS.name().getBytes(StandardCharsets.UTF_8));
      origin.add("meshlog.origin.partition", "7".getBytes(StandardCharsets.UTF_8));
      origin.add("meshlog.origin.offset", "4242".getBytes(StandardCharsets.UTF_8));
      RecordMetadata via = producer.send(new ProducerRecord<>(repartition, null, Requests.key(refused),
          Requests.single(refused), origin)).get();
      ConsumerRecord<String, byte[]> letter = readOne(kafka, Topics.DEAD_LETTERS.name(), r -> r.key().equals(app));
      DeadLetter value = Topics.DEAD_LETTERS.deserializeValue(letter.value());
      assertThat(value.getSourceTopic().toString()).isEqualTo(Topics.TELEMETRY_REQUESTS.name());
      assertThat(value.getPartition()).isEqualTo(7);
      assertThat(value.getOffset()).isEqualTo(4242L);
      assertThat(value.getReason().toString()).startsWith("source.service: 'c/d' (expected: no '/'");
      assertThat(headers(letter)).containsEntry("meshlog.errors.topic", Topics.TELEMETRY_REQUESTS.name())
          .containsEntry("meshlog.errors.partition", "7").containsEntry("meshlog.errors.offset", "4242")
          .containsEntry("meshlog.errors.via.topic", repartition)
          .containsEntry("meshlog.errors.via.partition", String.valueOf(via.partition()))
          .containsEntry("meshlog.errors.via.offset", String.valueOf(via.offset()));
    }
  }

  private static Map<String, String> headers(ConsumerRecord<?, ?> r) {
    Map<String, String> out = new HashMap<>();
    for (Header h : r.headers()) {
      out.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
    }
    return out;
  }

  /** The first committed record of {@code topic} that {@code which} accepts. */
  private static ConsumerRecord<String, byte[]> readOne(KafkaCluster kafka, String topic,
      java.util.function.Predicate<ConsumerRecord<String, byte[]>> which) {
    Properties props = new Properties();
    props.putAll(kafka.clientConfig());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, KafkaCluster.uniqueName("reader"));
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
        new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.key() != null && which.test(r)) {
            found.add(r);
          }
        }
        return !found.isEmpty();
      });
    }
    return found.get(0);
  }
}
