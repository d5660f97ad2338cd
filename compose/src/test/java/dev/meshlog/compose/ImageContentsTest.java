package dev.meshlog.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The image of each process module, as Jib wrote it on the registry-free base
 * ({@code target/jib-image-contents.tar}): everything but the base image's own layers, which the
 * users' image takes from {@code images.base} instead. Opened as files, without Docker.
 */
class ImageContentsTest {

  /** JVM options sizing the heap or choosing the collector. */
  private static final Pattern SIZING_OR_COLLECTOR =
      Pattern.compile("-Xm[snx].*|-XX:[+-]Use\\w+GC");


  static List<Build.Image> images() {
    return Build.images();
  }

  @ParameterizedTest
  @MethodSource("images")
  void isTaggedWithItsImageNameAndTheProjectVersion(Build.Image image) {
    assertThat(Unpacked.tar(image).repoTags).containsExactly(image.reference());
    assertThat(image.name()).isEqualTo("meshlog/" + image.module().getFileName());
  }

  @ParameterizedTest
  @MethodSource("images")
  void entrypointRunsTheModulesMainClassWithABoundedHeap(Build.Image image) {
    ImageTar tar = Unpacked.tar(image);
    List<String> entrypoint = tar.strings("Entrypoint");
    assertThat(entrypoint).first().isEqualTo("java");
    // A bounded heap: a share of the container's memory, or (the sidecar, whose options are
    // one list in compose/images/meshlog-proxy.properties) a fixed -Xmx.
    assertThat(entrypoint).contains("-XX:+ExitOnOutOfMemoryError")
        .anyMatch(flag -> flag.matches("-XX:MaxRAMPercentage=\\d+(\\.\\d+)?")
            || flag.matches("-Xmx\\d+[kmg]"));
    assertThat(entrypoint.subList(entrypoint.size() - 3, entrypoint.size()))
        .containsExactly("-cp", "@/app/jib-classpath-file", image.mainClass());
    assertThat(tar.text("/app/jib-main-class-file").strip()).isEqualTo(image.mainClass());
  }

  @ParameterizedTest
  @MethodSource("images")
  void holdsTheTestedJarAndEveryRuntimeDependencyOnItsClasspath(Build.Image image) throws IOException {
    ImageTar tar = Unpacked.tar(image);
    ImageTar.File jar = tar.files.get("/app/classpath/" + image.artifactId() + ".jar");
    assertThat(jar).as("the module's jar in the image").isNotNull();
    assertThat(jar.sha256()).as("the image's jar is the one the build tested")
        .isEqualTo(ImageTar.sha256(image.jar()));

    // By content: a reactor module's jar is named meshlog-x.jar in the image, with its version
    // in target/lib.
    Map<String, String> built = new TreeMap<>();
    if (Files.isDirectory(image.lib())) {
      try (Stream<Path> libs = Files.list(image.lib())) {
        libs.forEach(lib -> built.put(ImageTar.sha256(lib), lib.getFileName().toString()));
      }
    }
    Map<String, String> inImage = tar.files.values().stream()
        .filter(f -> !f.directory() && f.path().startsWith("/app/libs/"))
        .collect(Collectors.toMap(ImageTar.File::sha256, ImageTar.File::path, (a, b) -> b,
            TreeMap::new));
    assertThat(inImage.keySet()).as("/app/libs %s is the module's runtime dependencies %s",
        inImage.values(), built.values()).isEqualTo(built.keySet());

    // Every classpath entry is in the image, and the jar changes in a layer of its own.
    for (String entry : tar.text("/app/jib-classpath-file").strip().split(":")) {
      if (entry.endsWith("/*")) {
        String dir = entry.substring(0, entry.length() - 1);
        assertThat(tar.files.keySet()).as(entry).anyMatch(p -> p.startsWith(dir) && p.endsWith(".jar"));
      } else {
        assertThat(tar.files).as(entry).containsKey(entry);
      }
    }
    assertThat(tar.text("/app/jib-classpath-file")).contains("/app/classpath/");
    assertThat(tar.files.values()).filteredOn(f -> f.path().startsWith("/app/libs/") && !f.directory())
        .allMatch(f -> f.layer() != jar.layer());
  }

