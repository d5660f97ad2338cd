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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One of the mesh's services running as its own process from its built jar, as {@code ./meshlog
 * up} runs it: the control plane ({@code config-service/target/meshlog-config-service.jar}, no
 * HTTP API) or a telemetry pipeline instance ({@code
 * telemetry-pipeline/target/meshlog-telemetry-pipeline.jar}, its HTTP API on a free port); each
 * with its state under {@code --data-dir}, so that one started again with the same data directory
 * and application id resumes where it stopped. Its output is kept whole in
 * {@code target/proxy-logs/<name>-<pid>.log}.
 */
public final class ServiceProcess implements AutoCloseable {

  private static final Pattern HTTP_PORT = Pattern.compile("http://[^:/ ]+:(\\d+)/");

  private final String name;
  private final Process process;
  private final ConcurrentLinkedQueue<String> output;
  private final int httpPort;

  private ServiceProcess(String name, Process process, ConcurrentLinkedQueue<String> output,
                         int httpPort) {
    this.name = name;
    this.process = process;
    this.output = output;
    this.httpPort = httpPort;
  }

  /** The jar of module {@code module} ({@code meshlog-<module>.jar}), or system property {@code meshlog.<module>.jar}. */
  static Path jar(String module) {
    String given = System.getProperty("meshlog." + module + ".jar");
    Path jar = given != null ? Path.of(given) : Path.of("..", module, "target",
        "meshlog-" + module + ".jar").toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(module + " jar: " + jar + " not found (expected: "
          + "built by `mvn -pl proxy,meshctl,examples,e2e -am verify`, or "
          + "-Dmeshlog." + module + ".jar=PATH)");
    }
    return jar;
  }

  /**
   * Starts the control plane on {@code bootstrap} with application id {@code applicationId} and
   * its state under {@code dataDir}, and waits up to {@code timeout} for it to say it runs.
   */
  public static ServiceProcess controlPlane(String bootstrap, String applicationId, Path dataDir,
                                            Duration timeout) {
    return start("config-service", timeout, "--bootstrap-server", bootstrap, "--data-dir",
        dataDir.toString(), "--application-id", applicationId, "--api-port", "-1");
  }

  /**
   * Starts a telemetry pipeline instance on {@code bootstrap} (instances with one
   * {@code applicationId} share the work), its state under {@code dataDir}, its HTTP API on a
   * free loopback port, one stream thread, and a 6 s consumer session (Kafka's smallest by
   * default: a killed instance's partitions move after that, not after 45 s); waits up to
   * {@code timeout} for it to say it runs.
   */
  public static ServiceProcess telemetryPipeline(String bootstrap, String applicationId,
                                                 Path dataDir, Duration timeout) {
    return start("telemetry-pipeline", timeout, "--bootstrap-server", bootstrap, "--data-dir",
        dataDir.toString(), "--application-id", applicationId, "--http-port", "0",
        "--stream-threads", "1", "--commit-interval", "200ms",
        "--streams-config", "consumer.session.timeout.ms=6000",
        "--streams-config", "consumer.heartbeat.interval.ms=1000");
  }

  private static ServiceProcess start(String module, Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar",
        jar(module).toString()));
    command.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new UncheckedIOException("starting " + module + ": " + command, e);
    }
    ConcurrentLinkedQueue<String> out = new ConcurrentLinkedQueue<>();
    CompletableFuture<String> running = new CompletableFuture<>();
    Path logFile = Path.of(System.getProperty("meshlog.proxy.logs", "target/proxy-logs"))
        .resolve(module + "-" + p.pid() + ".log").toAbsolutePath();
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
          if (line.startsWith(module + " running")) {
            running.complete(line);
          }
          if (line.contains("ERROR") || line.startsWith(module)) {
            System.out.println("[" + module + "] " + line);
          }
        }
      } catch (IOException e) {
        // the process went away
      }
      running.completeExceptionally(new IllegalStateException(module + " exited with "
          + (p.isAlive() ? "?" : p.exitValue()) + " before it ran"));
    }, module + "-output");
    reader.setDaemon(true);
    reader.start();
    String line;
    try {
      line = running.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException(module + " did not run in " + timeout
          + "; its output:\n" + String.join("\n", out), e);
    }
    Matcher port = HTTP_PORT.matcher(line);
    return new ServiceProcess(module, p, out, port.find() ? Integer.parseInt(port.group(1)) : -1);
  }

  /** The port of its HTTP API (the pipeline's graph and API), or -1 when it has none. */
  public int httpPort() {
    return httpPort;
  }

  /**
   * Kills it with SIGKILL: no shutdown hook, no commit, no leaving its group. Returns once the
   * process is gone.
   */
  public void kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException(name + " still alive 30 s after SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
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
        throw new IllegalStateException(name + " did not stop in 60 s after SIGTERM; "
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
