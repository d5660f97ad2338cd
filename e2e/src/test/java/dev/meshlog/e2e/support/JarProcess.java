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
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One of Meshlog's jars running as a child process, as a user runs it: started with a small heap,
 * its output followed by a thread of its own — kept whole in {@code target/proxy-logs/<name>-<pid>.log}
 * (or under system property {@code meshlog.proxy.logs}, kept after the run so that a failure on
 * CI can be read in full), its last 2,000 lines in memory for failure messages, and the lines a
 * test wants to see echoed with a prefix. {@link ProxyProcess} and {@link ServiceProcess} are
 * the two kinds.
 */
final class JarProcess {

  private static final int KEPT_LINES = 2_000;

  private final String name;
  private final Process process;
  private final ConcurrentLinkedQueue<String> output;
  private final Matcher started;

  private JarProcess(String name, Process process, ConcurrentLinkedQueue<String> output,
                     Matcher started) {
    this.name = name;
    this.process = process;
    this.output = output;
    this.started = started;
  }

  /**
   * Runs {@code java <heap> -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar <jar> <args>} and waits
   * up to {@code timeout} for a line in which {@code startedLine} is found.
   *
   * @param name the process's name in messages, log file and echo prefix
   * @param echo which lines to echo to the test's output
   * @param waitingFor what the line says, for the error when it does not come ("printing its ports")
   */
  static JarProcess start(String name, Path jar, String heap, List<String> args, Pattern startedLine,
                          Predicate<String> echo, String waitingFor, Duration timeout) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar.toString()));
    command.addAll(args);
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new UncheckedIOException("starting " + name + ": " + command, e);
    }
    ConcurrentLinkedQueue<String> out = new ConcurrentLinkedQueue<>();
    CompletableFuture<Matcher> started = new CompletableFuture<>();
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
          if (out.size() > KEPT_LINES) {
            out.poll();
          }
          Matcher m = startedLine.matcher(line);
          if (!started.isDone() && m.find()) {
            started.complete(m);
          }
          if (echo.test(line)) {
            System.out.println("[" + name + "] " + line);
          }
        }
      } catch (IOException e) {
        // the process went away
      }
      started.completeExceptionally(new IllegalStateException(name + " exited with "
          + (p.isAlive() ? "?" : p.exitValue()) + " before " + waitingFor));
    }, name + "-output");
    reader.setDaemon(true);
    reader.start();
    try {
      return new JarProcess(name, p, out, started.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException(name + " did not finish " + waitingFor + " in " + timeout
          + "; its output:\n" + String.join("\n", out), e);
    }
  }

  private static Path logFile(String name, long pid) {
    String given = System.getProperty("meshlog.proxy.logs");
    Path dir = given != null ? Path.of(given) : Path.of("target", "proxy-logs");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("process logs: cannot create " + dir, e);
    }
    return dir.resolve(name + "-" + pid + ".log").toAbsolutePath();
  }

  /** The match of the line that said it started. */
  Matcher started() {
    return started;
  }

  /** The last lines it printed (up to 2,000). */
  String output() {
    return String.join("\n", output);
  }

  boolean alive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** SIGKILL: no shutdown hook runs. Returns once the process is gone. */
  void kill() {
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

  /**
   * SIGTERM, and its exit status once it exits within {@code grace}; otherwise it is killed and
   * this throws with its output.
   */
  int stop(Duration grace) {
    process.destroy();
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException(name + " did not stop in " + grace + " after SIGTERM; "
            + "killed; its output:\n" + output());
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException(e);
    }
  }

  /** SIGTERM if it runs, then SIGKILL if it has not exited within {@code grace}; never throws. */
  void close(Duration grace) {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
