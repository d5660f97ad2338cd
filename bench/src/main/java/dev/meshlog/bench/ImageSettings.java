package dev.meshlog.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * A process's production settings as its image declares them ({@code compose/images/*.properties}):
 * the one list of JVM options ({@code jib.container.jvmFlags}) that the image, {@code ./meshlog}
 * and the benchmarks share. Paths are relative to the repository's root, where the benchmarks run.
 */
final class ImageSettings {

  private ImageSettings() {
  }

  /**
   * The JVM options of {@code settings}: {@code jib.container.jvmFlags}, comma-separated.
   *
   * @param what what the options are for, for the error message (e.g. "sidecar JVM options")
   * @param option the benchmark option that gives them instead, for the error message
   */
  static List<String> jvmOptions(Path settings, String what, String option) {
    String flags = read(settings, what, option).getProperty("jib.container.jvmFlags");
    if (flags == null || flags.isBlank()) {
      throw new IllegalArgumentException(what + ": " + settings
          + " has no jib.container.jvmFlags (expected: comma-separated JVM options)");
    }
    return Arrays.stream(flags.split(",")).map(String::trim).filter(f -> !f.isEmpty()).toList();
  }

  /** The whole settings file, or an error naming it and {@code option}. */
  static Properties read(Path settings, String what, String option) {
    Properties p = new Properties();
    try (var in = Files.newBufferedReader(settings, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (IOException e) {
      throw new IllegalArgumentException(what + ": cannot read " + settings
          + " (" + e + "); run from the repository root or pass " + option, e);
    }
    return p;
  }
}
