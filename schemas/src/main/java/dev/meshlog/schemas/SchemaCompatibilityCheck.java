package dev.meshlog.schemas;

import java.util.ArrayList;
import java.util.List;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;

/**
 * Checks that a new version of a schema is backward compatible (new readers read old records) and
 * forward compatible (old readers read new records) with a released version, and says which field
 * breaks it when it is not.
 */
public final class SchemaCompatibilityCheck {

  /** One reason two schema versions are incompatible. */
  public record Problem(String schema, String direction, String field, String message) {
    @Override
    public String toString() {
      return schema + ": field " + field + ": " + message + " (" + direction + ")";
    }
  }

  private SchemaCompatibilityCheck() {}

  /**
   * Every incompatibility between {@code released} and {@code current}, in both directions;
   * empty when they are fully compatible.
   */
  public static List<Problem> check(Schema released, Schema current) {
    List<Problem> problems = new ArrayList<>();
    collect(problems, current.getFullName(), "backward: the new schema cannot read records the released one wrote",
        current, released);
    collect(problems, current.getFullName(), "forward: the released schema cannot read records the new one writes",
        released, current);
    return problems;
  }

  private static void collect(List<Problem> problems, String name, String direction, Schema reader,
                              Schema writer) {
    SchemaCompatibility.SchemaPairCompatibility result =
        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    for (Incompatibility incompatibility : result.getResult().getIncompatibilities()) {
      problems.add(new Problem(name, direction,
          fieldPath(reader, incompatibility.getLocation()),
          incompatibility.getType() + ": " + incompatibility.getMessage()));
    }
  }

  /**
   * Turns Avro's JSON-pointer location ({@code /fields/3/type/items/fields/0}) into a field path
   * a person can read ({@code errors[].path}), walking the reader schema.
   */
  static String fieldPath(Schema root, String pointer) {
    StringBuilder path = new StringBuilder();
    Schema schema = root;
    String[] parts = pointer.split("/");
    for (int i = 1; i < parts.length && schema != null; i++) {
      String part = parts[i];
      switch (part) {
        case "fields" -> {
          if (i + 1 >= parts.length) {
            return path.isEmpty() ? "(record)" : path.toString();
          }
          int index = Integer.parseInt(parts[++i]);
          Schema record = unwrap(schema);
          if (record.getType() != Schema.Type.RECORD || index >= record.getFields().size()) {
            return path + "/" + index;
          }
          Schema.Field field = record.getFields().get(index);
          if (!path.isEmpty()) {
            path.append('.');
          }
          path.append(field.name());
          schema = field.schema();
        }
        case "type", "name", "symbols", "size" -> { }
        case "items" -> {
          path.append("[]");
          schema = unwrap(schema).getElementType();
        }
        case "values" -> {
          path.append("{}");
          schema = unwrap(schema).getValueType();
        }
        default -> {
          if (schema.getType() == Schema.Type.UNION && part.matches("\\d+")) {
            schema = schema.getTypes().get(Integer.parseInt(part));
          }
        }
      }
    }
    return path.isEmpty() ? "(root)" : path.toString();
  }

  private static Schema unwrap(Schema schema) {
    if (schema.getType() == Schema.Type.UNION) {
      for (Schema branch : schema.getTypes()) {
        if (branch.getType() != Schema.Type.NULL) {
          return branch;
        }
      }
    }
    return schema;
  }
}
