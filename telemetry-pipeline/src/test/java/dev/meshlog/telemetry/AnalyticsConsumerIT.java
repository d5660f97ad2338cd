package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.DDSketchProtoBinding;
import com.datadoghq.sketch.ddsketch.store.UnboundedSizeDenseStore;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What TELEMETRY.md promises an analytics team: {@code mesh.telemetry.edges} read with a plain
 * Kafka consumer and the published {@code .avsc} alone (no Meshlog class, no generated code):
 * the key's format, single-object Avro picked by fingerprint, the last record of a key as its
 * window's value, and the latency sketch merged across windows. The example the docs point to.
 */
@WithKafka
class AnalyticsConsumerIT {

  /** The published schema, as an analytics team keeps it (the module runs in telemetry-pipeline/). */
  private static final Path EDGE_SCHEMA = Path.of("..", "schemas", "src", "main", "avro", "telemetry-edge.avsc");

  @Test
  void readsEdgeWindowsWithAPlainConsumerAndThePublishedSchema(KafkaCluster kafka, @TempDir Path state)
      throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("analytics");
    try (TelemetryService service = TelemetryService.start(new TelemetryService.Settings(kafka.bootstrapServers(),
        state, "127.0.0.1", 0, "127.0.0.1", Duration.ofMillis(100),
        TelemetryTopology.Settings.defaults(KafkaCluster.uniqueName("telemetry-analytics"))), Clock.systemUTC())) {
      assertThat(service.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
      // 30 calls of productpage v1 -> reviews v2, one in three failing, 10..39 ms, in one 10 s window
      Instant start = Instant.now().minusSeconds(3);
      start = start.minusMillis(start.toEpochMilli() % 10_000).plusMillis(100);
      List<RequestEvent> events = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        events.add(Requests.request(ns, "productpage", "v1", "reviews", "v2", i % 3 == 0 ? 503 : 200, 10 + i,
            start.plusMillis(i)));
      }
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
          new StringSerializer(), new ByteArraySerializer())) {
        for (int from = 0; from < events.size(); from += 10) { // three records, as three drains write them
          producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), Requests.key(events.get(from)),
              Requests.batchBytes(events.subList(from, from + 10))));
        }
      }

      // --- what an analytics job does, with nothing of Meshlog's but the .avsc ---
      Schema schema = new Schema.Parser().parse(EDGE_SCHEMA.toFile());
      byte[] fingerprint = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
          .putLong(SchemaNormalization.parsingFingerprint64(schema)).array();
      GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(schema);
      Properties props = new Properties();
      props.putAll(kafka.clientConfig());
      props.put(ConsumerConfig.GROUP_ID_CONFIG, KafkaCluster.uniqueName("analytics-job"));
      props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // only committed results
      Map<String, GenericRecord> latest = new HashMap<>(); // the last record of a key is its window's value
      String edge = ns + "/productpage/v1->" + ns + "/reviews/v2";
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
          new ByteArrayDeserializer())) {
        consumer.subscribe(List.of("mesh.telemetry.edges"));
        await().atMost(Duration.ofSeconds(60)).until(() -> {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            if (r.key().startsWith(ns + "/")) {
              latest.put(r.key(), decode(r.value(), fingerprint, reader));
            }
          }
          return latest.values().stream().filter(m -> ((Number) m.get("windowEnd")).longValue()
              - ((Number) m.get("windowStart")).longValue() == 10_000)
              .mapToLong(m -> (Long) m.get("requests")).sum() == 30
              && latest.values().stream().filter(m -> ((Number) m.get("windowEnd")).longValue()
              - ((Number) m.get("windowStart")).longValue() == 60_000)
              .mapToLong(m -> (Long) m.get("requests")).sum() == 30;
        });
      }

      // The key: <srcNs/srcService/srcVersion->dstNs/dstService/dstVersion>@<windowStartMillis>/<windowSizeMillis>
      long windowStart = start.toEpochMilli() - start.toEpochMilli() % 10_000;
      long minuteStart = start.toEpochMilli() - start.toEpochMilli() % 60_000;
      assertThat(latest.keySet()).containsExactlyInAnyOrder(
          edge + "@" + windowStart + "/10000", edge + "@" + minuteStart + "/60000");
      for (Map.Entry<String, GenericRecord> e : latest.entrySet()) {
        String[] window = e.getKey().substring(e.getKey().lastIndexOf('@') + 1).split("/");
        GenericRecord m = e.getValue();
        assertThat(((Number) m.get("windowStart")).longValue()).isEqualTo(Long.parseLong(window[0]));
        assertThat(((Number) m.get("windowEnd")).longValue() - Long.parseLong(window[0]))
            .isEqualTo(Long.parseLong(window[1]));
        assertThat(((GenericRecord) m.get("source")).get("service").toString()).isEqualTo("productpage");
        assertThat(((GenericRecord) m.get("destination")).get("version").toString()).isEqualTo("v2");
        assertThat(m.get("requests")).isEqualTo(30L);
        assertThat(m.get("responses5xx")).isEqualTo(10L);
        assertThat(m.get("errors")).isEqualTo(10L);
        assertThat(m.get("latencySketchFormat").toString()).isEqualTo("ddsketch-protobuf");
        assertThat((Double) m.get("latencyMaxMillis")).isEqualTo(39.0);
      }
      // Windows combine by merging sketches: the 10 s window's sketch merged with itself is a
      // sketch of 60 calls, whose p99 is the window's p99 (all quantiles within the accuracy).
      GenericRecord tenSeconds = latest.get(edge + "@" + windowStart + "/10000");
      DDSketch merged = sketch(tenSeconds);
      merged.mergeWith(sketch(tenSeconds));
      double accuracy = (Double) tenSeconds.get("latencyRelativeAccuracy");
      assertThat(merged.getCount()).isEqualTo(60.0);
      assertThat(merged.getValueAtQuantile(0.99)).isCloseTo(39.0, org.assertj.core.data.Offset.offset(39 * accuracy));
    }
  }

  /** A value of the edges topic: single-object Avro, the writer schema named by bytes 2-9. */
  private static GenericRecord decode(byte[] value, byte[] fingerprint, GenericDatumReader<GenericRecord> reader)
      throws IOException {
    assertThat(Arrays.copyOfRange(value, 0, 2)).as("marker").containsExactly(0xC3 - 256, 0x01);
    assertThat(Arrays.copyOfRange(value, 2, 10)).as("the published schema's fingerprint").isEqualTo(fingerprint);
    return reader.read(null, DecoderFactory.get().binaryDecoder(value, 10, value.length - 10, null));
  }

  private static DDSketch sketch(GenericRecord m) throws IOException {
    ByteBuffer bytes = (ByteBuffer) m.get("latencySketch");
    byte[] proto = new byte[bytes.remaining()];
    bytes.duplicate().get(proto);
    return DDSketchProtoBinding.fromProto(UnboundedSizeDenseStore::new,
        com.datadoghq.sketch.ddsketch.proto.DDSketch.parseFrom(proto));
  }
}
