package dev.meshlog.config.discovery;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;

import dev.meshlog.config.model.Durations;

/** Reading Istio-shaped specs: absent and null fields read as null, lists and maps as empty. */
final class Json {

  private Json() {}

  /**
   * {@code value}, which validation should have guaranteed.
   *
   * @throws IllegalArgumentException naming {@code path} when it is null
   */
  static <T> T required(T value, String path) {
    if (value == null) {
      throw new IllegalArgumentException(path + ": missing (expected a value)");
    }
    return value;
  }

  static JsonNode field(JsonNode node, String field) {
    JsonNode value = node == null ? null : node.get(field);
    return value == null || value.isNull() || value.isMissingNode() ? null : value;
  }

  static String text(JsonNode node, String field) {
    JsonNode value = field(node, field);
    return value == null ? null : value.asText();
  }

  static String text(JsonNode node, String field, String fallback) {
    String value = text(node, field);
    return value == null ? fallback : value;
  }

  static Integer integer(JsonNode node, String field) {
    JsonNode value = field(node, field);
    return value == null ? null : value.asInt();
  }

  static Long longValue(JsonNode node, String field) {
    JsonNode value = field(node, field);
    return value == null ? null : value.asLong();
  }

  static boolean bool(JsonNode node, String field, boolean fallback) {
    JsonNode value = field(node, field);
    return value == null ? fallback : value.asBoolean(fallback);
  }

  /** A duration field ({@code 10s}, {@code 250ms}) in milliseconds. */
  static Long millis(JsonNode node, String field) {
    String value = text(node, field);
    return value == null ? null : Durations.parse(value).toMillis();
  }

  static List<JsonNode> items(JsonNode node, String field) {
    JsonNode value = field(node, field);
    List<JsonNode> out = new ArrayList<>();
    if (value != null && value.isArray()) {
      value.forEach(out::add);
    }
    return out;
  }

  static List<String> strings(JsonNode node, String field) {
    return items(node, field).stream().map(JsonNode::asText).toList();
  }

  /** A map of strings, ordered by key so that equal specs give equal views. */
  static Map<String, String> stringMap(JsonNode node, String field) {
    Map<String, String> out = new TreeMap<>();
    JsonNode value = field(node, field);
    if (value != null && value.isObject()) {
      value.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    }
    return out;
  }
}
