package dev.meshlog.config;

import java.util.ArrayList;
import java.util.List;

import dev.meshlog.config.controlplane.CompiledDiscovery;
import dev.meshlog.config.controlplane.Discovery;
import dev.meshlog.config.controlplane.ResourceCheck;
import dev.meshlog.config.discovery.ViewCompiler;
import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.resource.ParsedDocument;
import dev.meshlog.config.resource.ResourceParser;
import dev.meshlog.config.resource.ResourceValidator;

/** The production parts of the control plane: how commands are checked and views compiled. */
public final class ConfigService {

  private ConfigService() {}

  /**
   * Checks a command's document with the same parser and validator as {@code meshctl apply}:
   * exactly one resource, every field supported and valid.
   */
  public static ResourceCheck resourceCheck() {
    ResourceParser parser = new ResourceParser();
    ResourceValidator validator = new ResourceValidator();
    return json -> {
      List<ParsedDocument> documents = parser.parse(json, "command.json", "default");
      if (documents.size() != 1) {
        return ResourceCheck.Result.invalid(List.of(FieldProblem.of("document",
            documents.size() + " documents (expected: exactly one resource per command)")));
      }
      ParsedDocument document = documents.get(0);
      if (document.hasProblems()) {
        return ResourceCheck.Result.invalid(document.problems());
      }
      List<FieldProblem> problems = new ArrayList<>(validator.validate(document.resource()));
      return problems.isEmpty() ? ResourceCheck.Result.valid(document.resource())
          : ResourceCheck.Result.invalid(problems);
    };
  }

  /** A fresh discovery model compiling views with the default root namespace. */
  public static Discovery discovery() {
    return new CompiledDiscovery(new ViewCompiler());
  }
}
