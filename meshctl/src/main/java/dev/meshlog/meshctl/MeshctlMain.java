package dev.meshlog.meshctl;

import java.io.PrintWriter;

import dev.meshlog.config.client.SubmitTimeoutException;
import dev.meshlog.schemas.AvroLimits;
import org.apache.kafka.common.errors.TimeoutException;
import picocli.CommandLine;

/** Entry point of {@code meshctl}: runs one command and exits with its code. */
public final class MeshctlMain {

  private MeshctlMain() {}

  public static void main(String[] args) {
    System.exit(run(args, Environment.system(), new PrintWriter(System.out, true),
        new PrintWriter(System.err, true)));
  }

  /**
   * Runs meshctl with {@code args}, printing to {@code out} and {@code err}.
   *
   * @return the exit code: 0 done, 1 rejected or failed, 2 usage error, 3 cluster unreachable
   */
  public static int run(String[] args, Environment environment, PrintWriter out, PrintWriter err) {
    AvroLimits.install();
    Meshctl root = new Meshctl(environment);
    CommandLine commandLine = new CommandLine(root);
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof CommandLine.ParameterException pe) {
        cmd.getErr().println("error: " + pe.getMessage());
        return Meshctl.USAGE;
      }
      if (e instanceof SubmitTimeoutException) {
        cmd.getErr().println("error: " + e.getMessage());
        return Meshctl.UNREACHABLE;
      }
      if (e instanceof TimeoutException) {
        cmd.getErr().println("error: cannot reach Kafka at " + root.bootstrapServer() + " within "
            + root.timeout.toSeconds() + "s: " + e.getMessage());
        return Meshctl.UNREACHABLE;
      }
      cmd.getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return Meshctl.FAILED;
    });
    int code = commandLine.execute(args);
    out.flush();
    err.flush();
    return code;
  }
}
