package dev.meshlog.compose;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/** Each image's tar, read and unpacked once per test run (under target/images/), and its main. */
final class Unpacked {

  private static final Map<String, ImageTar> TARS = new ConcurrentHashMap<>();
  private static final Map<String, Optional<ProcessModel>> MAINS = new ConcurrentHashMap<>();

  private Unpacked() {}

  static synchronized ImageTar tar(Build.Image image) {
    return TARS.computeIfAbsent(image.name(), name -> {
      Path dir = Build.work().resolve(image.artifactId());
      delete(dir);
      return ImageTar.read(image.tar(), dir);
    });
  }

  /**
   * The image's main as it parses flags and environment: its picocli command loaded from the
   * image; for the examples only, the agreed contract while their jar has no main yet.
   */
  static ProcessModel model(Build.Image image) {
    String main = image.mainClass();
    return main(image).orElseGet(() -> {
      if (main.equals("dev.meshlog.examples.ExamplesMain")) {
        return new ExamplesContract();
      }
      throw new IllegalStateException(main + " is not on the classpath of " + image.reference());
    });
  }

  /** Whether the image's own classpath holds its main class. */
  static boolean hasMain(Build.Image image) {
    return main(image).isPresent();
  }

  private static synchronized Optional<ProcessModel> main(Build.Image image) {
    return MAINS.computeIfAbsent(image.name(), n -> PicocliModel.load(tar(image), image.mainClass()));
  }

  private static void delete(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