  @ParameterizedTest
  @MethodSource("images")
  void runsAsANonRootUserInAWritableWorkingDirectory(Build.Image image) {
    ImageTar tar = Unpacked.tar(image);
    String user = tar.runConfig().path("User").asText();
    assertThat(user).matches("\\d+(:\\d+)?");
    assertThat(Integer.parseInt(user.split(":")[0])).as("uid").isNotZero();
    String workingDir = tar.runConfig().path("WorkingDir").asText();
    assertThat(tar.files.get(workingDir)).as(workingDir + " in the image").isNotNull()
        .matches(ImageTar.File::directory)
        .matches(dir -> (dir.mode() & 0777) == 0777, "writable by any user");
  }

  @ParameterizedTest
  @MethodSource("images")
  void argumentsAndEnvironmentAreOnesItsMainAccepts(Build.Image image) {
    ImageTar tar = Unpacked.tar(image);
    assertThat(tar.strings("Cmd")).isEqualTo(image.list("jib.container.args"));
    assertThat(tar.environment()).containsAllEntriesOf(image.environment());
    ProcessModel model = Unpacked.model(image);
    for (List<String> mode : modes(image)) {
      assertThatCode(() -> model.parse(args(mode, tar), tar.environment())).doesNotThrowAnyException();
    }
  }

  @ParameterizedTest
  @MethodSource("images")
  void exposesExactlyThePortsItsMainListensOn(Build.Image image) {
    ImageTar tar = Unpacked.tar(image);
    Set<Integer> listening = new LinkedHashSet<>();
    for (List<String> mode : modes(image)) {
      listening.addAll(Unpacked.model(image).parse(args(mode, tar), tar.environment()).listeningPorts());
    }
    Set<Integer> exposed = new LinkedHashSet<>();
    tar.runConfig().path("ExposedPorts").fieldNames().forEachRemaining(
        port -> exposed.add(Integer.parseInt(port.replace("/tcp", ""))));
    assertThat(exposed).containsExactlyInAnyOrderElementsOf(listening);
  }

  @ParameterizedTest
  @MethodSource("images")
  void entrypointStartsTheMainFromTheImagesOwnFiles(Build.Image image) throws Exception {
    assumeTrue(Unpacked.hasMain(image), image.mainClass() + " is not in " + image.jar()
        + " yet; the image's classpath cannot start it");
    ImageTar tar = Unpacked.tar(image);
    List<String> entrypoint = tar.strings("Entrypoint");
    // The image's entrypoint on this machine's java: paths under where the image was unpacked,
    // a small heap instead of the container's share.
    String classpath = java.util.Arrays.stream(tar.text("/app/jib-classpath-file").strip().split(":"))
        .map(entry -> tar.local(entry).toString()).collect(Collectors.joining(":"));
    Path argFile = Build.work().resolve(image.artifactId() + ".classpath");
    Files.writeString(argFile, classpath);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // The image's heap sizes and collector give way to the test's small ones (two collectors,
    // or an initial heap above the maximum, would stop the JVM before the main is reached).
    entrypoint.subList(1, entrypoint.size() - 3).stream()
        .filter(option -> !SIZING_OR_COLLECTOR.matcher(option).matches())
        .forEach(command::add);
    command.addAll(List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", "@" + argFile, image.mainClass(), "--help"));
    Path output = Build.work().resolve(image.artifactId() + ".help.txt");
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(output.toFile()).directory(Build.work().toFile()).start();
    try {
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited within 60 s").isTrue();
    } finally {
      process.destroyForcibly();
    }
    String text = Files.readString(output, StandardCharsets.UTF_8);
    assertThat(text).doesNotContain("Could not find or load main class", "NoClassDefFoundError",
        "ClassNotFoundException");
    assertThat(process.exitValue()).as(text).isZero();
    assertThat(text).contains("Usage:");
  }

  /** The image's Cmd after the arguments of each way its main runs. */
  private static List<String> args(List<String> mode, ImageTar tar) {
    List<String> args = new ArrayList<>(mode);
    args.addAll(tar.strings("Cmd"));
    return args;
  }

  /** The ways an image's main runs: the proxy as sidecar or gateway; an example as one app. */
  private static List<List<String>> modes(Build.Image image) {
    return switch (image.mainClass().substring(image.mainClass().lastIndexOf('.') + 1)) {
      case "ProxyMain" -> List.of(List.of(), List.of("--gateway", "ingress"));
      case "ExamplesMain" -> List.of(List.of("productpage"));
      default -> List.of(List.of());
    };
  }
}
