package dev.meshlog.e2e.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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

  private final JarProcess process;
  private final int httpPort;

  private ServiceProcess(JarProcess process, int httpPort) {
    this.process = process;
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
    JarProcess p = JarProcess.start(module, jar(module), "-Xmx192m", List.of(args),
        Pattern.compile("^" + Pattern.quote(module + " running") + ".*"),
        line -> line.contains("ERROR") || line.startsWith(module), "it ran", timeout);
    // The line saying it runs names its HTTP API, when it has one.
    Matcher port = HTTP_PORT.matcher(p.started().group());
    return new ServiceProcess(p, port.find() ? Integer.parseInt(port.group(1)) : -1);
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
    process.kill();
  }

  /** The last lines it printed (up to 2,000), for failure messages. */
  public String output() {
    return process.output();
  }

  /** Whether the process is still running. */
  public boolean alive() {
    return process.alive();
  }

  /**
   * Stops it as an operator does (SIGTERM: its shutdown hook closes the Streams app, which
   * commits) and returns its exit status; kills it if it has not exited in 60 s.
   */
  public int stop() {
    return process.stop(Duration.ofSeconds(60));
  }

  @Override
  public void close() {
    process.close(Duration.ofSeconds(30));
  }
}
