package dev.meshlog.config.resource;

import com.fasterxml.jackson.databind.JsonNode;

/** What one value in a resource may be: its type and constraints. */
@FunctionalInterface
interface Shape {

  /**
   * Adds to {@code problems} whatever is wrong with {@code value} found at {@code path}.
   * {@code value} is never Java null; a YAML {@code null} is handled by the enclosing object as an
   * absent field.
   */
  void check(JsonNode value, String path, Problems problems);
}
