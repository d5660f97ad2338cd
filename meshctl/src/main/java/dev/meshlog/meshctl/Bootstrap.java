package dev.meshlog.meshctl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the Kafka cluster: {@code --bootstrap-server}, else {@code MESHLOG_BOOTSTRAP}, else the
 * file {@code .meshlog-data/bootstrap.servers} the local run writes, looked for in the working
 * directory and then in {@code MESHLOG_HOME}.
 */
public final class Bootstrap {

  /** Environment variable naming the bootstrap servers. */
  public static final String ENV_BOOTSTRAP = "MESHLOG_BOOTSTRAP";
  /** Environment variable naming the Meshlog checkout whose local run meshctl talks to. */
  public static final String ENV_HOME = "MESHLOG_HOME";
  /** The file {@code ./meshlog kafka} writes, relative to its directory. */
  public static final Path FILE = Path.of(".meshlog-data", "bootstrap.servers");

  private Bootstrap() {}

  /**
   * The bootstrap servers, or empty when none is configured anywhere.
   *
   * @param option the value of {@code --bootstrap-server}, or null
   */
  public static Optional<String> resolve(String option, Environment env) {
    if (option != null && !option.isBlank()) {
      return Optional.of(option.strip());
    }
    String fromEnv = env.get(ENV_BOOTSTRAP);
    if (fromEnv != null) {
      return Optional.of(fromEnv);
    }
    for (Path file : candidates(env)) {
      try {
        if (Files.isRegularFile(file)) {
          String value = Files.readString(file).strip();
          if (!value.isEmpty()) {
            return Optional.of(value);
          }
        }
      } catch (IOException e) {
        // unreadable: try the next place
      }
    }
    return Optional.empty();
  }

  /** The files looked at, in order, each once ({@code ./meshlog} runs meshctl in its home). */
  static List<Path> candidates(Environment env) {
    List<Path> files = new ArrayList<>();
    files.add(env.workingDirectory().resolve(FILE).toAbsolutePath().normalize());
    String home = env.get(ENV_HOME);
    if (home != null) {
      Path inHome = env.workingDirectory().resolve(home).resolve(FILE).toAbsolutePath().normalize();
      if (!files.contains(inHome)) {
        files.add(inHome);
      }
    }
    return files;
  }

  /** No cluster given and none found: a usage error (exit 2), printed without the usage. */
  static final class NoClusterException extends RuntimeException {
    NoClusterException(String message) {
      super(message);
    }
  }

  /** What to tell a user when no cluster is configured. */
  static String missingMessage(Environment env) {
    return "no Kafka cluster configured: pass --bootstrap-server HOST:PORT, set " + ENV_BOOTSTRAP
        + ", or run ./meshlog kafka (it writes " + FILE + "; looked in "
        + String.join(" and ", candidates(env).stream().map(Path::toString).toList()) + ")";
  }
}
