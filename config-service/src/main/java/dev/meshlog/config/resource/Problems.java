package dev.meshlog.config.resource;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.meshlog.config.model.FieldProblem;

/** The problems found so far in one resource, and how paths and values are written in them. */
final class Problems {

  private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final int MAX_VALUE_CHARS = 60;

  private final List<FieldProblem> list = new ArrayList<>();

  /** Adds a problem as written. */
  void add(String path, String value, String message) {
    list.add(new FieldProblem(path, value, message));
  }

  /** {@code path: <value> (expected: <expected>)}. */
  void invalid(String path, JsonNode value, String expected) {
    invalid(path, text(value), expected);
  }

  /** {@code path: <value> (expected: <expected>)}. */
  void invalid(String path, String value, String expected) {
    add(path, value, value + " (expected: " + expected + ")");
  }

  /** {@code path: required}. */
  void required(String path) {
    add(path, null, "required");
  }

  /** How many problems have been found. */
  int size() {
    return list.size();
  }

  List<FieldProblem> toList() {
    return List.copyOf(list);
  }

  /** The path of field {@code name} of the object at {@code parent}: {@code spec.http}. */
  static String field(String parent, String name) {
    if (parent.isEmpty()) {
      return name;
    }
    return PLAIN_NAME.matcher(name).matches() ? parent + "." + name : key(parent, name);
  }

  /** The path of item {@code i} of the list at {@code parent}: {@code spec.http[0]}. */
  static String index(String parent, int i) {
    return parent + "[" + i + "]";
  }

  /** The path of entry {@code key} of the map at {@code parent}: {@code metadata.labels[app]}. */
  static String key(String parent, String key) {
    return parent + "[" + key + "]";
  }

  /** A string as the user would recognise it: as written, or {@code ""} when empty. */
  static String text(String value) {
    return value.isEmpty() ? "\"\"" : value;
  }

  /**
   * A value as the user would recognise it: strings unquoted (except the empty one), numbers and
   * booleans as written, objects and lists as short JSON.
   */
  static String text(JsonNode value) {
    if (value == null || value.isNull() || value.isMissingNode()) {
      return "null";
    }
    if (value.isTextual()) {
      return text(value.textValue());
    }
    if (value.isValueNode()) {
      return value.asText();
    }
    String json = value.toString();
    return json.length() <= MAX_VALUE_CHARS ? json : json.substring(0, MAX_VALUE_CHARS - 3) + "...";
  }
}
