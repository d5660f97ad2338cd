package dev.meshlog.meshctl;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * What meshctl reads from its surroundings: environment variables, the working directory, the
 * clock and the user; injected so tests control them.
 *
 * @param variables environment variables
 * @param workingDirectory the directory relative paths start from
 * @param clock the time (for ages and {@code requestedAt})
 * @param user the actor named in commands
 */
public record Environment(Map<String, String> variables, Path workingDirectory, Clock clock,
                          String user) {

  public Environment {
    variables = Map.copyOf(variables);
  }

  /** The real process environment. */
  public static Environment system() {
    String user = System.getenv().getOrDefault("MESHLOG_ACTOR", System.getProperty("user.name", "unknown"));
    return new Environment(System.getenv(), Path.of("").toAbsolutePath(), Clock.systemUTC(), user);
  }

  /** An environment variable, or null. */
  public String get(String name) {
    String value = variables.get(name);
    return value == null || value.isBlank() ? null : value.strip();
  }
}
