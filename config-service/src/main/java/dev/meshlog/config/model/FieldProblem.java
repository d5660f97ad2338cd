package dev.meshlog.config.model;

/**
 * One thing wrong with a resource: where ({@code spec.http[0].route[1].weight}), the value found
 * (or null), and what was expected ({@code "weight: 120 (expected: 0..100)"}).
 */
public record FieldProblem(String path, String value, String message) {

  /** A problem with no particular value. */
  public static FieldProblem of(String path, String message) {
    return new FieldProblem(path, null, message);
  }

  @Override
  public String toString() {
    return path + ": " + message;
  }
}
