package dev.meshlog.telemetry;

import static dev.meshlog.telemetry.Requests.batchBytes;
import static dev.meshlog.telemetry.Requests.request;
import static dev.meshlog.telemetry.Requests.single;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import dev.meshlog.events.telemetry.LossReport;
import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.events.telemetry.Workload;
import dev.meshlog.schemas.Topics;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class RequestReaderTest {

  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");

  @Test
  void fastPathIsWrittenForTheCurrentRequestEventSchema() {
    // Fails when RequestEvent's schema changes: update RequestReader.readFast to the new layout,
    // then its fingerprint. Until then every event takes the (correct, slower) full decoding.
    assertThat(RequestReader.LAYOUT_FINGERPRINT)
        .as("RequestReader.LAYOUT_FINGERPRINT vs RequestEvent's schema")
        .isEqualTo(SchemaNormalization.parsingFingerprint64(RequestEvent.getClassSchema()));
    assertThat(RequestReader.BATCH_LAYOUT_FINGERPRINT)
        .as("RequestReader.BATCH_LAYOUT_FINGERPRINT vs RequestEventBatch's schema")
        .isEqualTo(SchemaNormalization.parsingFingerprint64(RequestEventBatch.getClassSchema()));
    assertThat(RequestReader.FAST_PATH).isTrue();
  }

  @Test
  void readsTheSameFieldsAsTheFullAvroDecodingOnTheFastPath() {
    SplittableRandom random = new SplittableRandom(7);
    RequestReader reader = new RequestReader();
    for (int i = 0; i < 2_000; i++) {
      RequestEvent e = randomEvent(random, i);
      byte[] bytes = single(e);
      assertThat(reader.readFast(bytes)).as("fast path for event %d: %s", i, e).isTrue();
      assertThat(reader.read(Topics.TELEMETRY_REQUESTS.name(), bytes)).isEqualTo(1);
      assertSameAsAvro(reader.call(0), e, "event " + i);
      assertThat(reader.eventBytes(0)).isSameAs(bytes);
    }
  }

  @Test
  void readsEveryEventOfABatchLikeTheFullAvroDecodingOnTheFastPath() {
    SplittableRandom random = new SplittableRandom(11);
    RequestReader reader = new RequestReader();
    for (int b = 0; b < 300; b++) {
      List<RequestEvent> events = new ArrayList<>();
      int n = b == 0 ? 0 : 1 + random.nextInt(b % 10 == 0 ? 300 : 20);
      for (int i = 0; i < n; i++) {
        events.add(randomEvent(random, i));
      }
      byte[] bytes = batchBytes(events);
      assertThat(reader.readFast(bytes)).as("fast path for batch %d", b).isTrue();
      assertReadsAsAvroDoes(reader, bytes, "batch " + b);
    }
  }

  @Test
  void readsABatchWrittenInSeveralBlocksWithAndWithoutTheirByteSizes() {
    SplittableRandom random = new SplittableRandom(13);
    RequestReader reader = new RequestReader();
    List<RequestEvent> events = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      events.add(randomEvent(random, i));
    }
    for (boolean sized : new boolean[] {false, true}) {
      byte[] bytes = inBlocks(events, new int[] {2, 1, 4}, sized);
      assertThat(Topics.TELEMETRY_REQUESTS.deserializeValue(bytes).getEvents())
          .as("Avro reads the hand-made blocks").containsExactlyElementsOf(events);
      assertThat(reader.readFast(bytes)).as("fast path, sized %s", sized).isTrue();
      assertReadsAsAvroDoes(reader, bytes, "blocks, sized " + sized);
    }
  }

  @Test
  void readsALossOnlyRecordAsOneUncountedCallReportingItsLossOnItsEdge() {
    LossReport report = Requests.lossReport("shop", "productpage", "v1", "reviews", "v2",
        Reporter.DESTINATION, 25, T0.plusMillis(1500));
    byte[] bytes = Topics.TELEMETRY_REQUESTS.serializeValue(Requests.lossOnly(report));
    RequestReader reader = new RequestReader();
    assertThat(reader.readFast(bytes)).isTrue();
    for (boolean fast : new boolean[] {true, false}) {
      int n = fast ? reader.read("t", bytes) : reader.readSlow("t", bytes);
      assertThat(n).isEqualTo(1);
      RequestReader.Call call = reader.call(0);
      assertThat(call.lossReport).as("fast %s", fast).isTrue();
      assertThat(call.countsOnce()).isFalse();
      assertThat(call.reportsLoss()).isTrue();
      assertThat(call.droppedBefore).isEqualTo(25);
      assertThat(call.reporter).isEqualTo(Reporter.DESTINATION);
      assertThat(call.startMillis).isEqualTo(T0.toEpochMilli() + 1500);
      assertThat(call.edge.edge()).isEqualTo(new Edge(new Edge.End("shop", "productpage", "v1"),
          new Edge.End("shop", "reviews", "v2")));
      assertThat(call.edge.topicKey()).isEqualTo(Requests.key(report)); // the record's key
      assertThat(reader.eventBytes(0)).isSameAs(bytes);
    }
  }

  @Test
  void givesALossReportBesideEventsBackAsALossOnlyRecordOfItsOwn() {
    // proxies never write both in one record; another producer might
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    LossReport report = Requests.lossReport("default", "productpage", "v1", "reviews", "v2",
        Reporter.SOURCE, 3, T0);
    byte[] bytes = Topics.TELEMETRY_REQUESTS.serializeValue(
        RequestEventBatch.newBuilder().setEvents(List.of(e)).setLossReport(report).build());
    RequestReader reader = new RequestReader();
    for (boolean fast : new boolean[] {true, false}) {
      assertThat(fast ? reader.read("t", bytes) : reader.readSlow("t", bytes)).isEqualTo(2);
      assertThat(reader.call(0).countsOnce()).isTrue();
      assertThat(reader.call(1).droppedBefore).isEqualTo(3);
      assertThat(Topics.TELEMETRY_REQUESTS.deserializeValue(reader.eventBytes(1)))
          .as("fast %s", fast).isEqualTo(Requests.lossOnly(report));
      assertThat(Topics.TELEMETRY_REQUESTS.deserializeValue(reader.eventBytes(0)).getEvents())
          .containsExactly(e);
    }
  }

  @Test
  void anEventReadAfterALossOnlyRecordInItsReusedCallIsNoLossReport() {
    RequestReader reader = new RequestReader();
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    RequestEvent f = request("default", "productpage", "v1", "reviews", "v1", 503, 5, T0);
    byte[] loss = Topics.TELEMETRY_REQUESTS.serializeValue(Requests.lossOnly(Requests.lossReport(
        "default", "productpage", "v1", "reviews", "v2", Reporter.SOURCE, 7, T0)));
    for (boolean fast : new boolean[] {true, false}) {
      assertThat(reader.read("t", loss)).isEqualTo(1);
      byte[] batch = batchBytes(List.of(e, f));
      assertThat(fast ? reader.read("t", batch) : reader.readSlow("t", batch)).isEqualTo(2);
      assertThat(reader.call(0).lossReport).isFalse();
      assertThat(reader.call(0).countsOnce()).isTrue();
      assertThat(reader.eventBytes(0)).isEqualTo(single(e));
    }
  }

  @Test
  void aLossOnlyRecordOfNoLossNeedsNoEdge() {
    byte[] bytes = Topics.TELEMETRY_REQUESTS.serializeValue(Requests.lossOnly(Requests.lossReport(
        "default", "productpage", "v1", "reviews", "v2", Reporter.SOURCE, 0, T0)));
    RequestReader reader = new RequestReader();
    assertThat(reader.read("t", bytes)).isEqualTo(1);
    assertThat(reader.call(0).reportsLoss()).isFalse();
    assertThat(reader.call(0).edge).isNull();
  }

  @Test
  void refusesATruncatedLossOnlyRecordAndATooLongNameInIt() {
    RequestReader reader = new RequestReader();
    byte[] bytes = Topics.TELEMETRY_REQUESTS.serializeValue(Requests.lossOnly(Requests.lossReport(
        "default", "productpage", "v1", "reviews", "v2", Reporter.SOURCE, 7, T0)));
    for (int cut = 11; cut < bytes.length; cut++) {
      byte[] truncated = Arrays.copyOf(bytes, cut);
      assertThatThrownBy(() -> reader.read("t", truncated)).as("cut at %d", cut)
          .isInstanceOf(SerializationException.class).hasMessageContaining("RequestEventBatch");
    }
    byte[] badBranch = bytes.clone();
    badBranch[AvroSerde.HEADER_BYTES + 1] = 4; // a union branch the schema has not
    assertThatThrownBy(() -> reader.read("t", badBranch))
        .isInstanceOf(SerializationException.class).hasMessageContaining("RequestEventBatch");
    byte[] tooLong = Topics.TELEMETRY_REQUESTS.serializeValue(Requests.lossOnly(Requests.lossReport(
        "default", "productpage", "v1", "r".repeat(1025), "v2", Reporter.SOURCE, 7, T0)));
    assertThatThrownBy(() -> reader.read("t", tooLong))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("lossReport: destination.service: 1025 characters (expected: at most 1024)");
  }

  @Test
  void readsABatchWrittenBeforeTheLossReportAsBeforeOnBothPaths() {
    SplittableRandom random = new SplittableRandom(19);
    List<RequestEvent> events = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      events.add(RequestEvent.newBuilder(randomEvent(random, i)).setTcp(null).build()); // no tcp then
    }
    events.set(0, RequestEvent.newBuilder(events.get(0)).setDroppedBefore(12).build());
    byte[] old = Requests.asBatchBeforeLossReport(events);
    assertThat(org.apache.avro.SchemaNormalization.parsingFingerprint64(RequestReader.PREVIOUS_BATCH_SCHEMA))
        .isEqualTo(RequestReader.PREVIOUS_BATCH_LAYOUT_FINGERPRINT);
    RequestReader reader = new RequestReader();
    assertThat(reader.readFast(old)).isTrue();
    for (boolean fast : new boolean[] {true, false}) {
      assertThat(fast ? reader.read("t", old) : reader.readSlow("t", old)).isEqualTo(9);
      for (int i = 0; i < 9; i++) {
        assertSameAsAvro(reader.call(i), events.get(i), "fast " + fast + ", event " + i);
        assertThat(reader.eventBytes(i)).isEqualTo(fast ? Requests.asEventBeforeTcp(events.get(i)) : single(events.get(i)));
      }
    }
    assertThatThrownBy(() -> reader.read("t", Arrays.copyOf(old, old.length - 2)))
        .isInstanceOf(SerializationException.class).hasMessageContaining("before lossReport");
  }

  @Test
  void readsATcpReportAtItsOwnTimeWithWhereItFallsInItsConnection() {
    RequestReader reader = new RequestReader();
    RequestEvent open = Requests.tcp("default", "reviews", "v1", "mysql", "v1", T0, 10_000, true, false, 300, 4_000);
    RequestEvent close = Requests.tcp("default", "reviews", "v1", "mysql", "v1", T0, 12_500, false, true, 20, 50, "UF");
    RequestEvent http = request("default", "productpage", "v1", "reviews", "v1", 200, 5, T0);
    byte[] bytes = batchBytes(List.of(open, http, close));
    assertThat(reader.readFast(bytes)).isTrue();
    for (boolean fast : new boolean[] {true, false}) {
      assertThat(fast ? reader.read("t", bytes) : reader.readSlow("t", bytes)).isEqualTo(3);
      RequestReader.Call first = reader.call(0);
      assertThat(first.tcp).isTrue();
      assertThat(first.tcpOpened).isTrue();
      assertThat(first.tcpClosed).isFalse();
      assertThat(first.startMillis).as("opened + 10 s").isEqualTo(T0.toEpochMilli() + 10_000);
      assertThat(first.requestBytes).isEqualTo(300);
      assertThat(first.responseBytes).isEqualTo(4_000);
      assertThat(reader.call(1).tcp).isFalse();
      assertThat(reader.call(1).startMillis).isEqualTo(T0.toEpochMilli());
      RequestReader.Call last = reader.call(2);
      assertThat(last.tcp).isTrue();
      assertThat(last.tcpOpened).isFalse();
      assertThat(last.tcpClosed).isTrue();
      assertThat(last.startMillis).isEqualTo(T0.toEpochMilli() + 12_500);
      assertThat(last.responseFlags).containsExactly("UF");
      assertThat(Requests.SINGLE.decode("t", reader.eventBytes(2))).isEqualTo(close);
    }
    // a destination's report of it is the duplicate, as for HTTP
    RequestEvent inbound = RequestEvent.newBuilder(open).setReporter(Reporter.DESTINATION).build();
    assertThat(one(reader, single(inbound)).countsOnce()).isFalse();
  }

  @Test
  void refusesATcpReportWithABadUnionBranchOrBoolean() {
    RequestReader reader = new RequestReader();
    byte[] bytes = single(Requests.tcp("default", "a", "v1", "b", "v1", T0, 1, true, true, 1, 1));
    byte[] branch = bytes.clone();
    branch[bytes.length - 3] = 4; // union branch 2
    assertThat(reader.readFast(branch)).isFalse();
    assertThatThrownBy(() -> reader.read("t", branch)).isInstanceOf(SerializationException.class);
    byte[] bool = bytes.clone();
    bool[bytes.length - 1] = 2;
    assertThat(reader.readFast(bool)).as("not a boolean: the full decoding's").isFalse();
    for (int cut = 11; cut < bytes.length; cut++) {
      byte[] truncated = Arrays.copyOf(bytes, cut);
      assertThatThrownBy(() -> reader.read("t", truncated)).as("cut at %d", cut)
          .isInstanceOf(SerializationException.class);
    }
  }

  @Test
  void readsEventsAndBatchesWrittenBeforeTcpAsBeforeOnBothPaths() {
    SplittableRandom random = new SplittableRandom(23);
    List<RequestEvent> events = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      events.add(RequestEvent.newBuilder(randomEvent(random, i)).setTcp(null).build());
    }
    assertThat(org.apache.avro.SchemaNormalization.parsingFingerprint64(RequestReader.BEFORE_TCP_EVENT_SCHEMA))
        .isEqualTo(RequestReader.BEFORE_TCP_LAYOUT_FINGERPRINT);
    assertThat(org.apache.avro.SchemaNormalization.parsingFingerprint64(RequestReader.BEFORE_TCP_BATCH_SCHEMA))
        .isEqualTo(RequestReader.BEFORE_TCP_BATCH_LAYOUT_FINGERPRINT);
    RequestReader reader = new RequestReader();
    byte[] batch = Requests.asBatchBeforeTcp(Requests.batch(events));
    assertThat(Arrays.copyOfRange(batch, 2, 10)).isNotEqualTo(Arrays.copyOfRange(batchBytes(events), 2, 10));
    assertThat(reader.readFast(batch)).isTrue();
    for (boolean fast : new boolean[] {true, false}) {
      assertThat(fast ? reader.read("t", batch) : reader.readSlow("t", batch)).isEqualTo(9);
      for (int i = 0; i < 9; i++) {
        assertSameAsAvro(reader.call(i), events.get(i), "fast " + fast + ", event " + i);
        // rerouted alone: a record the reader reads again as the same event
        byte[] alone = reader.eventBytes(i);
        RequestReader again = new RequestReader();
        assertThat(again.read("t", alone)).isEqualTo(1);
        assertSameAsAvro(again.call(0), events.get(i), "alone " + i);
      }
    }
    for (RequestEvent e : events) {
      byte[] one = Requests.asEventBeforeTcp(e);
      assertThat(reader.readFast(one)).isTrue();
      for (boolean fast : new boolean[] {true, false}) {
        assertThat(fast ? reader.read("t", one) : reader.readSlow("t", one)).isEqualTo(1);
        assertSameAsAvro(reader.call(0), e, "single, fast " + fast);
        assertThat(reader.eventBytes(0)).isSameAs(one);
      }
    }
    // a loss-only record before tcp: the loss report is the same
    LossReport report = Requests.lossReport("default", "a", "v1", "b", "v1", Reporter.SOURCE, 7, T0);
    byte[] lossOnly = Requests.asBatchBeforeTcp(Requests.lossOnly(report));
    for (boolean fast : new boolean[] {true, false}) {
      assertThat(fast ? reader.read("t", lossOnly) : reader.readSlow("t", lossOnly)).isEqualTo(1);
      assertThat(reader.call(0).lossReport).isTrue();
      assertThat(reader.call(0).droppedBefore).isEqualTo(7);
    }
    byte[] truncatedBatch = Arrays.copyOf(batch, batch.length - 3);
    assertThatThrownBy(() -> reader.read("t", truncatedBatch))
        .isInstanceOf(SerializationException.class).hasMessageContaining("RequestEventBatch (before tcp)");
    byte[] truncatedEvent = Arrays.copyOf(Requests.asEventBeforeTcp(events.get(0)), 30);
    assertThatThrownBy(() -> reader.read("t", truncatedEvent))
        .isInstanceOf(SerializationException.class).hasMessageContaining("RequestEvent (before tcp)");
  }

  @Test
  void givesEachEventOfABatchAsASingleEventWithItsOwnBytes() {
    SplittableRandom random = new SplittableRandom(17);
    RequestReader reader = new RequestReader();
    List<RequestEvent> events = List.of(randomEvent(random, 0), randomEvent(random, 1), randomEvent(random, 2));
    assertThat(reader.read("t", batchBytes(events))).isEqualTo(3);
    for (int i = 0; i < 3; i++) {
      assertThat(Requests.SINGLE.decode("t", reader.eventBytes(i))).isEqualTo(events.get(i));
      assertThat(reader.eventBytes(i)).isEqualTo(single(events.get(i)));
    }
  }

  @Test
  void refusesATruncatedOrCorruptBatchWholeWithTheSerdesMessage() {
    RequestReader reader = new RequestReader();
    byte[] bytes = batchBytes(List.of(
        request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0, "UH"),
        request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0)));
    for (int cut = 11; cut < bytes.length; cut++) {
      byte[] truncated = Arrays.copyOf(bytes, cut);
      assertThatThrownBy(() -> reader.read("t", truncated)).as("cut at %d", cut)
          .isInstanceOf(SerializationException.class).hasMessageContaining("RequestEventBatch");
    }
    byte[] trailing = Arrays.copyOf(bytes, bytes.length + 1);
    assertThat(reader.readFast(trailing)).isFalse();
    byte[] hugeCount = bytes.clone();
    hugeCount[AvroSerde.HEADER_BYTES] = 0x7e; // 63 events claimed, 2 there
    assertThatThrownBy(() -> reader.read("t", hugeCount))
        .isInstanceOf(SerializationException.class).hasMessageContaining("RequestEventBatch");
  }

  @Test
  void marksTheEventOfABatchWithAnEdgeKeySeparatorInANameAndReadsTheRestOnBothPaths() {
    RequestEvent arrow = request("default", "productpage", "v1", "reviews", "v2->x", 200, 5, T0);
    RequestEvent slash = request("default", "product/page", "v1", "reviews", "v2", 200, 5, T0);
    RequestEvent at = request("default@east", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    RequestEvent good = request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0);
    byte[] bytes = batchBytes(List.of(good, arrow, slash, at, good));
    RequestReader reader = new RequestReader();
    for (boolean fast : new boolean[] {true, false}) {
      assertThat(fast ? reader.read("t", bytes) : reader.readSlow("t", bytes)).isEqualTo(5);
      assertThat(reader.call(1).invalid).startsWith("events[1]: destination.version: 'v2->x' (expected: no '/', '@' or '->'");
      assertThat(reader.call(2).invalid).startsWith("events[2]: source.service: 'product/page' (expected: no '/'");
      assertThat(reader.call(3).invalid).startsWith("events[3]: source.namespace: 'default@east' (expected: no '/'");
      for (int i : new int[] {0, 4}) {
        assertThat(reader.call(i).invalid).isNull();
        assertThat(reader.call(i).edge.edge()).isEqualTo(Edge.of(good));
      }
    }
  }

  @Test
  void marksTheEventOfABatchWithANameLongerThanTheLimitAndReadsTheRestOnBothPaths() {
    RequestEvent bad = request("default", "productpage", "v1", "r".repeat(1025), "v2", 200, 5, T0);
    RequestEvent good = request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0);
    byte[] bytes = batchBytes(List.of(good, bad, good));
    RequestReader reader = new RequestReader();
    for (boolean fast : new boolean[] {true, false}) {
      assertThat(fast ? reader.read("t", bytes) : reader.readSlow("t", bytes)).isEqualTo(3);
      assertThat(reader.call(1).invalid)
          .isEqualTo("events[1]: destination.service: 1025 characters (expected: at most 1024)");
      assertThat(reader.call(1).edge).isNull();
      assertThat(Requests.SINGLE.decode("t", reader.eventBytes(1))).isEqualTo(bad); // it alone, as it was
      for (int i : new int[] {0, 2}) {
        assertThat(reader.call(i).invalid).isNull();
        assertThat(reader.call(i).edge.edge()).isEqualTo(Edge.of(good));
        assertThat(reader.call(i).responseCode).isEqualTo(503);
      }
    }
    // the next record's calls start clean
    assertThat(reader.read("t", batchBytes(List.of(good, good)))).isEqualTo(2);
    assertThat(reader.call(1).invalid).isNull();
  }

  /** What {@code reader} reads of {@code bytes}, event by event, against Avro's own decoding. */
  private static void assertReadsAsAvroDoes(RequestReader reader, byte[] bytes, String what) {
    List<RequestEvent> decoded = Topics.TELEMETRY_REQUESTS.deserializeValue(bytes).getEvents();
    assertThat(reader.read(Topics.TELEMETRY_REQUESTS.name(), bytes)).as(what).isEqualTo(decoded.size());
    for (int i = 0; i < decoded.size(); i++) {
      assertSameAsAvro(reader.call(i), decoded.get(i), what + ", event " + i);
      assertThat(Topics.TELEMETRY_REQUESTS.deserializeValue(reader.eventBytes(i)).getEvents())
          .as(what + ", event " + i + " alone").containsExactly(decoded.get(i));
    }
  }

  private static void assertSameAsAvro(RequestReader.Call call, RequestEvent e, String what) {
    assertThat(call.countsOnce()).as("counts %s: %s", what, e).isEqualTo(TelemetryTopology.countsOnce(e));
    if (call.duplicate && e.getDroppedBefore() <= 0) {
      assertThat(call.edge).isNull();
    } else { // a duplicate report that reports a loss has its edge: the loss counts
      assertThat(call.edge.edge()).as(what).isEqualTo(Edge.of(e));
      assertThat(call.edge.topicKey()).as(what).isEqualTo(Requests.key(e));
    }
    assertThat(call.reporter).as(what).isEqualTo(e.getReporter());
    assertThat(call.responseCode).as(what).isEqualTo(e.getResponseCode());
    assertThat(call.responseFlags).as(what).containsExactlyElementsOf(
        e.getResponseFlags().stream().map(CharSequence::toString).toList());
    assertThat(call.requestBytes).as(what).isEqualTo(e.getRequestBytes());
    assertThat(call.responseBytes).as(what).isEqualTo(e.getResponseBytes());
    assertThat(call.durationMicros).as(what).isEqualTo(e.getDurationMicros());
    assertThat(call.startMillis).as(what).isEqualTo(EdgeAggregation.eventTime(e).toEpochMilli());
    assertThat(call.droppedBefore).as(what).isEqualTo(e.getDroppedBefore());
    assertThat(call.tcp).as(what).isEqualTo(e.getTcp() != null);
    if (e.getTcp() != null) {
      assertThat(call.tcpOpened).as(what).isEqualTo(e.getTcp().getOpened());
      assertThat(call.tcpClosed).as(what).isEqualTo(e.getTcp().getClosed());
    }
  }

  /**
   * A batch of {@code events} in Avro blocks of the given sizes, each with its byte size (a
   * negative count) or without, as other Avro writers may write arrays.
   */
  private static byte[] inBlocks(List<RequestEvent> events, int[] blocks, boolean sized) {
    byte[] header = Arrays.copyOf(batchBytes(events), AvroSerde.HEADER_BYTES);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(header);
    int next = 0;
    for (int n : blocks) {
      ByteArrayOutputStream items = new ByteArrayOutputStream();
      for (int i = 0; i < n; i++) {
        byte[] one = single(events.get(next++));
        items.write(one, AvroSerde.HEADER_BYTES, one.length - AvroSerde.HEADER_BYTES);
      }
      writeLong(out, sized ? -n : n);
      if (sized) {
        writeLong(out, items.size());
      }
      out.writeBytes(items.toByteArray());
    }
    writeLong(out, 0);
    writeLong(out, 0); // lossReport: null
    return out.toByteArray();
  }

  private static void writeLong(ByteArrayOutputStream out, long v) {
    long z = (v << 1) ^ (v >> 63);
    while ((z & ~0x7fL) != 0) {
      out.write((int) ((z & 0x7f) | 0x80));
      z >>>= 7;
    }
    out.write((int) z);
  }

  @Test
  void internsTheEdgeOfTheSameWorkloads() {
    RequestReader reader = new RequestReader();
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    RequestReader.EdgeRef first = one(reader, single(e)).edge;
    RequestReader.EdgeRef second = one(reader, batchBytes(List.of(
        RequestEvent.newBuilder(e).setResponseCode(503).setRequestId("other").build()))).edge;
    assertThat(second).isSameAs(first);
  }

  @Test
  void givesTheEventsOfABatchTheirOwnEdgesWhetherTheSameAsTheLastOrNot() {
    RequestReader reader = new RequestReader();
    RequestEvent v1 = request("default", "productpage", "v1", "reviews", "v1", 200, 5, T0);
    RequestEvent v2 = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    RequestEvent duplicate = RequestEvent.newBuilder(v2).setReporter(Reporter.DESTINATION).build();
    assertThat(reader.read("t", batchBytes(List.of(v1, v1, v2, duplicate, v2, v1)))).isEqualTo(6);
    assertThat(reader.call(0).edge.edge()).isEqualTo(Edge.of(v1));
    assertThat(reader.call(1).edge).isSameAs(reader.call(0).edge);
    assertThat(reader.call(2).edge.edge()).isEqualTo(Edge.of(v2));
    assertThat(reader.call(3).edge).isNull();
    assertThat(reader.call(4).edge).isSameAs(reader.call(2).edge);
    assertThat(reader.call(5).edge).isSameAs(reader.call(0).edge);
    RequestReader.EdgeRef first = reader.call(0).edge;
    // the next record starts afresh: a name over the limit is still refused in its first event
    byte[] tooLong = batchBytes(List.of(request("default", "productpage", "v1", "r".repeat(1025), "v1", 200, 5, T0)));
    assertThat(reader.read("t", tooLong)).isEqualTo(1);
    assertThat(reader.call(0).invalid).startsWith("events[0]: destination.service: 1025 characters");
    assertThat(one(reader, single(v1)).edge).isSameAs(first); // still interned across records
  }

  @Test
  void findsEachEventsEdgeInABatchOfMoreVersionsThanItKeepsAtHand() {
    // more distinct edges than the reader compares an event with before it looks the edge up,
    // in an order that moves them to the front, pushes the oldest out and brings them back
    RequestReader reader = new RequestReader();
    int versions = RequestReader.RECENT_EDGES + 3;
    SplittableRandom random = new SplittableRandom(17);
    List<RequestEvent> events = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      int v = i < 2 * versions ? i % versions : random.nextInt(versions);
      events.add(request("default", "productpage", "v1", "reviews", "v" + v, 200, 5, T0));
    }
    assertThat(reader.read("t", batchBytes(events))).isEqualTo(events.size());
    java.util.Map<Edge, RequestReader.EdgeRef> seen = new java.util.HashMap<>();
    for (int i = 0; i < events.size(); i++) {
      RequestReader.EdgeRef ref = reader.call(i).edge;
      assertThat(ref.edge()).as("event %d", i).isEqualTo(Edge.of(events.get(i)));
      assertThat(seen.computeIfAbsent(ref.edge(), e -> ref)).as("event %d interned", i).isSameAs(ref);
    }
    assertThat(seen).hasSize(versions);
  }

  @Test
  void readsEveryFlagRightBeyondTheFlagsItKeepsAndReusesTheKeptOnes() {
    RequestReader reader = new RequestReader();
    java.util.Map<String, String> first = new java.util.HashMap<>();
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < RequestReader.MAX_CACHED_FLAGS + 40; i++) {
        String flag = i % 7 == 0 ? "ü" + i : i % 11 == 0 ? "X".repeat(40 + i) : "F" + i;
        RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0, flag, "UH");
        RequestReader.Call call = one(reader, single(e));
        assertThat(call.responseFlags).containsExactly(flag, "UH");
        String read = call.responseFlags.get(0);
        if (round == 0) {
          first.put(flag, read);
        } else if (i < RequestReader.MAX_CACHED_FLAGS - 1 && flag.length() <= 32) {
          assertThat(read).as("flag %s read again", flag).isSameAs(first.get(flag));
        }
      }
    }
  }

  @Test
  void refusesTruncatedAndForeignBytesWithTheSerdesMessage() {
    RequestReader reader = new RequestReader();
    byte[] bytes = single(
        request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0, "UH"));
    for (int cut = 11; cut < bytes.length; cut++) {
      byte[] truncated = Arrays.copyOf(bytes, cut);
      assertThatThrownBy(() -> reader.read("t", truncated)).as("cut at %d", cut)
          .isInstanceOf(SerializationException.class).hasMessageContaining("RequestEvent");
    }
    assertThatThrownBy(() -> reader.read("t", new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}))
        .isInstanceOf(SerializationException.class).hasMessageContaining("not Avro single-object encoding");
  }

  @Test
  void readsADestinationsDuplicateReportWithoutItsEdgeAndCountsAnOutsideCallersReport() {
    RequestReader reader = new RequestReader();
    RequestEvent sourceReport = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    RequestEvent duplicate = RequestEvent.newBuilder(sourceReport).setReporter(Reporter.DESTINATION).build();
    RequestReader.Call call = one(reader, single(duplicate));
    assertThat(call.countsOnce()).isFalse();
    assertThat(call.edge).isNull();
    for (String caller : new String[] {"", "unknown"}) {
      RequestEvent outside = RequestEvent.newBuilder(duplicate)
          .setSource(Requests.workload("default", caller, "v1")).build();
      call = one(reader, single(outside));
      assertThat(call.countsOnce()).as("caller '%s'", caller).isTrue();
      assertThat(call.edge.edge()).isEqualTo(Edge.of(outside));
    }
    call = one(reader, single(sourceReport));
    assertThat(call.countsOnce()).isTrue();
    assertThat(call.edge.edge()).isEqualTo(Edge.of(sourceReport));
  }

  @Test
  void readsTheLossOnTheFirstEventOfABatchAndZeroOnTheRest() {
    RequestReader reader = new RequestReader();
    RequestEvent first = RequestEvent.newBuilder(
        request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0)).setDroppedBefore(1_234).build();
    RequestEvent next = request("default", "productpage", "v1", "reviews", "v3", 200, 5, T0.plusMillis(1));
    assertThat(reader.read("t", batchBytes(List.of(first, next, next)))).isEqualTo(3);
    assertThat(reader.call(0).droppedBefore).isEqualTo(1_234);
    assertThat(reader.call(0).reportsLoss()).isTrue();
    assertThat(reader.call(1).droppedBefore).isZero();
    assertThat(reader.call(1).reportsLoss()).isFalse();
    assertThat(reader.call(2).reportsLoss()).isFalse();
  }

  @Test
  void looksUpTheEdgeOfADestinationsDuplicateReportOnlyWhenItReportsALoss() {
    RequestReader reader = new RequestReader();
    RequestEvent duplicate = RequestEvent.newBuilder(
        request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0)).setReporter(Reporter.DESTINATION).build();
    assertThat(one(reader, single(duplicate)).edge).isNull();
    RequestReader.Call lossy = one(reader, single(RequestEvent.newBuilder(duplicate).setDroppedBefore(7).build()));
    assertThat(lossy.countsOnce()).isFalse();
    assertThat(lossy.reportsLoss()).isTrue();
    assertThat(lossy.edge.edge()).isEqualTo(Edge.of(duplicate));
    // a negative count (no proxy writes one) is no loss
    RequestReader.Call negative = one(reader, single(RequestEvent.newBuilder(duplicate).setDroppedBefore(-5).build()));
    assertThat(negative.reportsLoss()).isFalse();
    assertThat(negative.edge).isNull();
  }

  @Test
  void readsAnEventOfRelease010WhichHasNoLossFieldAsNoLoss() throws Exception {
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0);
    byte[] old = Requests.asRelease010(e);
    assertThat(Arrays.copyOfRange(old, 2, 10)).as("another fingerprint than the current schema's")
        .isNotEqualTo(Arrays.copyOfRange(single(e), 2, 10));
    RequestReader reader = new RequestReader();
    RequestReader.Call call = one(reader, old);
    assertThat(call.droppedBefore).isZero();
    assertThat(call.responseCode).isEqualTo(503);
    assertThat(call.edge.edge()).isEqualTo(Edge.of(e));
  }

  @Test
  void refusesADestinationsDuplicateReportWithANameLongerThanTheLimit() {
    RequestReader reader = new RequestReader();
    byte[] bytes = single(RequestEvent.newBuilder(
        request("default", "productpage", "v1", "r".repeat(1025), "v2", 200, 5, T0))
        .setReporter(Reporter.DESTINATION).build());
    assertThatThrownBy(() -> reader.read("t", bytes))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("destination.service: 1025 characters (expected: at most 1024)");
  }

  @Test
  void refusesANameLongerThanTheLimit() {
    RequestReader reader = new RequestReader();
    byte[] bytes = single(
        request("default", "productpage", "v1", "r".repeat(1025), "v2", 200, 5, T0));
    assertThatThrownBy(() -> reader.read("t", bytes))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("destination.service: 1025 characters (expected: at most 1024)");
  }

  /** Reads a record of one event and returns it. */
  private static RequestReader.Call one(RequestReader reader, byte[] bytes) {
    assertThat(reader.read("t", bytes)).isEqualTo(1);
    return reader.call(0);
  }

  private static RequestEvent randomEvent(SplittableRandom random, int i) {
    List<String> flags = switch (random.nextInt(4)) {
      case 0 -> List.of();
      case 1 -> List.of("UH");
      case 2 -> List.of("UH", "URX", "-");
      default -> List.of("");
    };
    return RequestEvent.newBuilder()
        .setRequestId(Long.toHexString(random.nextLong()))
        .setTraceId(random.nextBoolean() ? "" : "4bf92f3577b34da6a3ce929d0e0e4736")
        .setReporter(Reporter.values()[random.nextInt(Reporter.values().length)])
        .setProxyId("proxy-" + i)
        .setSource(workload(random, "src"))
        .setDestination(workload(random, "dst"))
        .setProtocol("HTTP/1.1").setMethod("GET").setAuthority("reviews:9080").setPath("/p/" + i)
        .setRoute(random.nextBoolean() ? "" : "r")
        .setResponseCode(random.nextInt(-1, 600))
        .setGrpcStatus(random.nextBoolean() ? null : random.nextInt(0, 17))
        .setResponseFlags(flags)
        .setMtls(random.nextBoolean())
        .setRetries(random.nextInt(0, 3))
        .setRequestBytes(random.nextLong(0, 1L << 40))
        .setResponseBytes(random.nextLong(0, 1L << 40))
        .setDurationMicros(random.nextLong(0, 1L << 35))
        .setStartTime(T0.plusNanos(1000 * random.nextLong(-1L << 40, 1L << 40)))
        .setDroppedBefore(random.nextLong(0, 100))
        .setTcp(random.nextInt(3) != 0 ? null : dev.meshlog.events.telemetry.TcpReport.newBuilder()
            .setOpened(random.nextBoolean()).setClosed(random.nextBoolean()).build())
        .build();
  }

  private static Workload workload(SplittableRandom random, String prefix) {
    return Workload.newBuilder()
        .setWorkload(prefix + "-" + random.nextInt(3))
        .setService(random.nextInt(5) == 0 ? "" : prefix + random.nextInt(3))
        .setVersion("v" + random.nextInt(3))
        .setNamespace(random.nextBoolean() ? "default" : "ünïcode")
        .setCluster("c" + random.nextInt(2))
        .setZone("")
        .setPrincipal(random.nextBoolean() ? null : "spiffe://cluster.local/ns/default/sa/" + prefix)
        .build();
  }
}
