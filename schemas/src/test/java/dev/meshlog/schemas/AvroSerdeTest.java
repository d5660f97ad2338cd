package dev.meshlog.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Map;

import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class AvroSerdeTest {

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"})
  void roundTripsOneValueOfEveryTopic() {
    for (Map.Entry<Topic<String, ?>, Map.Entry<String, Object>> sample :
        SampleEvents.oneOfEach().entrySet()) {
      Topic topic = sample.getKey();
      Object value = sample.getValue().getValue();
      byte[] bytes = topic.serializeValue(value);
      assertThat(topic.deserializeValue(bytes)).as(topic.name()).isEqualTo(value);
      assertThat(topic.deserializeKey(topic.serializeKey(sample.getValue().getKey())))
          .isEqualTo(sample.getValue().getKey());
    }
  }

  @Test
  void writesSingleObjectHeaderWithTheSchemaFingerprint() {
    AvroSerde<RequestEvent> serde = AvroSerde.of(RequestEvent.class);
    byte[] bytes = serde.encode(sampleRequest());
    assertThat(bytes[0] & 0xff).isEqualTo(0xC3);
    assertThat(bytes[1] & 0xff).isEqualTo(0x01);
    long fingerprint = java.nio.ByteBuffer.wrap(bytes, 2, 8)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(fingerprint).isEqualTo(serde.fingerprint());
  }

  @Test
  void readsASingleRequestEventOfAnEarlierReleaseAsABatchOfOne() {
    // Releases before batching wrote one RequestEvent per record: readers of the topic take both.
    RequestEvent event = sampleRequest();
    byte[] single = AvroSerde.of(RequestEvent.class).encode(event);
    assertThat(Topics.TELEMETRY_REQUESTS.deserializeValue(single).getEvents()).containsExactly(event);
    // and it writes batches, whose fingerprint is the batch schema's
    byte[] batch = Topics.TELEMETRY_REQUESTS.serializeValue(
        RequestEventBatch.newBuilder().setEvents(java.util.List.of(event, event)).build());
    long fingerprint = java.nio.ByteBuffer.wrap(batch, 2, 8)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(fingerprint).isEqualTo(AvroSerde.of(RequestEventBatch.class).fingerprint());
    assertThat(Topics.TELEMETRY_REQUESTS.deserializeValue(batch).getEvents())
        .containsExactly(event, event);
  }

  @Test
  void aCorruptSingleEventStillFailsWithTheSerdesMessage() {
    byte[] single = AvroSerde.of(RequestEvent.class).encode(sampleRequest());
    byte[] truncated = Arrays.copyOf(single, single.length - 3);
    assertThatThrownBy(() -> Topics.TELEMETRY_REQUESTS.deserializeValue(truncated))
        .isInstanceOf(SerializationException.class)
        .hasMessageStartingWith("mesh.telemetry.requests: RequestEvent: ");
  }

  @Test
  void anUnknownFingerprintNamesBothTypesTheTopicReads() {
    byte[] view = AvroSerde.of(ServiceView.class).encode((ServiceView) SampleEvents.oneOfEach()
        .get(Topics.DISCOVERY_VIEWS).getValue());
    assertThatThrownBy(() -> Topics.TELEMETRY_REQUESTS.deserializeValue(view))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("written with unknown schema fingerprint")
        .hasMessageContaining("(RequestEvent)");
  }

  private static RequestEvent sampleRequest() {
    return ((RequestEventBatch) SampleEvents.oneOfEach().get(Topics.TELEMETRY_REQUESTS).getValue())
        .getEvents().get(0);
  }

  @Test
  void nullIsATombstoneBothWays() {
    AvroSerde<ServiceView> serde = AvroSerde.of(ServiceView.class);
    assertThat(serde.encode(null)).isNull();
    assertThat(serde.decode("t", null)).isNull();
  }

  @Test
  @Timeout(10)
  void rejectsEveryTruncationOfAValidRecordWithAClearError() {
    AvroSerde<ServiceView> serde = AvroSerde.of(ServiceView.class);
    byte[] full = serde.encode((ServiceView) SampleEvents.oneOfEach()
        .get(Topics.DISCOVERY_VIEWS).getValue());
    for (int length = 0; length < full.length; length++) {
      byte[] truncated = Arrays.copyOf(full, length);
      assertThatThrownBy(() -> serde.decode("mesh.discovery.views", truncated))
          .as("truncated to %d bytes", length)
          .isInstanceOf(SerializationException.class)
          .hasMessageStartingWith("mesh.discovery.views: ServiceView: ");
    }
  }

  @Test
  void rejectsBytesThatAreNotSingleObjectEncoded() {
    AvroSerde<ServiceView> serde = AvroSerde.of(ServiceView.class);
    byte[] json = "{\"host\":\"reviews\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThatThrownBy(() -> serde.decode("mesh.discovery.views", json))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("not Avro single-object encoding (expected marker C3 01, found 7B 22)");
  }

  @Test
  void rejectsARecordWrittenWithAnUnknownSchema() {
    AvroSerde<ServiceView> views = AvroSerde.of(ServiceView.class);
    byte[] other = AvroSerde.of(RequestEvent.class).encode(sampleRequest());
    assertThatThrownBy(() -> views.decode("mesh.discovery.views", other))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("written with unknown schema fingerprint");
  }

  @Test
  @Timeout(10)
  void rejectsACorruptLengthPrefixWithoutAllocatingIt() {
    AvroSerde<ConfigRejection> serde = AvroSerde.of(ConfigRejection.class);
    byte[] valid = serde.encode((ConfigRejection) SampleEvents.oneOfEach()
        .get(Topics.CONFIG_REJECTIONS).getValue());
    // The body starts with commandId: a zig-zag varint length. Claim 512 MiB instead: over the
    // 8 MiB limit, so Avro refuses before allocating (the test heap is 768 MiB).
    byte[] huge = zigZagVarint(512L << 20);
    byte[] corrupt = new byte[AvroSerde.HEADER_BYTES + huge.length + 8];
    System.arraycopy(valid, 0, corrupt, 0, AvroSerde.HEADER_BYTES);
    System.arraycopy(huge, 0, corrupt, AvroSerde.HEADER_BYTES, huge.length);
    assertThatThrownBy(() -> serde.decode("mesh.config.rejections", corrupt))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("corrupt record")
        .hasMessageContaining("String length 536870912 exceeds maximum allowed");
  }

  private static byte[] zigZagVarint(long value) {
    long n = (value << 1) ^ (value >> 63);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    while ((n & ~0x7FL) != 0) {
      out.write((int) ((n & 0x7F) | 0x80));
      n >>>= 7;
    }
    out.write((int) n);
    return out.toByteArray();
  }

  @Test
  @Timeout(10)
  void rejectsACorruptCollectionCountWithoutAllocatingIt() {
    AvroSerde<ConfigRejection> serde = AvroSerde.of(ConfigRejection.class);
    ConfigRejection sample = (ConfigRejection) SampleEvents.oneOfEach()
        .get(Topics.CONFIG_REJECTIONS).getValue();
    ConfigRejection noErrors = ConfigRejection.newBuilder(sample)
        .setErrors(java.util.List.of()).build();
    byte[] valid = serde.encode(noErrors);
    // Find the empty errors array (a single 0 byte after the reason enum) and claim 2^30 items.
    byte[] prefix = AvroSerde.of(ConfigRejection.class).encode(noErrors);
    int commandIdEnd = AvroSerde.HEADER_BYTES + 1 + sample.getCommandId().length();
    int refLength = 1 + "VirtualService".length() + 1 + "default".length() + 1 + "reviews".length();
    int errorsAt = commandIdEnd + refLength + 1;
    assertThat(prefix[errorsAt]).isEqualTo((byte) 0);
    byte[] count = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08};
    byte[] corrupt = new byte[valid.length + count.length - 1];
    System.arraycopy(valid, 0, corrupt, 0, errorsAt);
    System.arraycopy(count, 0, corrupt, errorsAt, count.length);
    System.arraycopy(valid, errorsAt + 1, corrupt, errorsAt + count.length, valid.length - errorsAt - 1);
    assertThatThrownBy(() -> serde.decode("mesh.config.rejections", corrupt))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("ConfigRejection");
  }
}
