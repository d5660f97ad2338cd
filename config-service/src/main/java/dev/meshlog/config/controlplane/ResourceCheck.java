package dev.meshlog.config.controlplane;

import java.util.List;

import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Resource;

/**
 * Turns a command's document (the resource as JSON) into a valid {@link Resource}, or says what
 * is wrong with it. The control plane judges every apply with it.
 */
@FunctionalInterface
public interface ResourceCheck {

  /** The outcome: a resource, or the problems (never both). */
  record Result(Resource resource, List<FieldProblem> problems) {

    /** A valid resource. */
    public static Result valid(Resource resource) {
      return new Result(resource, List.of());
    }

    /** An invalid document. */
    public static Result invalid(List<FieldProblem> problems) {
      return new Result(null, List.copyOf(problems));
    }

    /** Whether the document was valid. */
    public boolean ok() {
      return resource != null;
    }
  }

  /** Parses and validates {@code documentJson}. */
  Result check(String documentJson);
}
