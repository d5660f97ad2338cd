package dev.meshlog.proxy.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.meshlog.events.telemetry.LossReport;
import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.events.telemetry.Workload;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.http.ResponseFlag;
import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.schemas.Topics;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.junit.jupiter.api.Test;

class RequestEventEncoderTest {

  final ProxyIdentity reviews = new ProxyIdentity("rv-2", "reviews", "shop", "v2", "", "zone-b",
      "c1", "", Map.of());
  final RequestEventEncoder encoder = new RequestEventEncoder();
  /** How releases before batching wrote an event (still read by the topic's serde). */
  static final AvroSerde<RequestEvent> SINGLE = AvroSerde.of(RequestEvent.class);

  @Test
  void writesTheSameBytesAsTheTopicsAvroSerdeForBatchesOfEveryKindOfEvent() {
    List<RequestEvent> all = events();
    for (int n : new int[] {1, 2, 63, 64, 65, all.size()}) {
      List<RequestEvent> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        batch.add(all.get(i % all.size()));
      }
      byte[] ours = encoder.encodeBatch(batch);
      RequestEventBatch expected = new RequestEventBatch(batch, null);
      assertThat(ours).as("batch of %d", n)
          .isEqualTo(Topics.TELEMETRY_REQUESTS.serializeValue(expected));
      assertThat(Topics.TELEMETRY_REQUESTS.deserializeValue(ours)).isEqualTo(expected);
    }
  }

  @Test
  void aBatchOfManyEventsHasATwoByteBlockCount() {
    // the emitter's bound (128 events) needs a longer count varint than 63 or fewer
    RequestEvent e = events().get(0);
    List<RequestEvent> batch = java.util.Collections.nCopies(
        TelemetryEmitter.MAX_BATCH_EVENTS, e);
    byte[] ours = encoder.encodeBatch(batch);
    assertThat(ours).isEqualTo(Topics.TELEMETRY_REQUESTS.serializeValue(
        new RequestEventBatch(batch, null)));
    assertThat(ours.length).isEqualTo(RequestEventEncoder.batchOverhead(batch.size())
        + batch.size() * (encoder.encode(e).length - AvroSerde.HEADER_BYTES));
  }

  @Test
  void writesALossOnlyRecordAsTheTopicsAvroSerdeDoes() {
    for (RequestEvent e : events()) {
      for (long lost : new long[] {1, 63, 64, 1L << 40}) {
        LossReport report = new LossReport(e.getProxyId(), e.getReporter(), e.getSource(),
            e.getDestination(), lost, e.getStartTime());
        RequestEventBatch expected = new RequestEventBatch(List.of(), report);
        byte[] ours = encoder.encodeLossOnly(report);
        assertThat(ours).isEqualTo(Topics.TELEMETRY_REQUESTS.serializeValue(expected));
        assertThat(Topics.TELEMETRY_REQUESTS.deserializeValue(ours)).isEqualTo(expected);
      }
    }
  }

  @Test
  void refusesAnEmptyBatch() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> encoder.encodeBatch(List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batch of 0 events");
  }

  @Test
  void writesTheSameBytesAsTheTopicsAvroSerdeForEveryKindOfEvent() {
    for (RequestEvent e : events()) {
      byte[] ours = encoder.encode(e);
      assertThat(ours).as("%s", e).isEqualTo(SINGLE.encode(e));
      assertThat(Topics.TELEMETRY_REQUESTS.deserializeValue(ours).getEvents()).containsExactly(e);
    }
  }

  @Test
  void aWorkloadSeenAgainIsWrittenAsTheFirstTimeEvenBeyondItsKeptSlots() {
    RequestEvents events = new RequestEvents(reviews, "cluster.local");
    // more callers than the encoder keeps workloads for, each seen several times, interleaved
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < RequestEventEncoder.WORKLOAD_SLOTS + 3; i++) {
        ProxyIdentity caller = new ProxyIdentity("pp-" + i, "svc-" + i, "shop", "v" + round,
            "", "zone-" + i, "c1", "", Map.of());
        RequestEvent e = events.of(RequestEventsTest.entry("inbound", 200, Set.of(),
            "reviews.shop.svc.cluster.local", null, PeerMetadata.encode(caller), 1, null))
            .event();
        assertThat(encoder.encode(e)).as("caller %d, round %d", i, round)
            .isEqualTo(SINGLE.encode(e));
      }
    }
  }

  @Test
  void itsBytesDecodeWithTheRequestEventSchemaAlone() throws Exception {
    RequestEvent e = events().get(0);
    byte[] bytes = encoder.encode(e);
    GenericRecord r = new GenericDatumReader<GenericRecord>(RequestEvent.getClassSchema())
        .read(null, DecoderFactory.get().binaryDecoder(bytes, 10, bytes.length - 10, null));
    assertThat(r.get("proxyId").toString()).isEqualTo(e.getProxyId());
    assertThat(r.get("responseCode")).isEqualTo(e.getResponseCode());
    assertThat(r.get("droppedBefore")).isEqualTo(e.getDroppedBefore());
    assertThat(((GenericRecord) r.get("source")).get("service").toString())
        .isEqualTo(e.getSource().getService());
  }

  @Test
  void everyFieldOfHttpAndTcpEventsDecodesWithAvrosGenericReaderAgainstTheSchema()
      throws Exception {
    org.apache.avro.Schema schema = RequestEvent.getClassSchema();
    assertThat(java.util.Arrays.copyOfRange(encoder.encode(events().get(0)), 2, 10))
        .as("the header's fingerprint is the current schema's")
        .isEqualTo(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .putLong(org.apache.avro.SchemaNormalization.parsingFingerprint64(schema)).array());
    int tcp = 0;
    for (RequestEvent e : events()) {
      byte[] bytes = encoder.encode(e);
      GenericRecord r = new GenericDatumReader<GenericRecord>(schema)
          .read(null, DecoderFactory.get().binaryDecoder(bytes, 10, bytes.length - 10, null));
      assertThat(r.get("requestId").toString()).isEqualTo(e.getRequestId());
      assertThat(r.get("traceId").toString()).isEqualTo(e.getTraceId());
      assertThat(r.get("reporter").toString()).isEqualTo(e.getReporter().name());
      assertThat(r.get("proxyId").toString()).isEqualTo(e.getProxyId());
      for (String side : List.of("source", "destination")) {
        GenericRecord w = (GenericRecord) r.get(side);
        Workload expected = side.equals("source") ? e.getSource() : e.getDestination();
        for (String f : List.of("workload", "service", "version", "namespace", "cluster",
            "zone")) {
          assertThat(w.get(f).toString()).as("%s.%s", side, f).isEqualTo(expected.get(f));
        }
        assertThat(w.get("principal") == null ? null : w.get("principal").toString())
            .isEqualTo(expected.getPrincipal());
      }
      assertThat(r.get("protocol").toString()).isEqualTo(e.getProtocol());
      assertThat(r.get("method").toString()).isEqualTo(e.getMethod());
      assertThat(r.get("authority").toString()).isEqualTo(e.getAuthority());
      assertThat(r.get("path").toString()).isEqualTo(e.getPath().replace("\uD800", "?"));
      assertThat(r.get("route").toString()).isEqualTo(e.getRoute());
      assertThat(r.get("responseCode")).isEqualTo(e.getResponseCode());
      assertThat(r.get("grpcStatus")).isEqualTo(e.getGrpcStatus());
      assertThat(((List<?>) r.get("responseFlags")).stream().map(Object::toString).toList())
          .isEqualTo(e.getResponseFlags());
      assertThat(r.get("mtls")).isEqualTo(e.getMtls());
      assertThat(r.get("retries")).isEqualTo(e.getRetries());
      assertThat(r.get("requestBytes")).isEqualTo(e.getRequestBytes());
      assertThat(r.get("responseBytes")).isEqualTo(e.getResponseBytes());
      assertThat(r.get("durationMicros")).isEqualTo(e.getDurationMicros());
      assertThat(r.get("startTime")).isEqualTo(e.getStartTime().getEpochSecond() * 1_000_000L
          + e.getStartTime().getNano() / 1_000);
      assertThat(r.get("droppedBefore")).isEqualTo(e.getDroppedBefore());
      GenericRecord report = (GenericRecord) r.get("tcp");
      if (e.getTcp() == null) {
        assertThat(report).as("an HTTP event's tcp: the null branch").isNull();
        assertThat(e.getProtocol()).isNotEqualTo("tcp");
      } else {
        tcp++;
        assertThat(e.getProtocol()).isEqualTo("tcp");
        assertThat(report.get("opened")).isEqualTo(e.getTcp().getOpened());
        assertThat(report.get("closed")).isEqualTo(e.getTcp().getClosed());
      }
      assertThat(r.getSchema().getFields()).hasSize(schema.getFields().size());
    }
    assertThat(tcp).isEqualTo(4);
  }

  @Test
  void writesAnUnpairedSurrogateAsAvroDoes() {
    RequestEvent e = events().get(0);
    e.setPath("/half \uD800 a surrogate");
    assertThat(encoder.encode(e)).isEqualTo(SINGLE.encode(e));
    assertThat(Topics.TELEMETRY_REQUESTS.deserializeValue(encoder.encode(e)).getEvents().get(0).getPath())
        .isEqualTo("/half ? a surrogate");
  }

  @Test
  void reusesItsBufferWithoutLeakingOneEventIntoTheNext() {
    List<RequestEvent> all = events();
    RequestEvent big = all.stream().max((a, b) -> Integer.compare(a.getPath().length(),
        b.getPath().length())).orElseThrow();
    encoder.encode(big);
    for (RequestEvent e : all) {
      assertThat(encoder.encode(e)).isEqualTo(SINGLE.encode(e));
    }
  }

  /** Events as the proxy builds them, plus edge cases the proxy may not build today. */
  List<RequestEvent> events() {
    List<RequestEvent> all = new ArrayList<>();
    RequestEvents events = new RequestEvents(reviews, "cluster.local");
    EndpointConfig endpoint = EndpointConfig.of("10.0.0.7", 15006,
        Map.of("app", "ratings", "version", "v1"), "zone-b", "c2");
    all.add(events.of(RequestEventsTest.entry("outbound", 503,
        EnumSet.of(ResponseFlag.URX, ResponseFlag.UF), "ratings.shop.svc.cluster.local",
        endpoint, null, 3, null)).event());
    all.add(events.of(RequestEventsTest.entry("inbound", 200, Set.of(),
        "reviews.shop.svc.cluster.local", null, PeerMetadata.encode(reviews), 1, "0")).event());
    all.add(events.of(RequestEventsTest.entry("inbound", 0, EnumSet.allOf(ResponseFlag.class),
        "reviews.shop.svc.cluster.local", null, "bad header", 1, "14")).event());
    all.add(events.of(RequestEventsTest.entry("gateway", 404, EnumSet.of(ResponseFlag.NR),
        "unknown", null, null, 1, null)).event());
    all.add(events.of(new AccessLogEntry(Instant.parse("1965-03-04T05:06:07.123456789Z"),
        "outbound", "PÖST", "/π/ünïcödé/\uD83D\uDE00/" + "x".repeat(3000), "HTTP/2.0", 200,
        Set.of(), Long.MAX_VALUE, 0, 0, -1, null, "höst", null, null, null, null, 1,
        "unknown", "api.example.com", null, null, null, null, -1)).event());
    RequestEvent odd = events.of(RequestEventsTest.entry("outbound", 200, Set.of(),
        "ratings.shop.svc.cluster.local", endpoint, null, 1, null)).event();
    odd.setDroppedBefore(1_234_567_890_123L);
    odd.setMtls(true);
    odd.setRetries(-1);
    odd.setDurationMicros(Long.MIN_VALUE);
    odd.setGrpcStatus(Integer.MIN_VALUE);
    odd.setSource(Workload.newBuilder(odd.getSource())
        .setPrincipal("spiffe://cluster.local/ns/shop/sa/reviews").build());
    odd.setReporter(Reporter.UNSPECIFIED);
    odd.setRequestId("r\u00e9q-\uD83D\uDE80");
    all.add(odd);
    // TCP connections' reports: an interim one, a last one, a failed connection's only one
    all.add(events.of(new TcpEvent(RequestEventsTest.tcpEntry("outbound", Set.of(), endpoint,
        null, 2), 1_000, 1L << 33, 15_000_000, 1, true, false)).event());
    all.add(events.of(new TcpEvent(RequestEventsTest.tcpEntry("inbound", Set.of(), null,
        PeerMetadata.encode(reviews), 1), 0, 7, 15_000_001, 0, false, true)).event());
    all.add(events.of(TcpEvent.alone(RequestEventsTest.tcpEntry("outbound",
        EnumSet.of(ResponseFlag.UF), endpoint, null, 3))).event());
    RequestEvent neither = events.of(new TcpEvent(RequestEventsTest.tcpEntry("gateway",
        Set.of(), null, null, 1), 1, 1, 1, 0, false, false)).event();
    all.add(neither);
    return all;
  }
}
