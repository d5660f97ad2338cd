package dev.meshlog.schemas;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.events.discovery.ServiceView;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * A schema of a release after this one, for tests of readers meeting a newer writer: the
 * current {@code ServiceView} with a new field (with a default) inserted in the middle of the
 * record, not appended, and a new symbol of the {@code EndpointHealth} enum.
 */
public final class FutureSchemas {

  /** The new field, inserted after {@code version}. */
  public static final String NEW_FIELD = "canaryBudget";
  /** The new {@code EndpointHealth} symbol. */
  public static final String NEW_SYMBOL = "TERMINATING";

  private static final ObjectMapper JSON = new ObjectMapper();

  private FutureSchemas() {}

  /** The future {@code ServiceView} schema. */
  public static Schema serviceView() {
    try {
      ObjectNode root = (ObjectNode) JSON.readTree(ServiceView.getClassSchema().toString());
      ArrayNode fields = (ArrayNode) root.get("fields");
      int at = 0;
      while (!fields.get(at).get("name").asText().equals("version")) {
        at++;
      }
      ObjectNode field = JSON.createObjectNode().put("name", NEW_FIELD).put("type", "string")
          .put("default", "");
      fields.insert(at + 1, field);
      ObjectNode health = findEnum(root, "EndpointHealth");
      ((ArrayNode) health.get("symbols")).add(NEW_SYMBOL);
      return new Schema.Parser().parse(JSON.writeValueAsString(root));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code view} as a writer of the future schema writes it (single-object encoding): the new
   * field set to {@code newField}, and the first endpoint's health the new symbol.
   */
  public static byte[] encodeServiceView(ServiceView view, String newField) {
    Schema future = serviceView();
    byte[] current = AvroSerde.of(ServiceView.class).encode(view);
    try {
      byte[] body = Arrays.copyOfRange(current, AvroSerde.HEADER_BYTES, current.length);
      GenericRecord record = new GenericDatumReader<GenericRecord>(ServiceView.getClassSchema(),
          future).read(null, DecoderFactory.get().binaryDecoder(body, null));
      record.put(NEW_FIELD, newField);
      @SuppressWarnings("unchecked")
      List<GenericRecord> endpoints = (List<GenericRecord>) record.get("endpoints");
      if (!endpoints.isEmpty()) {
        Schema health = endpoints.get(0).getSchema().getField("health").schema();
        endpoints.get(0).put("health", new GenericData.EnumSymbol(health, NEW_SYMBOL));
      }
      ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), future)
          .encode(record);
      byte[] bytes = new byte[encoded.remaining()];
      encoded.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode findEnum(JsonNode node, String name) {
    if (node.isObject() && "enum".equals(node.path("type").asText())
        && node.path("name").asText().endsWith(name)) {
      return (ObjectNode) node;
    }
    for (JsonNode child : node) {
      ObjectNode found = findEnum(child, name);
      if (found != null) {
        return found;
      }
    }
    return null;
  }
}
