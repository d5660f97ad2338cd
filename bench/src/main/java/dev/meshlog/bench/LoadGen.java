package dev.meshlog.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The load generators the proxy harness drives, each run as a child process bounded in time:
 * wrk for throughput (closed loop, fixed connections and duration) and h2load for a fixed
 * request rate (open loop per connection, {@code --rps}), whose per-request log gives exact
 * latency percentiles.
 */
final class LoadGen {

  /** The Host every request carries: the service name the Meshlog sidecar routes on. */
  static final String HOST = "bench-backend";
  /** The path every request asks for. */
  static final String PATH = "/bench";

  private LoadGen() {}

  /**
   * A wrk run.
   *
   * @param rps requests per second over the run
   * @param requests completed requests
   * @param errors non-2xx/3xx responses plus socket errors
   * @param p50Ms median latency as wrk measured it
   * @param p99Ms 99th percentile latency as wrk measured it
   */
  record Throughput(double rps, long requests, long errors, double p50Ms, double p99Ms) {}

  /**
   * An h2load fixed-rate run.
   *
   * @param ok requests answered 2xx
   * @param failed requests not answered 2xx (including ones h2load counted as failed/errored)
   * @param rps 2xx requests per second achieved
   * @param latenciesMs latency of every 2xx request, sorted
   * @param bunched the share of requests that started within {@link #BUNCHED_MICROS} of the one
   *     before (0..1): how far the arrivals were from evenly spaced
   */
  record FixedRate(long ok, long failed, double rps, double[] latenciesMs, double bunched) {

    /** The {@code p}-th percentile latency (nearest rank), in ms. */
    double percentile(double p) {
      if (latenciesMs.length == 0) {
        return Double.NaN;
      }
      int i = (int) Math.ceil(p / 100.0 * latenciesMs.length) - 1;
      return latenciesMs[Math.max(0, Math.min(latenciesMs.length - 1, i))];
    }
  }

