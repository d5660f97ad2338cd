package dev.meshlog.meshctl;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code meshctl gitops}: keeps the mesh's config in step with a git repository. */
@Command(name = "gitops", description = "Apply a git repository's config, commit by commit.",
    subcommands = {})
final class GitopsCommand implements Runnable {

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
