package dev.meshlog.meshctl;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.meshlog.config.client.ConfigCommands;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.config.ConfigCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshctl apply -f FILE|DIR}: creates or updates every resource in YAML (or JSON) files and
 * waits for the control plane's answer to each.
 */
@Command(name = "apply", description = "Create or update the resources in YAML files or directories.")
final class ApplyCommand extends MeshctlCommand {

  @Option(names = {"-f", "--filename"}, required = true, paramLabel = "FILE|DIR",
      description = "A YAML file (several documents separated by ---), a JSON file, or a "
          + "directory of them (read recursively); may be repeated")
  List<Path> files;

  @Option(names = {"-n", "--namespace"}, defaultValue = "default",
      description = "Namespace of resources that name none (default: ${DEFAULT-VALUE})")
  String namespace;

  @Option(names = "--expected-revision", paramLabel = "N",
      description = "Apply only if each resource is at revision N now (0: only if it does not "
          + "exist); otherwise the apply is rejected as a conflict")
  Long expectedRevision;

  @Override
  public Integer call() {
    ResourceFiles.Read read = ResourceFiles.read(files, root().environment().workingDirectory(),
        namespace, err());
    int code = read.problems() > 0 ? Meshctl.FAILED : Meshctl.OK;
    if (read.resources().isEmpty()) {
      return code == Meshctl.OK ? Meshctl.FAILED : code;
    }
    ConfigCommands commands = commands();
    List<ConfigCommand> batch = new ArrayList<>();
    for (Resource resource : read.resources()) {
      batch.add(commands.apply(resource, expectedRevision));
    }
    try (MeshClient client = root().writer()) {
      int printed = print(client.submit(batch));
      return printed != Meshctl.OK ? printed : code;
    }
  }
}
