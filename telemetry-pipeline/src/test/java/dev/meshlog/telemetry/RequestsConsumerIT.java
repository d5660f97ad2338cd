package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import dev.meshlog.events.telemetry.Reporter;
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

/**
 * What TELEMETRY.md promises an analytics team reading the raw requests: {@code
 * mesh.telemetry.requests} read with a plain Kafka consumer and the published {@code .avsc} alone
 * (no Meshlog class, no generated code) — batches and single events told apart by fingerprint
 * (a release 0.1.0 event among them), each call counted once by the {@code reporter} rule, TCP
 * reports counted as connections and not as requests, and losses summed per proxy from
 * {@code droppedBefore} and loss-only records. The example the docs point to.
 */
@WithKafka
class RequestsConsumerIT {

  /** The published schemas, as an analytics team keeps them (the module runs in telemetry-pipeline/). */
  private static final Path AVRO = Path.of("..", "schemas", "src", "main", "avro");
  private static final Path RELEASE_010_EVENT = Path.of("..", "schemas", "src", "main", "resources", "meshlog",
      "schemas", "releases", "0.1.0", "dev.meshlog.events.telemetry.RequestEvent.avsc");

  @Test
  void countsCallsConnectionsAndLossesWithAPlainConsumerAndThePublishedSchemas(KafkaCluster kafka) throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("rawrequests");
    Instant t = Instant.now().minusSeconds(30);
    // --- what proxies write (Meshlog's own classes, only to make the traffic) ---
    List<RequestEvent> calls = new ArrayList<>(); // productpage v1 -> reviews v2: 5 calls, one 503
    for (int i = 0; i < 5; i++) {
      calls.add(RequestEvent.newBuilder(Requests.request(ns, "productpage", "v1", "reviews", "v2",
          i == 2 ? 503 : 200, 10 + i, t.plusMillis(i))).setProxyId("productpage-1")
          .setDroppedBefore(i == 0 ? 4 : 0).build()); // it lost 4 events before these
    }
    List<RequestEvent> sameCallsByReviews = calls.stream().map(e -> RequestEvent.newBuilder(e)
        .setReporter(Reporter.DESTINATION).setProxyId("reviews-1").setDroppedBefore(0).build()).toList();
    RequestEvent fromOutside = RequestEvent.newBuilder(Requests.request(ns, "", "", "reviews", "v2", 200, 7, t))
        .setReporter(Reporter.DESTINATION).setProxyId("reviews-1").build();
    List<RequestEvent> viaGateway = List.of(
        RequestEvent.newBuilder(Requests.request(ns, "ingress", "", "productpage", "v1", 200, 30, t))
            .setReporter(Reporter.GATEWAY).setProxyId("ingress-1").build(),
        RequestEvent.newBuilder(Requests.request(ns, "ingress", "", "productpage", "v1", 504, 3000, t.plusMillis(5)))
            .setReporter(Reporter.GATEWAY).setProxyId("ingress-1").build());
    // reviews v2 -> db v1: one connection, reported when open (15 s) and when closed, by both proxies
    List<RequestEvent> connection = List.of(
        withProxy(Requests.tcp(ns, "reviews", "v2", "db", "v1", t, 15_000, true, false, 800, 20_000), "reviews-1"),
        withProxy(Requests.tcp(ns, "reviews", "v2", "db", "v1", t, 21_000, false, true, 100, 4_000), "reviews-1"));
    List<RequestEvent> connectionByDb = connection.stream().map(e -> RequestEvent.newBuilder(e)
        .setReporter(Reporter.DESTINATION).setProxyId("db-1").build()).toList();
    var lossOnly = Requests.lossOnly(dev.meshlog.events.telemetry.LossReport.newBuilder(Requests.lossReport(
        ns, "productpage", "v1", "reviews", "v2", Reporter.DESTINATION, 3, t.plusSeconds(1))).setProxyId("reviews-1").build());
    Map<String, byte[]> records = new java.util.LinkedHashMap<>();
    records.put("calls", Requests.batchBytes(calls));
    records.put("duplicates", Requests.batchBytes(sameCallsByReviews));
    records.put("outside, 0.1.0", Requests.asRelease010(fromOutside)); // a single event of release 0.1.0
    records.put("gateway, single", Requests.single(viaGateway.get(0))); // a single event of the current schema
    records.put("gateway", Requests.batchBytes(viaGateway.subList(1, 2)));
    records.put("tcp", Requests.batchBytes(connection));
    records.put("tcp duplicates", Requests.batchBytes(connectionByDb));
    records.put("loss only", Topics.TELEMETRY_REQUESTS.serializeValue(lossOnly));
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new StringSerializer(), new ByteArraySerializer())) {
      for (byte[] value : records.values()) {
        producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), ns + "/key", value)).get();
      }
    }

    // --- what an analytics job does, with nothing of Meshlog's but the .avsc files ---
    // RequestEventBatch names RequestEvent: one parser, the event's file first
    Schema.Parser parser = new Schema.Parser();
    Schema event = parser.parse(AVRO.resolve("telemetry-request.avsc").toFile());
    Schema batch = parser.parse(AVRO.resolve("telemetry-request-batch.avsc").toFile());
    Schema event010 = new Schema.Parser().parse(RELEASE_010_EVENT.toFile());
    Map<String, GenericDatumReader<GenericRecord>> readers = new HashMap<>(); // fingerprint (hex) -> reader
    readers.put(fingerprint(batch), new GenericDatumReader<>(batch));
    readers.put(fingerprint(event), new GenericDatumReader<>(event));
    readers.put(fingerprint(event010), new GenericDatumReader<>(event010, event)); // read as the current event

    Map<String, long[]> edges = new TreeMap<>(); // src->dst: calls, errors (5xx or no response)
    Map<String, long[]> tcp = new TreeMap<>(); // src->dst: connections opened, closed, bytes both ways
    Map<String, Long> lostByProxy = new TreeMap<>();
    int[] read = {0};
    Properties props = new Properties();
    props.putAll(kafka.clientConfig());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, KafkaCluster.uniqueName("raw-requests-job"));
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
        new ByteArrayDeserializer())) {
      consumer.subscribe(List.of("mesh.telemetry.requests"));
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.key() == null || !r.key().startsWith(ns + "/") || r.value() == null) {
            continue;
          }
          read[0]++;
          GenericRecord value = decode(r.value(), readers);
          // a batch has `events` (and maybe a lossReport); a single event (releases before batching) is a batch of one
          boolean isBatch = value.getSchema().getName().equals("RequestEventBatch");
          @SuppressWarnings("unchecked")
          List<GenericRecord> events = isBatch ? (List<GenericRecord>) value.get("events") : List.of(value);
          for (GenericRecord e : events) {
            String proxy = e.get("proxyId").toString();
            lostByProxy.merge(proxy, (Long) e.get("droppedBefore"), Long::sum);
            if (!countsOnce(e)) {
              continue; // the other proxy's report of a call counted from its caller's
            }
            String edge = service((GenericRecord) e.get("source")) + "->" + service((GenericRecord) e.get("destination"));
            GenericRecord report = (GenericRecord) e.get("tcp");
            if (report != null) { // a TCP connection's report: not a request
              long[] c = tcp.computeIfAbsent(edge, k -> new long[3]);
              c[0] += (Boolean) report.get("opened") ? 1 : 0;
              c[1] += (Boolean) report.get("closed") ? 1 : 0;
              c[2] += (Long) e.get("requestBytes") + (Long) e.get("responseBytes");
            } else {
              int code = (Integer) e.get("responseCode");
              long[] c = edges.computeIfAbsent(edge, k -> new long[2]);
              c[0]++;
              c[1] += code >= 500 || code == 0 ? 1 : 0;
            }
          }
          GenericRecord loss = isBatch ? (GenericRecord) value.get("lossReport") : null;
          if (loss != null) { // a loss-only record: no events, the proxy's lost count
            lostByProxy.merge(loss.get("proxyId").toString(), (Long) loss.get("lost"), Long::sum);
          }
        }
        return read[0] == records.size();
      });
    }

    assertThat(edges.keySet()).containsExactly("ingress->productpage", "productpage->reviews", "unknown->reviews");
    assertThat(edges.get("productpage->reviews")).containsExactly(5, 1); // the destination's reports not counted again
    assertThat(edges.get("unknown->reviews")).containsExactly(1, 0); // a caller outside the mesh: the destination's report
    assertThat(edges.get("ingress->productpage")).containsExactly(2, 1);
    assertThat(tcp).containsOnlyKeys("reviews->db");
    assertThat(tcp.get("reviews->db")).containsExactly(1, 1, 24_900);
    assertThat(lostByProxy).containsEntry("productpage-1", 4L).containsEntry("reviews-1", 3L)
        .containsEntry("ingress-1", 0L).containsEntry("db-1", 0L);
  }

  private static RequestEvent withProxy(RequestEvent e, String proxy) {
    return RequestEvent.newBuilder(e).setProxyId(proxy).build();
  }

  /**
   * Whether this report is the one that counts its call: both proxies of an in-mesh call report
   * it; the caller's ({@code SOURCE}, or {@code GATEWAY}) counts, the callee's
   * ({@code DESTINATION}) only when the caller is outside the mesh (empty or {@code unknown}).
   */
  static boolean countsOnce(GenericRecord e) {
    String reporter = e.get("reporter").toString();
    String caller = ((GenericRecord) e.get("source")).get("service").toString();
    return reporter.equals("SOURCE") || reporter.equals("GATEWAY")
        || (reporter.equals("DESTINATION") && (caller.isEmpty() || caller.equals("unknown")));
  }

  private static String service(GenericRecord workload) {
    String service = workload.get("service").toString();
    return service.isEmpty() ? "unknown" : service;
  }

  /** Bytes 2-9 of a value written with {@code schema}: its CRC-64-AVRO fingerprint, little-endian, as hex. */
  private static String fingerprint(Schema schema) {
    return hex(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(SchemaNormalization.parsingFingerprint64(schema)).array());
  }

  private static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (byte b : bytes) {
      s.append(String.format("%02x", b));
    }
    return s.toString();
  }

  /** A value of the requests topic: single-object Avro, the writer schema named by bytes 2-9. */
  private static GenericRecord decode(byte[] value, Map<String, GenericDatumReader<GenericRecord>> readers)
      throws IOException {
    assertThat(Arrays.copyOfRange(value, 0, 2)).as("marker").containsExactly(0xC3 - 256, 0x01);
    GenericDatumReader<GenericRecord> reader = readers.get(hex(Arrays.copyOfRange(value, 2, 10)));
    assertThat(reader).as("a known schema's fingerprint: %s", hex(Arrays.copyOfRange(value, 2, 10))).isNotNull();
    return reader.read(null, DecoderFactory.get().binaryDecoder(value, 10, value.length - 10, null));
  }
}
