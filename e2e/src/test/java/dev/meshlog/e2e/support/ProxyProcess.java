package dev.meshlog.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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

  private final JarProcess process;
  private final String name;
  private final String id;
  private final int outboundPort;
  private final int inboundPort;
  private final int adminPort;

  private ProxyProcess(JarProcess process, String name, String id, int outbound, int inbound,
                       int admin) {
    this.process = process;
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
    JarProcess p = JarProcess.start(name, jar(), "-Xmx128m", List.of(args), PORTS,
        line -> line.contains("WARN") || line.contains("ERROR") || line.startsWith("meshlog-"),
        "printing its ports", timeout);
    Matcher m = p.started();
    return new ProxyProcess(p, name, m.group(1), Integer.parseInt(m.group(2)),
        Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)));
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
    return process.output();
  }

  /** Whether the process is still running. */
  public boolean alive() {
    return process.alive();
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
    process.kill();
  }

  /** Stops the proxy: SIGTERM, then a kill after 20 s. */
  @Override
  public void close() {
    process.close(Duration.ofSeconds(20));
  }

  @Override
  public String toString() {
    return name + " (" + id + ")";
  }
}
