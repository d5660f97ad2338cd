package dev.meshlog.config.api;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.resource.ParsedDocument;
import dev.meshlog.config.resource.ResourceParser;
import dev.meshlog.config.resource.ResourceValidator;

/**
 * The API's {@link DocumentCheck}: documents are read by {@link ResourceParser} (errors name the
 * document's place, {@code request:12}) and resources checked by {@link ResourceValidator}
 * (errors name the resource, {@code VirtualService/default/reviews}).
 */
public final class ParsedDocuments implements DocumentCheck {

  private final ResourceParser parser;
  private final ResourceValidator validator;
  private final String defaultNamespace;

  /** Parses with the default parser and validator; resources without a namespace go to {@code default}. */
  public ParsedDocuments() {
    this(new ResourceParser(), new ResourceValidator(), "default");
  }

  /** Parses with the given parser and validator, into {@code defaultNamespace}. */
  public ParsedDocuments(ResourceParser parser, ResourceValidator validator, String defaultNamespace) {
    this.parser = parser;
    this.validator = validator;
    this.defaultNamespace = defaultNamespace;
  }

  @Override
  public Checked check(String text, String sourceName) {
    List<Resource> resources = new ArrayList<>();
    List<ObjectNode> malformed = new ArrayList<>();
    List<ObjectNode> invalid = new ArrayList<>();
    for (ParsedDocument document : parser.parse(text, sourceName, defaultNamespace)) {
      if (document.hasProblems()) {
        for (FieldProblem problem : document.problems()) {
          malformed.add(ApiJson.error(document.location(), problem));
        }
        continue;
      }
      List<FieldProblem> problems = validator.validate(document.resource());
      if (problems.isEmpty()) {
        resources.add(document.resource());
      } else {
        problems.forEach(p -> invalid.add(ApiJson.error(document.resource().id().key(), p)));
      }
    }
    return new Checked(resources, malformed, invalid);
  }
}
