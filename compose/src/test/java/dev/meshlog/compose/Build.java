package dev.meshlog.compose;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/** Where the build put things: the checkout, the project's versions, and each image's settings. */
final class Build {

  private Build() {}

  static Path root() {
    return Path.of(required("meshlog.root")).toAbsolutePath().normalize();
  }

  static String version() {
    return required("meshlog.version");
  }

  static String kafkaVersion() {
    return required("meshlog.kafka.version");
  }

  /** A directory for what the tests unpack (under target/). */
  static Path work() {
    return Path.of(required("meshlog.work"));
  }

  private static String required(String name) {
    String value = System.getProperty(name);
    if (value == null) {
      throw new IllegalStateException("system property " + name + " is not set; run through Maven"
          + " (mvn -pl compose verify)");
    }
    return value;
  }

  /**
   * One process module's image: its settings file compose/images/&lt;artifactId&gt;.properties and
   * what the module's build wrote.
   */
  record Image(String artifactId, Path module, Properties settings) {

    /** {@code meshlog/proxy}. */
    String name() {
      return settings.getProperty("image.name");
    }

    /** {@code meshlog/proxy:0.1.0-SNAPSHOT}. */
    String reference() {
      return name() + ":" + version();
    }

    boolean skipped() {
      return Boolean.parseBoolean(settings.getProperty("image.skip", "false"));
    }

    /** The tar the build writes on the registry-free base. */
    Path tar() {
      return module.resolve("target/jib-image-contents.tar");
    }

    /** The executable jar the module's build tested. */
    Path jar() {
      return module.resolve("target/" + artifactId + ".jar");
    }

    /** The module's runtime dependencies as the process profile copied them. */
    Path lib() {
      return module.resolve("target/lib");
    }

    /** A jib.container.* list setting (ports, args), empty when unset. */
    List<String> list(String key) {
      String value = settings.getProperty(key, "").strip();
      return value.isEmpty() ? List.of() : Arrays.stream(value.split(",")).map(String::strip).toList();
    }

    /** jib.container.environment as a map. */
    Map<String, String> environment() {
      Map<String, String> env = new LinkedHashMap<>();
      for (String pair : list("jib.container.environment")) {
        int eq = pair.indexOf('=');
        env.put(pair.substring(0, eq), pair.substring(eq + 1));
      }
      return env;
    }

    /** The Main-Class of the module's jar (the build's exec.mainClass). */
    String mainClass() {
      if (!Files.isRegularFile(jar())) {
        throw new IllegalStateException(jar() + " does not exist: build the module first ("
            + "mvn -pl " + module.getFileName() + ",compose -am verify)");
      }
      try (JarFile jar = new JarFile(jar().toFile())) {
        return jar.getManifest().getMainAttributes().getValue("Main-Class");
      } catch (IOException e) {
        throw new IllegalStateException(jar() + ": " + e.getMessage(), e);
      }
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Every image the build produces (settings with image.skip=false), by image name. */
  static List<Image> images() {
    return allImages().stream().filter(i -> !i.skipped()).toList();
  }

  /** Every settings file, skipped ones too. */
  static List<Image> allImages() {
    Path dir = root().resolve("compose/images");
    List<Image> images = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".properties")).sorted().toList()) {
        String artifactId = file.getFileName().toString().replace(".properties", "");
        Properties settings = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
          settings.load(in);
        }
        images.add(new Image(artifactId, root().resolve(artifactId.replaceFirst("^meshlog-", "")),
            settings));
      }
    } catch (IOException e) {
      throw new IllegalStateException(dir + ": " + e.getMessage(), e);
    }
    return images;
  }
}
