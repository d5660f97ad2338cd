package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
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
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Poison pills on a real broker: truncated Avro, a wrong fingerprint, an empty value, JSON, a
 * name over the limit beside a good event, an event decades ahead of the clock in a batch of good ones, events far
 * in the past, a negative duration, a null key. The app keeps running, each bad record (or
 * event) is on {@code mesh.deadletter} with its reason and origin in headers, and every good
 * event is counted. (An event far ahead used to stop the app: the broker refused its windows'
 * records.)
 */
@WithKafka
class PoisonPillIT {

  @Test
  void deadLettersEachPoisonPillWithItsReasonAndKeepsRunningAndCounting(KafkaCluster kafka, @TempDir Path state)
      throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("poison");
    String app = KafkaCluster.uniqueName("telemetry-poison");
    try (TelemetryService service = TelemetryService.start(new TelemetryService.Settings(kafka.bootstrapServers(),
        state, "127.0.0.1", 0, "127.0.0.1", Duration.ofMillis(100), TelemetryTopology.Settings.defaults(app)),
        Clock.systemUTC())) {
      assertThat(service.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
      Instant now = Instant.now().minusSeconds(2);
      RequestEvent good = Requests.request(ns, "a", "v1", "b", "v1", 200, 5, now);
      byte[] single = Requests.single(good);
      byte[] otherFingerprint = single.clone();
      otherFingerprint[3] ^= 0x55;
      String key = Requests.key(good);
      List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
      String topic = Topics.TELEMETRY_REQUESTS.name();
      records.add(new ProducerRecord<>(topic, key, new byte[0]));                                       // empty
      records.add(new ProducerRecord<>(topic, key, Arrays.copyOf(single, single.length / 2)));         // truncated
      records.add(new ProducerRecord<>(topic, key, otherFingerprint));                                 // unknown schema
      records.add(new ProducerRecord<>(topic, key, "{\"json\":true}".getBytes(StandardCharsets.UTF_8))); // not Avro
      records.add(new ProducerRecord<>(topic, key, Requests.batchBytes(List.of(good,                   // name over the limit:
          Requests.request(ns, "a".repeat(1025), "v1", "b", "v1", 200, 5, now)))));                   // that one alone
      // a batch of two good events around one from a proxy whose clock is in 2100: that one alone
      records.add(new ProducerRecord<>(topic, key, Requests.batchBytes(List.of(good,
          Requests.request(ns, "a", "v1", "b", "v1", 200, 5, Instant.parse("2100-01-01T00:00:00Z")), good))));
      records.add(new ProducerRecord<>(topic, key, Requests.batchBytes(List.of(                        // far past: totals
          Requests.request(ns, "a", "v1", "b", "v1", 200, 5, Instant.parse("1969-07-20T20:17:00Z")),
          Requests.request(ns, "a", "v1", "b", "v1", 200, 5, Instant.parse("2001-01-01T00:00:00Z"))))));
      records.add(new ProducerRecord<>(topic, key, Requests.batchBytes(List.of(                        // negative duration
          Requests.request(ns, "a", "v1", "b", "v1", 200, -5, now)))));
      records.add(new ProducerRecord<>(topic, null, single));                                          // null key
      records.add(new ProducerRecord<>(topic, key, null));                                             // tombstone: ignored
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
          Topics.TELEMETRY_REQUESTS.keySerde().serializer(), new ByteArraySerializer())) {
        records.forEach(producer::send);
      }

      // good events: 1 beside the long name, 2 in the batch, 2 far past, 1 negative duration, 1 null key = 7
      HttpClient http = HttpClient.newHttpClient();
      String counted = "meshlog_edge_requests_total{source_namespace=\"" + ns + "\",source_service=\"a\",source_version=\"v1\","
          + "destination_namespace=\"" + ns + "\",destination_service=\"b\",destination_version=\"v1\",response_code_class=\"2xx\"} 7\n";
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.httpPort() + "/metrics?scope=cluster")).build(),
          HttpResponse.BodyHandlers.ofString()).body().contains(counted));
      assertThat(service.app().streams().state()).isEqualTo(KafkaStreams.State.RUNNING);

      Map<String, Map<String, String>> letters = new HashMap<>(); // reason -> headers
      Properties props = new Properties();
      props.putAll(kafka.clientConfig());
      props.put(ConsumerConfig.GROUP_ID_CONFIG, KafkaCluster.uniqueName("dlq-reader"));
      props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
          new ByteArrayDeserializer())) {
        consumer.subscribe(List.of(Topics.DEAD_LETTERS.name()));
        await().atMost(Duration.ofSeconds(30)).until(() -> {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            if (r.key().equals(app)) {
              DeadLetter letter = Topics.DEAD_LETTERS.deserializeValue(r.value());
              Map<String, String> headers = new HashMap<>();
              for (Header h : r.headers()) {
                headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
              }
              assertThat(headers.get("meshlog.errors.reason")).isEqualTo(letter.getReason());
              letters.put(letter.getReason(), headers);
            }
          }
          return letters.size() == 6;
        });
      }
      assertThat(letters.keySet()).anyMatch(r -> r.contains("record of 0 bytes is shorter than the 10-byte single-object header"))
          .anyMatch(r -> r.contains("corrupt record of"))
          .anyMatch(r -> r.contains("written with unknown schema fingerprint"))
          .anyMatch(r -> r.contains("not Avro single-object encoding (expected marker C3 01, found 7B 22)"))
          .anyMatch(r -> r.equals("events[1]: source.service: 1025 characters (expected: at most 1024)"))
          .anyMatch(r -> r.startsWith("events[1]: startTime: 2100-01-01T00:00:00Z is more than 1m ahead"));
      letters.values().forEach(h -> {
        assertThat(h).containsEntry("meshlog.errors.topic", topic).containsEntry("meshlog.errors.application", app)
            .containsKeys("meshlog.errors.partition", "meshlog.errors.offset", "meshlog.errors.exception.class.name");
        assertThat(Long.parseLong(h.get("meshlog.errors.offset"))).isNotNegative();
      });
    }
  }
}
