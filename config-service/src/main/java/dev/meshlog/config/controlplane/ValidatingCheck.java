package dev.meshlog.config.controlplane;

import java.util.ArrayList;
import java.util.List;

import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.resource.ParsedDocument;
import dev.meshlog.config.resource.ResourceParser;
import dev.meshlog.config.resource.ResourceValidator;

/**
 * The control plane's real check: a command's document is read by {@link ResourceParser} (as
 * JSON, the way clients send it) and checked field by field by {@link ResourceValidator}.
 */
public final class ValidatingCheck implements ResourceCheck {

  private final ResourceParser parser;
  private final ResourceValidator validator;

  /** A check with the default parser and validator. */
  public ValidatingCheck() {
    this(new ResourceParser(), new ResourceValidator());
  }

  /** A check with the given parser and validator. */
  public ValidatingCheck(ResourceParser parser, ResourceValidator validator) {
    this.parser = parser;
    this.validator = validator;
  }

  @Override
  public Result check(String documentJson) {
    List<ParsedDocument> documents = parser.parse(documentJson, "document.json", "default");
    if (documents.size() != 1) {
      return Result.invalid(List.of(FieldProblem.of("document", documents.isEmpty()
          ? "empty (expected: one resource)" : documents.size() + " documents (expected: one)")));
    }
    ParsedDocument document = documents.get(0);
    if (document.hasProblems()) {
      return Result.invalid(document.problems());
    }
    List<FieldProblem> problems = new ArrayList<>(validator.validate(document.resource()));
    return problems.isEmpty() ? Result.valid(document.resource()) : Result.invalid(problems);
  }
}
