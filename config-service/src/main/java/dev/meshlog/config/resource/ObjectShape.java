package dev.meshlog.config.resource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An object with a whitelist of fields: those Meshlog supports (each with its shape), those Istio
 * has but Meshlog rejects ("not supported"), and rules across fields. Any other field is unknown.
 * A field set to YAML {@code null} counts as absent, except that an unsupported or unknown field is
 * reported whatever its value.
 */
final class ObjectShape implements Shape {

  /** A check across the fields of one object (for example "exactly one of route, redirect"). */
  @FunctionalInterface
  interface Rule {
    void check(ObjectNode object, String path, Problems problems);
  }

  /** A rule and the fields it is about: it is skipped when an unsupported field stands for one. */
  private record FieldRule(Set<String> about, Rule rule) {}

  private final Map<String, Shape> fields;
  private final List<String> required;
  private final Map<String, String> notSupported;
  /** Unsupported fields that Istio takes in place of supported ones, and those fields. */
  private final Map<String, Set<String>> standsFor;
  private final List<FieldRule> rules;
  /** The supported fields, in declaration order, as listed in "unknown field" messages. */
  private final String fieldList;

  private ObjectShape(Builder builder) {
    this.fields = Map.copyOf(builder.fields);
    this.required = builder.fields.keySet().stream().filter(builder.required::contains).toList();
    this.notSupported = Map.copyOf(builder.notSupported);
    this.standsFor = Map.copyOf(builder.standsFor);
    this.rules = List.copyOf(builder.rules);
    this.fieldList = String.join(", ", builder.fields.keySet());
  }

  static Builder object() {
    return new Builder();
  }

  @Override
  public void check(JsonNode value, String path, Problems problems) {
    if (!value.isObject()) {
      problems.invalid(path, value, "an object with fields " + fieldList);
      return;
    }
    // What an unsupported field stands in for is not missing: "grpcStatus: not supported" is the
    // problem, "httpStatus: required" only its echo.
    Set<String> replaced = new java.util.HashSet<>();
    for (Map.Entry<String, JsonNode> entry : value.properties()) {
      String name = entry.getKey();
      replaced.addAll(standsFor.getOrDefault(name, Set.of()));
      JsonNode fieldValue = entry.getValue();
      String at = Problems.field(path, name);
      Shape shape = fields.get(name);
      if (shape != null) {
        if (!fieldValue.isNull()) {
          shape.check(fieldValue, at, problems);
        }
      } else if (notSupported.containsKey(name)) {
        problems.add(at, Problems.text(fieldValue), notSupported.get(name));
      } else {
        problems.add(at, Problems.text(fieldValue), "unknown field (expected one of: " + fieldList + ")");
      }
    }
    for (String name : required) {
      if (!isSet(value, name) && !replaced.contains(name)) {
        problems.required(Problems.field(path, name));
      }
    }
    for (FieldRule rule : rules) {
      if (java.util.Collections.disjoint(rule.about(), replaced)) {
        rule.rule().check((ObjectNode) value, path, problems);
      }
    }
  }

  /** Whether {@code object} has field {@code name} with a non-null value. */
  static boolean isSet(JsonNode object, String name) {
    JsonNode value = object.get(name);
    return value != null && !value.isNull();
  }

  /** Builds an {@link ObjectShape}; fields are listed in the order users see in messages. */
  static final class Builder {
    private final Map<String, Shape> fields = new LinkedHashMap<>();
    private final Set<String> required = new LinkedHashSet<>();
    private final Map<String, String> notSupported = new LinkedHashMap<>();
    private final Map<String, Set<String>> standsFor = new LinkedHashMap<>();
    private final List<FieldRule> rules = new ArrayList<>();

    /** An optional supported field. */
    Builder field(String name, Shape shape) {
      fields.put(name, shape);
      return this;
    }

    /** A supported field that must be set. */
    Builder required(String name, Shape shape) {
      required.add(name);
      return field(name, shape);
    }

    /** Fields Istio has that Meshlog does not support. */
    Builder notSupported(String... names) {
      for (String name : names) {
        notSupported.put(name, "not supported");
      }
      return this;
    }

    /**
     * A field Istio has that Meshlog does not support, which Istio takes in place of {@code
     * fields} (a {@code delegate} instead of a {@code route}): when it is set, those fields are
     * not reported missing, nor the rules about them broken — its "not supported" is the one error.
     */
    Builder notSupportedInPlaceOf(String name, String message, String... fields) {
      notSupported.put(name, message);
      standsFor.put(name, Set.of(fields));
      return this;
    }

    /** A field Istio has that Meshlog does not support, and the supported field that replaces it. */
    Builder notSupportedUseInstead(String name, String replacement) {
      notSupported.put(name, "not supported (use " + replacement + ")");
      return this;
    }

    /** Exactly one of {@code names} must be set. */
    Builder exactlyOne(String... names) {
      return rule(names, (object, path, problems) -> {
        List<String> set = setAmong(object, names);
        if (set.size() != 1) {
          problems.add(path, String.join(", ", set),
              describe(set) + " (expected: exactly one of " + String.join(", ", names) + ")");
        }
      });
    }

    /** At most one of {@code names} may be set. */
    Builder atMostOne(String... names) {
      return rule(names, (object, path, problems) -> {
        List<String> set = setAmong(object, names);
        if (set.size() > 1) {
          problems.add(path, String.join(", ", set),
              describe(set) + " (expected: at most one of " + String.join(", ", names) + ")");
        }
      });
    }

    /** At least one of {@code names} must be set. */
    Builder atLeastOne(String... names) {
      return rule(names, (object, path, problems) -> {
        if (setAmong(object, names).isEmpty()) {
          problems.add(path, null, "none set (expected: at least one of " + String.join(", ", names) + ")");
        }
      });
    }

    /** {@code name} may not be set together with {@code other}. */
    Builder notWith(String name, String other) {
      return rule(new String[] {name, other}, (object, path, problems) -> {
        if (isSet(object, name) && isSet(object, other)) {
          problems.add(Problems.field(path, name), Problems.text(object.get(name)), "not allowed with " + other);
        }
      });
    }

    /** A check across fields, run after the fields themselves are checked. */
    Builder rule(Rule rule) {
      return rule(new String[0], rule);
    }

    private Builder rule(String[] about, Rule rule) {
      rules.add(new FieldRule(Set.of(about), rule));
      return this;
    }

    ObjectShape build() {
      return new ObjectShape(this);
    }

    private static List<String> setAmong(ObjectNode object, String[] names) {
      return Arrays.stream(names).filter(name -> isSet(object, name)).toList();
    }

    private static String describe(List<String> set) {
      return set.isEmpty() ? "none set" : String.join(" and ", set) + " set";
    }
  }
}
