package dev.meshlog.meshctl;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.meshlog.config.client.ConfigCommands;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ConfigCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshctl delete KIND NAME} or {@code meshctl delete -f FILE}: deletes resources. */
@Command(name = "delete", description = "Delete a resource by kind and name, or the resources in files.")
final class DeleteCommand extends MeshctlCommand {

  @Parameters(index = "0", arity = "0..1", paramLabel = "KIND", converter = KindConverter.class)
  Kind kind;

  @Parameters(index = "1", arity = "0..1", paramLabel = "NAME")
  String name;

  @Option(names = {"-f", "--filename"}, paramLabel = "FILE|DIR",
      description = "Delete the resources these files define; may be repeated")
  List<Path> files;

  @Option(names = {"-n", "--namespace"}, defaultValue = "default",
      description = "Namespace (default: ${DEFAULT-VALUE})")
  String namespace;

  @Override
  public Integer call() {
    boolean byName = kind != null || name != null;
    boolean byFile = files != null && !files.isEmpty();
    if (byName == byFile || (byName && (kind == null || name == null))) {
      err().println("error: name what to delete: delete KIND NAME, or delete -f FILE");
      return Meshctl.USAGE;
    }
    ConfigCommands commands = commands();
    List<ConfigCommand> deletes = new ArrayList<>();
    int code = Meshctl.OK;
    if (byName) {
      deletes.add(commands.delete(new ResourceId(kind.kindName(), namespace, name)));
    } else {
      ResourceFiles.Read read = ResourceFiles.read(files, root().environment().workingDirectory(),
          namespace, err());
      code = read.problems() > 0 ? Meshctl.FAILED : Meshctl.OK;
      for (Resource resource : read.resources()) {
        deletes.add(commands.delete(resource.id()));
      }
      if (deletes.isEmpty()) {
        return Meshctl.FAILED;
      }
    }
    try (MeshClient client = root().writer()) {
      int printed = print(client.submit(deletes));
      return printed != Meshctl.OK ? printed : code;
    }
  }
}
