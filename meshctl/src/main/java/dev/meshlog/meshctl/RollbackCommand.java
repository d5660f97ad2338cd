package dev.meshlog.meshctl;

import java.util.List;

import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.ResourceId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshctl rollback KIND NAME --to-revision N}: makes an old revision current again. */
@Command(name = "rollback",
    description = "Restore an earlier revision's spec, as a new revision (history is kept).")
final class RollbackCommand extends MeshctlCommand {

  @Parameters(index = "0", paramLabel = "KIND", converter = KindConverter.class)
  Kind kind;

  @Parameters(index = "1", paramLabel = "NAME")
  String name;

  @Option(names = {"-n", "--namespace"}, defaultValue = "default",
      description = "Namespace (default: ${DEFAULT-VALUE})")
  String namespace;

  @Option(names = "--to-revision", required = true, paramLabel = "N",
      description = "The revision whose spec becomes current (see meshctl history)")
  long revision;

  @Override
  public Integer call() {
    if (revision < 1) {
      err().println("error: --to-revision " + revision + " (expected: 1 or more)");
      return Meshctl.USAGE;
    }
    ResourceId id = new ResourceId(kind.kindName(), namespace, name);
    try (MeshClient client = root().writer()) {
      return print(client.submit(List.of(commands().rollback(id, revision))));
    }
  }
}
