package dev.meshlog.meshctl;

import java.util.List;

import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ConfigCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshctl delete KIND NAME} or {@code meshctl delete -f FILE}: deletes resources. */
@Command(name = "delete", description = "Delete resources by kind and name, or those in a file.")
final class DeleteCommand extends MeshctlCommand {

  @Parameters(index = "0", arity = "0..1", paramLabel = "KIND", converter = KindConverter.class)
  Kind kind;

  @Parameters(index = "1", arity = "0..1", paramLabel = "NAME")
  String name;

  @Option(names = {"-n", "--namespace"}, defaultValue = "default",
      description = "Namespace (default: ${DEFAULT-VALUE})")
  String namespace;

  @Override
  public Integer call() {
    if (kind == null || name == null) {
      err().println("error: name the resource (delete KIND NAME)");
      return Meshctl.USAGE;
    }
    List<ConfigCommand> deletes = List.of(
        commands().delete(new ResourceId(kind.kindName(), namespace, name)));
    try (MeshClient client = root().client()) {
      return print(client.submit(deletes));
    }
  }
}
