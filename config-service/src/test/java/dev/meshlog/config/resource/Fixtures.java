package dev.meshlog.config.resource;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;

/** Resources for tests, written as users write them, and the problems a user would see. */
final class Fixtures {

  static final ResourceParser PARSER = new ResourceParser();
  static final ResourceValidator VALIDATOR = new ResourceValidator();

  private Fixtures() {}

  /** {@code src/test/resources/resources}: one valid example of every kind. */
  static Path examples() {
    try {
      return Path.of(Fixtures.class.getResource("/resources").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The single resource in {@code yaml}, which must parse. */
  static Resource resource(String yaml) {
    List<ParsedDocument> documents = PARSER.parse(yaml, "test.yaml", "default");
    assertThat(documents).hasSize(1);
    assertThat(documents.get(0).problems()).isEmpty();
    return documents.get(0).resource();
  }

  /** What the validator says about the single resource in {@code yaml}, as {@code path: message}. */
  static List<String> problems(String yaml) {
    return lines(VALIDATOR.validate(resource(yaml)));
  }

  /** What the validator says about a resource of {@code kind} with {@code spec} (YAML, unindented). */
  static List<String> specProblems(Kind kind, String spec) {
    return problems("apiVersion: " + kind.group() + "/v1\n"
        + "kind: " + kind.kindName() + "\n"
        + "metadata:\n"
        + "  name: test\n"
        + "spec:\n"
        + spec.indent(2));
  }

  /** What the parser says about the single document in {@code yaml}. */
  static List<String> parseProblems(String yaml) {
    List<ParsedDocument> documents = PARSER.parse(yaml, "test.yaml", "default");
    assertThat(documents).hasSize(1);
    return lines(documents.get(0).problems());
  }

  static List<String> lines(List<FieldProblem> problems) {
    return problems.stream().map(FieldProblem::toString).toList();
  }
}
