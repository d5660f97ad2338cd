package dev.meshlog.meshctl;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.api.ApiJson;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.client.Revision;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.ResourceId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshctl history KIND NAME}: every revision of a resource, who made it and from where. */
@Command(name = "history",
    description = "Show every revision of a resource: change, actor, source (commit), time.")
final class HistoryCommand extends MeshctlCommand {

  @Parameters(index = "0", paramLabel = "KIND", converter = KindConverter.class)
  Kind kind;

  @Parameters(index = "1", paramLabel = "NAME")
  String name;

  @Option(names = {"-n", "--namespace"}, defaultValue = "default",
      description = "Namespace (default: ${DEFAULT-VALUE})")
  String namespace;

  @Option(names = {"-o", "--output"}, defaultValue = "table",
      description = "table or json (default: ${DEFAULT-VALUE})")
  Format output;

  @Override
  public Integer call() {
    ResourceId id = new ResourceId(kind.kindName(), namespace, name);
    List<Revision> history;
    try (MeshClient client = root().client()) {
      history = client.history(id);
    }
    if (history.isEmpty()) {
      err().println("error: " + id + " has no history (it never existed)");
      return Meshctl.FAILED;
    }
    out().print(render(id, history, output));
    return Meshctl.OK;
  }

  /** The history in {@code format} (YAML prints as JSON's tree in YAML). */
  static String render(ResourceId id, List<Revision> history, Format format) {
    if (format != Format.table) {
      ObjectNode node = JsonNodeFactory.instance.objectNode();
      node.put("resource", id.key());
      history.forEach(r -> node.withArray("revisions").add(ApiJson.revision(r)));
      return format == Format.json ? Output.json(node) : Output.yaml(List.of(node));
    }
    List<List<String>> rows = new ArrayList<>();
    for (Revision r : history) {
      rows.add(List.of(Long.toString(r.revision()), r.changeType().name(), r.actor(),
          Output.source(r.source()), Output.time(r.acceptedAt()),
          r.rolledBackTo() == null ? "" : "rollback to " + r.rolledBackTo()));
    }
    return Output.table(List.of("REVISION", "CHANGE", "ACTOR", "SOURCE", "ACCEPTED", "NOTE"), rows);
  }
}
