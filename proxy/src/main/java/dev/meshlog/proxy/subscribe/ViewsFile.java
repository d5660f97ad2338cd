package dev.meshlog.proxy.subscribe;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.schemas.Topics;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * Discovery views written by hand as JSON, for running a proxy without a control plane
 * ({@code --views-file}): a JSON array of objects with the {@code ServiceView} schema's fields,
 * where omitted fields take their schema defaults and a {@code ["null", X]} field is written as
 * {@code null} or a plain X. The views are encoded exactly as the views topic encodes them and
 * decoded by the topic's own decoder, so they are the same objects Kafka would deliver.
 */
public final class ViewsFile {

  private static final ObjectMapper JSON = new ObjectMapper();

  private ViewsFile() {}

  /** The views in {@code file}; the message names the field path of the first problem. */
  public static List<ServiceView> read(Path file) throws IOException {
    JsonNode root = JSON.readTree(Files.readString(file));
    if (root == null || !root.isArray()) {
      throw new IOException(file + ": expected a JSON array of views");
    }
    Schema schema = ServiceView.getClassSchema();
    BinaryMessageEncoder<GenericRecord> encoder =
        new BinaryMessageEncoder<>(GenericData.get(), schema);
    List<ServiceView> views = new ArrayList<>();
    for (int i = 0; i < root.size(); i++) {
      String at = "[" + i + "]";
      try {
        GenericRecord generic = (GenericRecord) value(schema, root.get(i), at);
        ByteBuffer bytes = encoder.encode(generic);
        byte[] array = new byte[bytes.remaining()];
        bytes.get(array);
        views.add(Topics.DISCOVERY_VIEWS.deserializeValue(array));
      } catch (IllegalArgumentException | AvroRuntimeException e) {
        throw new IOException(file + ": " + e.getMessage(), e);
      }
    }
    return views;
  }

  private static Object value(Schema schema, JsonNode node, String at) {
    switch (schema.getType()) {
      case RECORD -> {
        require(node.isObject(), at, "an object");
        GenericRecordBuilder b = new GenericRecordBuilder(schema);
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          Schema.Field f = schema.getField(e.getKey());
          if (f == null) {
            throw new IllegalArgumentException(at + "." + e.getKey() + ": unknown field of "
                + schema.getName());
          }
          b.set(f, value(f.schema(), e.getValue(), at + "." + f.name()));
        }
        for (Schema.Field f : schema.getFields()) {
          if (!node.has(f.name()) && !f.hasDefaultValue()) {
            throw new IllegalArgumentException(at + "." + f.name() + ": required");
          }
        }
        return b.build();
      }
      case UNION -> {
        if (node.isNull()) {
          require(schema.getTypes().stream().anyMatch(s -> s.getType() == Schema.Type.NULL),
              at, "a non-null value");
          return null;
        }
        List<Schema> others = schema.getTypes().stream()
            .filter(s -> s.getType() != Schema.Type.NULL).toList();
        require(others.size() == 1, at, "a union of null and one type");
        return value(others.get(0), node, at);
      }
      case ARRAY -> {
        require(node.isArray(), at, "an array");
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
          out.add(value(schema.getElementType(), node.get(i), at + "[" + i + "]"));
        }
        return out;
      }
      case MAP -> {
        require(node.isObject(), at, "an object");
        Map<String, Object> out = new HashMap<>();
        node.fields().forEachRemaining(e -> out.put(e.getKey(),
            value(schema.getValueType(), e.getValue(), at + "." + e.getKey())));
        return out;
      }
      case ENUM -> {
        require(node.isTextual() && schema.hasEnumSymbol(node.asText()), at,
            "one of " + schema.getEnumSymbols());
        return new GenericData.EnumSymbol(schema, node.asText());
      }
      case STRING -> {
        require(node.isTextual(), at, "a string");
        return node.asText();
      }
      case INT -> {
        require(node.isInt(), at, "an integer");
        return node.asInt();
      }
      case LONG -> {
        require(node.isIntegralNumber() && node.canConvertToLong(), at, "an integer");
        return node.asLong();
      }
      case DOUBLE, FLOAT -> {
        require(node.isNumber(), at, "a number");
        return schema.getType() == Schema.Type.DOUBLE ? (Object) node.asDouble()
            : (Object) (float) node.asDouble();
      }
      case BOOLEAN -> {
        require(node.isBoolean(), at, "true or false");
        return node.asBoolean();
      }
      default -> throw new IllegalArgumentException(at + ": " + schema.getType()
          + " fields are not supported in a views file");
    }
  }

  private static void require(boolean ok, String at, String expected) {
    if (!ok) {
      throw new IllegalArgumentException(at + ": expected " + expected);
    }
  }
}
