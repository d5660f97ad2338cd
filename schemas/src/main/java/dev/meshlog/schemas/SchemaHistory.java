package dev.meshlog.schemas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import org.apache.avro.Schema;

/**
 * The released versions of every schema, kept as files in this module: {@code
 * meshlog/schemas/releases/index.txt} lists the releases oldest first, and {@code
 * meshlog/schemas/releases/<release>/<schema full name>.avsc} holds each record schema as it was
 * released (self-contained). Readers use them to decode old records; the compatibility test checks
 * the current schemas against the newest release.
 */
public final class SchemaHistory {

  static final String ROOT = "meshlog/schemas/releases/";

  private SchemaHistory() {}

  /** Release names, oldest first. */
  public static List<String> releases() {
    try (InputStream in = resource(ROOT + "index.txt")) {
      if (in == null) {
        return List.of();
      }
      List<String> releases = new ArrayList<>();
      try (BufferedReader reader =
               new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          line = line.strip();
          if (!line.isEmpty() && !line.startsWith("#")) {
            releases.add(line);
          }
        }
      }
      return Collections.unmodifiableList(releases);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The schema named {@code fullName} as it was in {@code release}, if it existed then. */
  public static Optional<Schema> released(String release, String fullName) {
    try (InputStream in = resource(ROOT + release + "/" + fullName + ".avsc")) {
      return in == null ? Optional.empty() : Optional.of(new Schema.Parser().parse(in));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every released version of the schema named {@code fullName}, oldest first. */
  public static List<Schema> releasedVersionsOf(String fullName) {
    List<Schema> versions = new ArrayList<>();
    for (String release : releases()) {
      released(release, fullName).ifPresent(versions::add);
    }
    return versions;
  }

  private static InputStream resource(String name) {
    return SchemaHistory.class.getClassLoader().getResourceAsStream(name);
  }
}
