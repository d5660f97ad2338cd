package dev.meshlog.meshctl;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.client.CurrentResource;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.model.Kind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshctl get KIND [NAME]}: the current resources, as a table, YAML or JSON. */
@Command(name = "get", description = "Show current resources of a kind (the audit log folded).")
final class GetCommand extends MeshctlCommand {

  @Parameters(index = "0", paramLabel = "KIND", converter = KindConverter.class,
      description = "VirtualService, DestinationRule, ... (or vs, dr, se, gw, ...)")
  Kind kind;

  @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "One resource")
  String name;

  @Option(names = {"-n", "--namespace"}, defaultValue = "default",
      description = "Namespace (default: ${DEFAULT-VALUE})")
  String namespace;

  @Option(names = {"-A", "--all-namespaces"}, description = "Every namespace")
  boolean allNamespaces;

  @Option(names = {"-o", "--output"}, defaultValue = "table",
      description = "table, yaml or json (default: ${DEFAULT-VALUE})")
  Format output;

  @Override
  public Integer call() {
    List<CurrentResource> found = new ArrayList<>();
    try (MeshClient client = root().client()) {
      for (CurrentResource current : client.resources().values()) {
        if (current.id().kind().equals(kind.kindName())
            && (allNamespaces || current.id().namespace().equals(namespace))
            && (name == null || current.id().name().equals(name))) {
          found.add(current);
        }
      }
    }
    if (found.isEmpty()) {
      if (name != null) {
        err().println("error: " + kind.kindName() + "/" + namespace + "/" + name + " not found");
        return Meshctl.FAILED;
      }
      err().println("No resources found" + (allNamespaces ? "." : " in " + namespace + " namespace."));
      return Meshctl.OK;
    }
    out().print(render(found, output, allNamespaces, root().environment().clock().instant()));
    return Meshctl.OK;
  }

  /** The resources in {@code format}. */
  static String render(List<CurrentResource> resources, Format format, boolean withNamespace,
                       Instant now) {
    return switch (format) {
      case yaml -> Output.yaml(resources.stream().map(r -> r.resource().toDocument()).toList());
      case json -> {
        if (resources.size() == 1) {
          yield Output.json(resources.get(0).resource().toDocument());
        }
        ObjectNode list = JsonNodeFactory.instance.objectNode();
        list.put("apiVersion", "v1");
        list.put("kind", "List");
        resources.forEach(r -> list.withArray("items").add(r.resource().toDocument()));
        yield Output.json(list);
      }
      case table -> {
        List<String> headers = new ArrayList<>(List.of("NAME", "REVISION", "UPDATED-BY", "SOURCE", "AGE"));
        if (withNamespace) {
          headers.add(0, "NAMESPACE");
        }
        List<List<String>> rows = new ArrayList<>();
        for (CurrentResource r : resources) {
          List<String> row = new ArrayList<>(List.of(r.id().name(), Long.toString(r.revision()),
              r.actor(), Output.source(r.source()), Output.age(r.updatedAt(), now)));
          if (withNamespace) {
            row.add(0, r.id().namespace());
          }
          rows.add(row);
        }
        yield Output.table(headers, rows);
      }
    };
  }
}
