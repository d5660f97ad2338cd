package dev.meshlog.telemetry;

import static dev.meshlog.telemetry.Requests.batchBytes;
import static dev.meshlog.telemetry.Requests.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.schemas.SchemaRegistry;
import dev.meshlog.schemas.Topics;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.schemas.AvroSerde;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A batch written by a proxy of a newer release (a field inserted mid-record in the batch and in
 * each event): the reader's fingerprint fast path does not know it and hands it to the serde,
 * which reads it once the registry holds its schema, and fails as before when it does not.
 */
class FutureRequestsTest {

  private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");
  private final List<RequestEvent> events = List.of(
      request("default", "productpage", "v1", "reviews", "v2", 200, 12.5, T0),
      request("default", "productpage", "v1", "reviews", "v2", 503, 40.0, T0.plusMillis(3)));

  @AfterEach
  void uninstall() {
    SchemaRegistry.install((org.apache.avro.message.SchemaStore) null);
  }

  @Test
  void readsANewerProxysBatchThroughTheSerdeOnceItsSchemaIsRegistered() {
    Schema future = future("proxyRelease", "upstreamCluster");
    long fingerprint = SchemaNormalization.parsingFingerprint64(future);
    SchemaRegistry.install(fp -> fp == fingerprint ? future : null);
    RequestReader reader = new RequestReader();

    assertThat(reader.read(Topics.TELEMETRY_REQUESTS.name(), futureBatch(future))).isEqualTo(2);

    assertThat(reader.call(0).decoded).isEqualTo(events.get(0));
    assertThat(reader.call(1).decoded).isEqualTo(events.get(1));
    assertThat(reader.call(1).responseCode).isEqualTo(503);
  }

  @Test
  void failsAsBeforeWhenTheSchemaIsNotRegistered() {
    Schema future = future("proxyVersion", "upstreamZone");
    SchemaRegistry.install(fp -> null);
    RequestReader reader = new RequestReader();

    assertThatThrownBy(() -> reader.read(Topics.TELEMETRY_REQUESTS.name(), futureBatch(future)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown schema fingerprint " + SchemaRegistry.key(
            SchemaNormalization.parsingFingerprint64(future)));
  }

  /**
   * The batch schema with a string field {@code batchField} first and {@code eventField} fourth
   * in each event (schemas' test jar has the same as {@code FutureSchemas}; this module does
   * not depend on it).
   */
  private static Schema future(String batchField, String eventField) {
    try {
      ObjectMapper json = new ObjectMapper();
      ObjectNode batch = (ObjectNode) json.readTree(RequestEventBatch.getClassSchema().toString());
      ((ArrayNode) batch.get("fields")).insert(0, json.createObjectNode().put("name", batchField)
          .put("type", "string").put("default", ""));
      JsonNode event = batch.get("fields").get(1).get("type").get("items");
      ((ArrayNode) event.get("fields")).insert(3, json.createObjectNode().put("name", eventField)
          .put("type", "string").put("default", ""));
      return new Schema.Parser().parse(json.writeValueAsString(batch));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** {@link #events} as a proxy writing {@code future} writes them. */
  @SuppressWarnings("unchecked")
  private byte[] futureBatch(Schema future) {
    byte[] current = batchBytes(events);
    try {
      GenericRecord batch = new GenericDatumReader<GenericRecord>(
          RequestEventBatch.getClassSchema(), future).read(null, DecoderFactory.get()
          .binaryDecoder(current, AvroSerde.HEADER_BYTES, current.length - AvroSerde.HEADER_BYTES,
              null));
      batch.put(0, "0.3.0");
      for (GenericRecord event : (List<GenericRecord>) batch.get("events")) {
        event.put(3, "c2");
      }
      java.nio.ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(),
          future).encode(batch);
      byte[] bytes = new byte[encoded.remaining()];
      encoded.get(bytes);
      return bytes;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
