package dev.meshlog.config.resource;

import java.util.List;
import java.util.Objects;

import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Resource;

/**
 * One document read from a YAML or JSON source: where it came from, and either the resource it
 * holds or the problems that kept it from being read (never both).
 *
 * @param source the file or other source it was read from, as given to the parser
 * @param index its position among the non-empty documents of the source, from 0
 * @param line the 1-based line of the source where the document's content starts
 * @param resource the resource, or null when there are problems
 * @param problems what is wrong with the document; empty when there is a resource
 */
public record ParsedDocument(String source, int index, int line, Resource resource, List<FieldProblem> problems) {

  public ParsedDocument {
    Objects.requireNonNull(source, "source");
    problems = problems == null ? List.of() : List.copyOf(problems);
    if ((resource == null) == problems.isEmpty()) {
      throw new IllegalArgumentException("a parsed document has either a resource or problems, not both or neither");
    }
  }

  /** A document that was read into {@code resource}. */
  public static ParsedDocument of(String source, int index, int line, Resource resource) {
    return new ParsedDocument(source, index, line, Objects.requireNonNull(resource, "resource"), List.of());
  }

  /** A document that could not be read. */
  public static ParsedDocument withProblems(String source, int index, int line, List<FieldProblem> problems) {
    return new ParsedDocument(source, index, line, null, problems);
  }

  /** Whether the document could not be read into a resource. */
  public boolean hasProblems() {
    return resource == null;
  }

  /** Where the document starts, as editors and compilers write it: {@code bookinfo.yaml:12}. */
  public String location() {
    return source + ":" + line;
  }
}
