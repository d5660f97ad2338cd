package dev.meshlog.meshctl;

import java.io.PrintWriter;

import dev.meshlog.config.client.SubmitTimeoutException;
import dev.meshlog.schemas.AvroLimits;
import dev.meshlog.schemas.KafkaClientSettings;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.AuthenticationException;
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
      if (e instanceof CommandLine.ParameterException || e instanceof Bootstrap.NoClusterException) {
        cmd.getErr().println("error: " + e.getMessage());
        return Meshctl.USAGE;
      }
      ConfigException badValue = cause(e, ConfigException.class);
      String message = badValue == null ? null : String.valueOf(badValue.getMessage());
      if (badValue != null && message.startsWith("No resolvable bootstrap urls")) {
        // A typo in the host, or DNS down: the cluster cannot be reached, the settings are fine.
        cmd.getErr().println("error: cannot resolve the host of --bootstrap-server "
            + root.bootstrapServer() + " (check the name and DNS)");
        return Meshctl.UNREACHABLE;
      }
      if (badValue != null && message.startsWith("Invalid url in bootstrap.servers")) {
        cmd.getErr().println("error: --bootstrap-server " + root.bootstrapServer()
            + " (expected: HOST:PORT, several separated by commas)");
        return Meshctl.USAGE;
      }
      if (badValue != null) {
        cmd.getErr().println("error: Kafka client settings: " + message);
        return Meshctl.USAGE;
      }
      AuthenticationException denied = cause(e, AuthenticationException.class);
      if (denied != null) {
        cmd.getErr().println("error: Kafka at " + root.bootstrapServer() + " refused meshctl: "
            + denied.getMessage() + " (check the credentials in --kafka-config or $"
            + KafkaClientSettings.ENV + ")");
        return Meshctl.UNREACHABLE;
      }
      if (e instanceof TimeoutException) {
        cmd.getErr().println("error: cannot reach Kafka at " + root.bootstrapServer() + " within "
            + root.timeout.toSeconds() + "s: " + e.getMessage() + securityHint(root));
        return Meshctl.UNREACHABLE;
      }
      if (e instanceof SubmitTimeoutException) {
        // Kafka took the commands (so no TLS or SASL hint); the answer did not come in time.
        cmd.getErr().println("error: " + e.getMessage());
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

  /** The exception of {@code type} behind {@code e}, if there is one. */
  private static <T extends Throwable> T cause(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  /**
   * A hint for a Kafka that does not answer: one that needs TLS or SASL drops a plaintext client
   * without a word, so the client only times out.
   */
  private static String securityHint(Meshctl root) {
    try {
      return root.clientSettings().isEmpty()
          ? " (if the cluster needs TLS or SASL, pass its client settings with --kafka-config FILE)"
          : "";
    } catch (CommandLine.ParameterException e) {
      return "";
    }
  }
}
