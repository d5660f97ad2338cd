package dev.meshlog.config.api;

import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.model.Resource;

/** Reads the resources of an applied body (YAML, several documents) and checks them. */
@FunctionalInterface
public interface DocumentCheck {

  /**
   * What a body holds.
   *
   * @param resources the resources read, in document order
   * @param malformed errors of documents that are not resources at all (bad YAML, no kind, ...)
   * @param invalid errors of resources whose fields are wrong
   */
  record Checked(List<Resource> resources, List<ObjectNode> malformed, List<ObjectNode> invalid) {
    public Checked {
      resources = List.copyOf(resources);
      malformed = List.copyOf(malformed);
      invalid = List.copyOf(invalid);
    }
  }

  /**
   * Reads and checks {@code text}.
   *
   * @param sourceName names the body in errors
   */
  Checked check(String text, String sourceName);
}
