package dev.meshlog.meshctl;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

import dev.meshlog.config.client.ConfigCommands;
import dev.meshlog.config.client.Outcome;
import dev.meshlog.config.model.Kind;
import dev.meshlog.events.config.SourceType;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every meshctl subcommand shares: the root's options, output, and printing outcomes. */
abstract class MeshctlCommand implements Callable<Integer> {

  /** Output formats of the read commands. */
  enum Format { table, yaml, json }

  @Spec
  CommandSpec spec;

  /** The root command, with the shared options. */
  Meshctl root() {
    return (Meshctl) spec.root().userObject();
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Commands from the user at the command line. */
  ConfigCommands commands() {
    Environment env = root().environment();
    return ConfigCommands.of(env.user(), SourceType.CLI, env.clock());
  }

  /**
   * Prints one line per outcome: kubectl-style results on stdout, field errors on stderr.
   *
   * @return {@link Meshctl#OK} if every command was accepted, else {@link Meshctl#FAILED}
   */
  int print(List<Outcome> outcomes) {
    int code = Meshctl.OK;
    for (Outcome outcome : outcomes) {
      if (outcome.accepted()) {
        out().println(Output.resultLine(outcome));
      } else {
        Output.errorLines(outcome).forEach(err()::println);
        code = Meshctl.FAILED;
      }
    }
    return code;
  }

  /** Converts what users type for a kind ({@code vs}, {@code virtualservices}, ...). */
  static final class KindConverter implements CommandLine.ITypeConverter<Kind> {
    @Override
    public Kind convert(String value) {
      return Kind.byUserName(value).orElseThrow(() -> new CommandLine.TypeConversionException(
          "unknown kind " + value + " (expected one of: " + Arrays.stream(Kind.values())
              .map(Kind::kindName).collect(Collectors.joining(", "))
              + ", or their plural or short names such as vs, dr, se, gw)"));
    }
  }
}
