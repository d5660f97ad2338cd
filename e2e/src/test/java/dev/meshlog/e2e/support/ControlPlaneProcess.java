package dev.meshlog.e2e.support;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * The control plane (config-service) running as its own process from the built jar ({@code
 * config-service/target/meshlog-config-service.jar}, or the path in system property {@code
 * meshlog.config-service.jar}), as {@code ./meshlog up} runs it: its state under
 * {@code --data-dir}, no HTTP API. Started again with the same data directory and application id
 * it resumes where it stopped. Its output is kept whole in
 * {@code target/proxy-logs/config-service-<pid>.log}.
 */
public final class ControlPlaneProcess implements AutoCloseable {

  private final Process process;
  private final ConcurrentLinkedQueue<String> output;

  private ControlPlaneProcess(Process process, ConcurrentLinkedQueue<String> output) {
    this.process = process;
    this.output = output;
  }

  /** The config-service jar to run. */
  public static Path jar() {
    String given = System.getProperty("meshlog.config-service.jar");
    Path jar = given != null ? Path.of(given) : Path.of("..", "config-service", "target",
        "meshlog-config-service.jar").toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("config-service jar: " + jar + " not found (expected: "
          + "built by `mvn -pl proxy,meshctl,examples,e2e -am verify`, or "
          + "-Dmeshlog.config-service.jar=PATH)");
    }
    return jar;
  }

  /**
   * Starts the control plane on {@code bootstrap} with application id {@code applicationId} and
   * its state under {@code dataDir}, and waits up to {@code timeout} for it to say it runs.
   */
  public static ControlPlaneProcess start(String bootstrap, String applicationId, Path dataDir,
                                          Duration timeout) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar().toString(),
        "--bootstrap-server", bootstrap, "--data-dir", dataDir.toString(),
        "--application-id", applicationId, "--api-port", "-1"));
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new UncheckedIOException("starting config-service: " + command, e);
    }
    ConcurrentLinkedQueue<String> out = new ConcurrentLinkedQueue<>();
    CompletableFuture<Void> running = new CompletableFuture<>();
    Path logFile = Path.of(System.getProperty("meshlog.proxy.logs", "target/proxy-logs"))
        .resolve("config-service-" + p.pid() + ".log").toAbsolutePath();
    Thread reader = new Thread(() -> {
      try {
        Files.createDirectories(logFile.getParent());
      } catch (IOException e) {
        running.completeExceptionally(e);
        return;
      }
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
          StandardCharsets.UTF_8));
           BufferedWriter log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
        String line;
        while ((line = r.readLine()) != null) {
          out.add(line);
          log.write(line);
          log.newLine();
          log.flush();
          if (out.size() > 2_000) {
            out.poll();
          }
          if (line.startsWith("config-service running")) {
            running.complete(null);
          }
          if (line.contains("ERROR") || line.startsWith("config-service")) {
            System.out.println("[config-service] " + line);
          }
        }
      } catch (IOException e) {
        // the process went away
      }
      running.completeExceptionally(new IllegalStateException("config-service exited with "
          + (p.isAlive() ? "?" : p.exitValue()) + " before it ran"));
    }, "config-service-output");
    reader.setDaemon(true);
    reader.start();
    try {
      running.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException("config-service did not run in " + timeout
          + "; its output:\n" + String.join("\n", out), e);
    }
    return new ControlPlaneProcess(p, out);
  }

  /** The last lines it printed (up to 2,000), for failure messages. */
  public String output() {
    return String.join("\n", output);
  }

  /** Whether the process is still running. */
  public boolean alive() {
    return process.isAlive();
  }

  /**
   * Stops it as an operator does (SIGTERM: its shutdown hook closes the Streams app, which
   * commits) and returns its exit status; kills it if it has not exited in 60 s.
   */
  public int stop() {
    process.destroy();
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException("config-service did not stop in 60 s after SIGTERM; "
            + "killed; its output:\n" + output());
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }
}
