package dev.meshlog.e2e.support;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Meshlog proxy running as its own process from the built jar ({@code
 * proxy/target/meshlog-proxy.jar}, or the path in system property {@code meshlog.proxy.jar}),
 * as a user runs it. Start it with port 0 everywhere: the ports it chose are read from the first
 * line it prints ({@code meshlog-proxy <id> outbound=… inbound=… admin=…}). Its output is kept
 * whole in {@code target/proxy-logs/<name>-<pid>.log}, its last lines in memory
 * (for failure messages) and echoed with a prefix. {@link #close()} sends SIGTERM (the proxy
 * drains and flushes its telemetry), then kills it if it has not exited in time.
 */
public final class ProxyProcess implements AutoCloseable {

  private static final Pattern PORTS = Pattern.compile(
      "^meshlog-proxy (\\S+) outbound=\\S+:(\\d+) inbound=\\S+:(\\d+) admin=\\S+:(\\d+)$");
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  private final Process process;
  private final String name;
  private final ConcurrentLinkedQueue<String> output;
  private final String id;
  private final int outboundPort;
  private final int inboundPort;
  private final int adminPort;

  private ProxyProcess(Process process, String name, ConcurrentLinkedQueue<String> output,
                       String id, int outbound, int inbound, int admin) {
    this.process = process;
    this.output = output;
    this.name = name;
    this.id = id;
    this.outboundPort = outbound;
    this.inboundPort = inbound;
    this.adminPort = admin;
  }

  /** The proxy jar to run. */
  public static Path jar() {
    String given = System.getProperty("meshlog.proxy.jar");
    Path jar = given != null ? Path.of(given)
        : Path.of("..", "proxy", "target", "meshlog-proxy.jar").toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("proxy jar: " + jar + " not found (expected: built by "
          + "`mvn -pl proxy,e2e -am verify`, or -Dmeshlog.proxy.jar=PATH)");
    }
    return jar;
  }

  /**
   * Starts a sidecar with {@code args} (ports should be 0) and waits up to {@code timeout} for
   * it to print its ports.
   */
  public static ProxyProcess start(String name, Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar().toString()));
    command.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new UncheckedIOException("starting " + name + ": " + command, e);
    }
    ConcurrentLinkedQueue<String> out = new ConcurrentLinkedQueue<>();
    CompletableFuture<Matcher> ports = new CompletableFuture<>();
    Path logFile = logFile(name, p.pid());
    Thread reader = new Thread(() -> {
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
          Matcher m = PORTS.matcher(line);
          if (!ports.isDone() && m.matches()) {
            ports.complete(m);
          }
          if (line.contains("WARN") || line.contains("ERROR") || line.startsWith("meshlog-")) {
            System.out.println("[" + name + "] " + line);
          }
        }
      } catch (IOException e) {
        // the process went away
      }
      ports.completeExceptionally(new IllegalStateException(name + " exited with "
          + (p.isAlive() ? "?" : p.exitValue()) + " before printing its ports"));
    }, "proxy-output-" + name);
    reader.setDaemon(true);
    reader.start();
    Matcher m;
    try {
      m = ports.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException(name + " did not print its ports in " + timeout
          + "; its output:\n" + String.join("\n", out), e);
    }
    return new ProxyProcess(p, name, out, m.group(1), Integer.parseInt(m.group(2)),
        Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)));
  }

  /**
   * Where the whole output of the proxy {@code name} with process id {@code pid} is written:
   * {@code target/proxy-logs/<name>-<pid>.log} (or under system property
   * {@code meshlog.proxy.logs}), kept after the run so that a failure on CI can be read in full.
   */
  private static Path logFile(String name, long pid) {
    String given = System.getProperty("meshlog.proxy.logs");
    Path dir = given != null ? Path.of(given) : Path.of("target", "proxy-logs");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("proxy logs: cannot create " + dir, e);
    }
    return dir.resolve(name + "-" + pid + ".log").toAbsolutePath();
  }

  /** The proxy's id. */
  public String id() {
    return id;
  }

  /** The port the local app calls. */
  public int outboundPort() {
    return outboundPort;
  }

  /** The port other proxies call. */
  public int inboundPort() {
    return inboundPort;
  }

  /** The admin API's port. */
  public int adminPort() {
    return adminPort;
  }

  /** {@code GET path} on the admin API: the body, or an exception when not 200. */
  public String admin(String path) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + adminPort + path))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException(name + " admin " + path + ": " + r.statusCode() + " "
            + r.body());
      }
      return r.body();
    } catch (IOException e) {
      throw new UncheckedIOException(name + " admin " + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The value of an unlabelled metric on {@code /stats/prometheus} (e.g.
   * {@code meshlog_telemetry_events_dropped_total}), or -1 when absent.
   */
  public double metric(String name) {
    for (String line : admin("/stats/prometheus").split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1).trim());
      }
    }
    return -1;
  }

  /** The last lines the proxy printed (up to 2,000), for failure messages. */
  public String output() {
    return String.join("\n", output);
  }

  /** Whether the process is still running. */
  public boolean alive() {
    return process.isAlive();
  }

  /** The process id. */
  public long pid() {
    return process.pid();
  }

  /**
   * The status of {@code GET path} on the admin API (e.g. 503 from {@code /ready} while the
   * proxy has no config), or -1 when the admin API does not answer.
   */
  public int adminStatus(String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Kills the proxy with SIGKILL, as the kernel's OOM killer or a node's loss does: no drain, no
   * deregistration, no telemetry flush. Returns once the process is gone.
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

  /** Stops the proxy: SIGTERM, then a kill after 20 s. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  @Override
  public String toString() {
    return name + " (" + id + ")";
  }
}