  /** wrk with one thread on {@code cpus}, {@code connections} connections, for {@code d}. */
  static Throughput wrk(String cpus, int port, int connections, Duration d, Path log)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(pin(cpus));
    cmd.addAll(List.of("wrk", "-t1", "-c" + connections, "-d" + d.toSeconds() + "s",
        "--latency", "--timeout", "5s", "-H", "Host: " + HOST,
        "http://127.0.0.1:" + port + PATH));
    String out = run(cmd, d.plusSeconds(30), log);
    double rps = number(out, "Requests/sec:\\s+([0-9.]+)");
    long requests = (long) number(out, "([0-9]+) requests in");
    long errors = 0;
    Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: ([0-9]+)").matcher(out);
    if (non2xx.find()) {
      errors += Long.parseLong(non2xx.group(1));
    }
    Matcher socket = Pattern.compile(
        "Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)")
        .matcher(out);
    if (socket.find()) {
      for (int g = 1; g <= 4; g++) {
        errors += Long.parseLong(socket.group(g));
      }
    }
    return new Throughput(rps, requests, errors, wrkPercentile(out, "50%"),
        wrkPercentile(out, "99%"));
  }

  /**
   * h2load over HTTP/1.1 with {@code connections} connections sending POSTs of {@code body} as
   * fast as they are answered, for {@code d}: a warm-up on the fixed-rate phase's own requests
   * (a JVM proxy warmed only with wrk's GETs still compiles its body-handling paths, on the core
   * it shares with its event loop, during the measured phase). Returns the requests answered
   * (the harness takes the last round's CPU per request as POSTs at saturation).
   */
  static long warmPost(String cpus, int port, int connections, Duration d, Path body, Path log)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(pin(cpus));
    cmd.addAll(List.of("h2load", "--h1", "-t1", "-c" + connections,
        "-D", Long.toString(d.toSeconds()), "-d", body.toString(), "-H", ":authority: " + HOST,
        "http://127.0.0.1:" + port + PATH));
    String out = run(cmd, d.plusSeconds(30), log);
    return (long) number(out,
        "requests: [0-9]+ total, [0-9]+ started, [0-9]+ done, ([0-9]+) succeeded");
  }

  /**
   * How a fixed rate's requests arrive. h2load's {@code --rps} gives each connection its own
   * timer, and connections opened together fire together: {@code -c10 --rps=100} sends bursts
   * of 10 requests within ~0.1 ms, every 10 ms. {@code SPREAD} opens the connections one rate
   * interval apart ({@code -r 1 --rate-period}), so the timers are staggered and requests arrive
   * about evenly spaced, as 1,000 req/s from many callers do, as long as h2load's timers stay
   * apart (a late one falls into step with the others); {@code BURST} is h2load's default and
   * the harness's, comparable with the figures recorded so far.
   */
  enum Shape { SPREAD, BURST }

  /** Two requests starting closer than this count as bunched (see {@link FixedRate#bunched}). */
  static final long BUNCHED_MICROS = 100;

  /**
   * The h2load command of a fixed-rate run: HTTP/1.1, {@code connections} connections each
   * sending {@code rate / connections} POSTs of {@code body} per second for {@code d}, shaped
   * by {@code shape}.
   */
  static List<String> fixedRateCommand(int port, int rate, int connections, Duration d,
                                       Shape shape, Path body, Path requestLog) {
    if (rate % connections != 0) {
      throw new IllegalArgumentException("rate " + rate + " (expected: a multiple of the "
          + connections + " connections)");
    }
    List<String> cmd = new ArrayList<>(List.of("h2load", "--h1", "-t1", "-c" + connections,
        "--rps=" + rate / connections));
    if (shape == Shape.SPREAD) {
      // h2load's periods are whole milliseconds: above 1,000 req/s several connections open
      // per millisecond (still far less bunched than all at once). -r excludes -D, so the
      // duration becomes a request count.
      long perMs = Math.max(1, Math.round(rate / 1000.0));
      long periodMs = Math.max(1, Math.round(1000.0 * perMs / rate));
      cmd.addAll(List.of("-r", Long.toString(perMs), "--rate-period=" + periodMs + "ms",
          "-n", Long.toString((long) rate * d.toSeconds())));
    } else {
      cmd.addAll(List.of("-D", Long.toString(d.toSeconds())));
    }
    cmd.addAll(List.of("-d", body.toString(), "-H", ":authority: " + HOST, "--log-file",
        requestLog.toString(), "http://127.0.0.1:" + port + PATH));
    return cmd;
  }

  /**
   * The share of {@code startsMicros} (request start times, any order) that begin within
   * {@link #BUNCHED_MICROS} of the previous start: about 0.9 for bursts of 10, near 0 for
   * evenly spaced requests at 1,000 req/s.
   */
  static double bunched(long[] startsMicros) {
    if (startsMicros.length < 2) {
      return 0;
    }
    long[] s = startsMicros.clone();
    java.util.Arrays.sort(s);
    int close = 0;
    for (int i = 1; i < s.length; i++) {
      if (s[i] - s[i - 1] < BUNCHED_MICROS) {
        close++;
      }
    }
    return close / (double) (s.length - 1);
  }

  /**
   * A fixed-rate run of {@link #fixedRateCommand} with h2load pinned to {@code cpus}; latencies
   * from its per-request log.
   */
  static FixedRate fixedRate(String cpus, int port, int rate, int connections, Duration d,
                             Shape shape, Path body, Path requestLog, Path log)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(pin(cpus));
    cmd.addAll(fixedRateCommand(port, rate, connections, d, shape, body, requestLog));
    Files.deleteIfExists(requestLog);
    String out = run(cmd, d.plusSeconds(30), log);
    List<Double> ok = new ArrayList<>();
    List<Long> starts = new ArrayList<>();
    long bad = 0;
    for (String line : Files.readAllLines(requestLog)) {
      String[] f = line.split("\t");
      if (f.length < 3) {
        continue;
      }
      starts.add(Long.parseLong(f[0].trim()));
      int status = Integer.parseInt(f[1].trim());
      if (status >= 200 && status < 300) {
        ok.add(Long.parseLong(f[2].trim()) / 1000.0);
      } else {
        bad++;
      }
    }
    Matcher m = Pattern.compile("([0-9]+) failed, ([0-9]+) errored").matcher(out);
    if (m.find()) {
      bad = Math.max(bad, Long.parseLong(m.group(1)) + Long.parseLong(m.group(2)));
    }
    double[] sorted = ok.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return new FixedRate(sorted.length, bad, sorted.length / (double) d.toSeconds(), sorted,
        bunched(starts.stream().mapToLong(Long::longValue).toArray()));
  }

  private static List<String> pin(String cpus) {
    return cpus.isEmpty() ? List.of() : List.of("taskset", "-c", cpus);
  }

  /** Runs {@code cmd} to completion (killing it after {@code limit}); returns its output. */
  private static String run(List<String> cmd, Duration limit, Path log)
      throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
        .start();
    if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(5, TimeUnit.SECONDS);
      throw new IOException(String.join(" ", cmd) + " did not finish in " + limit.toSeconds()
          + " s; see " + log);
    }
    String out = Files.readString(log);
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out);
    }
    return out;
  }

  private static double number(String out, String regex) throws IOException {
    Matcher m = Pattern.compile(regex).matcher(out);
    if (!m.find()) {
      throw new IOException("unexpected load generator output (no " + regex + "): " + out);
    }
    return Double.parseDouble(m.group(1));
  }

  /** A percentile from wrk's --latency distribution, in ms. */
  private static double wrkPercentile(String out, String label) {
    Matcher m = Pattern.compile("\\s" + Pattern.quote(label) + "\\s+([0-9.]+)(us|ms|s)")
        .matcher(out);
    if (!m.find()) {
      return Double.NaN;
    }
    double v = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "us" -> v / 1000;
      case "s" -> v * 1000;
      default -> v;
    };
  }
}
