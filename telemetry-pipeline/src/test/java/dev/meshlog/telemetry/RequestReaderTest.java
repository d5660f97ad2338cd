package dev.meshlog.telemetry;

import static dev.meshlog.telemetry.Requests.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
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
    assertThat(RequestReader.FAST_PATH).isTrue();
  }

  @Test
  void readsTheSameFieldsAsTheFullAvroDecodingOnTheFastPath() {
    SplittableRandom random = new SplittableRandom(7);
    RequestReader reader = new RequestReader();
    for (int i = 0; i < 2_000; i++) {
      RequestEvent e = randomEvent(random, i);
      byte[] bytes = Topics.TELEMETRY_REQUESTS.serializeValue(e);
      assertThat(reader.readFast(bytes)).as("fast path for event %d: %s", i, e).isTrue();
      RequestReader.Call call = reader.read(Topics.TELEMETRY_REQUESTS.name(), bytes);
      assertThat(call.countsOnce()).as("counts event %d: %s", i, e).isEqualTo(TelemetryTopology.countsOnce(e));
      if (call.duplicate) {
        assertThat(call.edge).isNull();
      } else {
        assertThat(call.edge.edge()).isEqualTo(Edge.of(e));
        assertThat(call.edge.topicKey()).isEqualTo(Requests.key(e));
      }
      assertThat(call.reporter).isEqualTo(e.getReporter());
      assertThat(call.responseCode).isEqualTo(e.getResponseCode());
      assertThat(call.responseFlags).containsExactlyElementsOf(
          e.getResponseFlags().stream().map(CharSequence::toString).toList());
      assertThat(call.requestBytes).isEqualTo(e.getRequestBytes());
      assertThat(call.responseBytes).isEqualTo(e.getResponseBytes());
      assertThat(call.durationMicros).isEqualTo(e.getDurationMicros());
      assertThat(call.startMillis).isEqualTo(e.getStartTime().toEpochMilli());
    }
  }

  @Test
  void internsTheEdgeOfTheSameWorkloads() {
    RequestReader reader = new RequestReader();
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    RequestReader.EdgeRef first = reader.read(null, Topics.TELEMETRY_REQUESTS.serializeValue(e)).edge;
    RequestReader.EdgeRef second = reader.read(null, Topics.TELEMETRY_REQUESTS.serializeValue(
        RequestEvent.newBuilder(e).setResponseCode(503).setRequestId("other").build())).edge;
    assertThat(second).isSameAs(first);
  }

  @Test
  void readsEveryFlagRightBeyondTheFlagsItKeepsAndReusesTheKeptOnes() {
    RequestReader reader = new RequestReader();
    java.util.Map<String, String> first = new java.util.HashMap<>();
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < RequestReader.MAX_CACHED_FLAGS + 40; i++) {
        String flag = i % 7 == 0 ? "ü" + i : i % 11 == 0 ? "X".repeat(40 + i) : "F" + i;
        RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0, flag, "UH");
        RequestReader.Call call = reader.read("t", Topics.TELEMETRY_REQUESTS.serializeValue(e));
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
    byte[] bytes = Topics.TELEMETRY_REQUESTS.serializeValue(
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
    RequestReader.Call call = reader.read("t", Topics.TELEMETRY_REQUESTS.serializeValue(duplicate));
    assertThat(call.countsOnce()).isFalse();
    assertThat(call.edge).isNull();
    for (String caller : new String[] {"", "unknown"}) {
      RequestEvent outside = RequestEvent.newBuilder(duplicate)
          .setSource(Requests.workload("default", caller, "v1")).build();
      call = reader.read("t", Topics.TELEMETRY_REQUESTS.serializeValue(outside));
      assertThat(call.countsOnce()).as("caller '%s'", caller).isTrue();
      assertThat(call.edge.edge()).isEqualTo(Edge.of(outside));
    }
    call = reader.read("t", Topics.TELEMETRY_REQUESTS.serializeValue(sourceReport));
    assertThat(call.countsOnce()).isTrue();
    assertThat(call.edge.edge()).isEqualTo(Edge.of(sourceReport));
  }

  @Test
  void refusesADestinationsDuplicateReportWithANameLongerThanTheLimit() {
    RequestReader reader = new RequestReader();
    byte[] bytes = Topics.TELEMETRY_REQUESTS.serializeValue(RequestEvent.newBuilder(
        request("default", "productpage", "v1", "r".repeat(1025), "v2", 200, 5, T0))
        .setReporter(Reporter.DESTINATION).build());
    assertThatThrownBy(() -> reader.read("t", bytes))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("destination.service: 1025 characters (expected: at most 1024)");
  }

  @Test
  void refusesANameLongerThanTheLimit() {
    RequestReader reader = new RequestReader();
    byte[] bytes = Topics.TELEMETRY_REQUESTS.serializeValue(
        request("default", "productpage", "v1", "r".repeat(1025), "v2", 200, 5, T0));
    assertThatThrownBy(() -> reader.read("t", bytes))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("destination.service: 1025 characters (expected: at most 1024)");
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
