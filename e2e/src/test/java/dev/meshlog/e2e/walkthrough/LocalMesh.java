package dev.meshlog.e2e.walkthrough;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code ./meshlog up} run as a user runs it, as a child process (with
 * {@code MESHLOG_NO_BUILD=1}: the reactor built the jars), on a free block of ports, with its
 * data in a temporary directory; and the user's other commands ({@code ./meshlog apply ...},
 * {@code curl}) against it.
 */
final class LocalMesh implements AutoCloseable {

  /** Ports {@code ./meshlog up --port-base B} uses: B..B+79. */
  static final int PORTS = 80;

  private static final ObjectMapper JSON = new ObjectMapper();

  final Path root;
  final Path dataDir;
  final int portBase;
  private final Process up;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();
  private JsonNode endpoints;

  private LocalMesh(Path root, Path dataDir, int portBase, Process up) {
    this.root = root;
    this.dataDir = dataDir;
    this.portBase = portBase;
    this.up = up;
  }

  /** The checkout: the directory above this module, where the {@code meshlog} script is. */
  static Path checkout() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("meshlog"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("no meshlog script above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  /** Starts {@code ./meshlog up --data-dir DIR --port-base B ARGS...}. */
  static LocalMesh start(Path dataDir, String... args) throws IOException {
    Path root = checkout();
    for (String jar : List.of("testkit/target/meshlog-testkit.jar",
        "config-service/target/meshlog-config-service.jar",
        "telemetry-pipeline/target/meshlog-telemetry-pipeline.jar",
        "meshctl/target/meshlog-meshctl.jar", "proxy/target/meshlog-proxy.jar",
        "examples/target/meshlog-examples.jar")) {
      if (!Files.isRegularFile(root.resolve(jar))) {
        throw new IllegalStateException(jar + " is missing: build it first (mvn -pl "
            + "proxy,meshctl,examples,e2e -am verify builds every jar this test runs)");
      }
    }
    int base = freePortBlock();
    List<String> command = new ArrayList<>(List.of(root.resolve("meshlog").toString(), "up",
        "--data-dir", dataDir.toString(), "--port-base", Integer.toString(base)));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile())
        .redirectErrorStream(true).redirectOutput(dataDir.resolveSibling(
            dataDir.getFileName() + "-up.out").toFile());
    builder.environment().put("MESHLOG_NO_BUILD", "1");
    return new LocalMesh(root, dataDir, base, builder.start());
  }

  /** A random block of {@link #PORTS} ports, below the ephemeral range, that are free now on 127.0.0.1. */
  private static int freePortBlock() {
    for (int attempt = 0; attempt < 50; attempt++) {
      // Below Linux's ephemeral range (32768-60999 by default): a block inside it can be free
      // when checked and then taken by one of the mesh's own outgoing connections (Kafka clients,
      // sidecars' upstream pools) before the process meant to listen there binds it.
      int base = ThreadLocalRandom.current().nextInt(10_000, 32_000 - PORTS);
      if (allFree(base)) {
        return base;
      }
    }
    throw new IllegalStateException("no free block of " + PORTS + " ports found");
  }

  private static boolean allFree(int base) {
    for (int port = base; port < base + PORTS; port++) {
      try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        socket.setReuseAddress(true);
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }

  /** The script's process. */
  Process process() {
    return up;
  }

  /** What the script printed so far. */
  String output() {
    try {
      return Files.readString(dataDir.resolveSibling(dataDir.getFileName() + "-up.out"));
    } catch (IOException e) {
      return "(no output: " + e + ")";
    }
  }

  /** Waits for {@code endpoints.json} and reads it. */
  JsonNode awaitEndpoints(Duration within) {
    Path file = dataDir.resolve("endpoints.json");
    await().atMost(within).pollInterval(Duration.ofSeconds(1)).until(() -> {
      if (!up.isAlive()) {
        throw new AssertionError("./meshlog up exited with " + up.exitValue() + ":\n" + output());
      }
      return Files.isRegularFile(file);
    });
    try {
      endpoints = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new AssertionError("endpoints.json: " + e.getMessage(), e);
    }
    return endpoints;
  }

  JsonNode endpoints() {
    return endpoints;
  }

  /** One answer: status and body. */
  record Answer(int status, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + body, e);
      }
    }
  }

  /** GET {@code url} with the given headers (name, value, ...). */
  Answer get(String url, String... headers) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
        .timeout(Duration.ofSeconds(20)).GET();
    for (int i = 0; i + 1 < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    try {
      HttpResponse<String> response = http.send(request.build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Answer(response.statusCode(), response.body());
    } catch (IOException e) {
      return new Answer(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Runs {@code ./meshlog ARGS...} (meshctl's commands) against this mesh; output and status. */
  Answer meshlog(String... args) {
    List<String> command = new ArrayList<>(List.of(root.resolve("meshlog").toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile())
        .redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    env.put("MESHLOG_NO_BUILD", "1");
    env.put("MESHLOG_BOOTSTRAP", endpoints.path("kafka").path("bootstrapServers").asText());
    env.put("MESHLOG_ACTOR", "e2e");
    try {
      Process process = builder.start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(90, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("./meshlog " + String.join(" ", args) + " did not finish");
      }
      return new Answer(process.exitValue(), out);
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Sends SIGINT to the script, as Ctrl-C in its terminal does. */
  void interrupt() throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-INT", Long.toString(up.pid())).inheritIO().start();
    kill.waitFor(10, TimeUnit.SECONDS);
  }

  /** Stops everything still running (a failed test must not leave processes behind). */
  @Override
  public void close() {
    if (up.isAlive()) {
      List<ProcessHandle> children = up.descendants().toList();
      up.destroy();
      try {
        up.waitFor(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
      up.destroyForcibly();
    }
  }
}
