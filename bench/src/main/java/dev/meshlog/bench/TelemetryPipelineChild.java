package dev.meshlog.bench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.meshlog.telemetry.StreamsOverrides;

/**
 * The telemetry pipeline in a JVM of its own, as production runs it (its own heap, collector and
 * JIT; the broker and the benchmark's clients stay in the benchmark's JVM): this class's
 * {@link #main} runs there, a {@link MeasuredPipeline.InProcess} answering the benchmark's
 * questions one line each over stdin/stdout; {@link #start} runs it from the benchmark.
 */
final class TelemetryPipelineChild implements MeasuredPipeline {

  /** The image settings whose {@code jib.container.jvmFlags} are the pipeline's production options. */
  static final Path IMAGE_SETTINGS = Path.of("compose/images/meshlog-telemetry-pipeline.properties");
  /** Answers start with this; whatever else the child prints on stdout goes to its log file. */
  private static final String ANSWER = "@@ ";

  private final Process process;
  private final BufferedWriter in;
  private final BufferedReader out;
  private final Path log;
  private final String jvm;
  private final double startup;
  private final long warmedUp;

  private TelemetryPipelineChild(Process process, Path log) throws IOException {
    this.process = process;
    this.log = log;
    this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String[] running = answer().split(" ", 3); // running <startup s> <warmed-up events>
    if (!running[0].equals("running")) {
      throw new IllegalStateException("the pipeline's JVM said " + Arrays.toString(running));
    }
    this.startup = Double.parseDouble(running[1]);
    this.warmedUp = Long.parseLong(running[2]);
    this.jvm = ask("jvm");
  }

  /**
   * The pipeline's production JVM options: {@code jib.container.jvmFlags} (comma-separated) of
   * the telemetry pipeline's image settings, the list its image and {@code ./meshlog} use.
   */
  static List<String> productionJvmOptions(Path settings) {
    return ImageSettings.jvmOptions(settings, "the pipeline's JVM options", "--pipeline-jvm-options");
  }

  /** Starts the pipeline in a child JVM with {@code jvmOptions}; returns once it is RUNNING. */
  static TelemetryPipelineChild start(Config config, List<String> jvmOptions) throws IOException {
    Files.createDirectories(config.stateDir());
    // Outside the state directory, which the benchmark deletes: kept for a look afterwards.
    Path log = Files.createTempFile("meshlog-telemetry-pipeline-jvm-", ".log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    // The bench jar's manifest class path holds the pipeline and its dependencies.
    command.addAll(List.of("-cp", System.getProperty("java.class.path"),
        TelemetryPipelineChild.class.getName(), config.bootstrap(), config.stateDir().toString(),
        config.application(), Long.toString(config.commitInterval().toMillis()),
        Long.toString(config.catchUpCommitInterval().toMillis()), Integer.toString(config.threads()),
        Long.toString(config.warmupEvents())));
    config.streamsConfig().forEach((key, value) -> command.add(key + "=" + value));
    Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
    try {
      return new TelemetryPipelineChild(process, log);
    } catch (IOException | RuntimeException e) {
      process.destroyForcibly();
      throw new IllegalStateException("the pipeline's JVM did not start (" + e.getMessage()
          + "); see " + log, e);
    }
  }

  /** The next answer; other lines the child printed go to its log. */
  private String answer() throws IOException {
    for (String line; (line = out.readLine()) != null; ) {
      // The JVM's own output (-XX:+PrintCompilation, say) may leave a line unfinished before
      // an answer, which is written whole, in one write, ending its line.
      int at = line.indexOf(ANSWER);
      if (at >= 0) {
        return line.substring(at + ANSWER.length());
      }
      Files.writeString(log, line + "\n", StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.APPEND, java.nio.file.StandardOpenOption.CREATE);
    }
    throw new IOException("the pipeline's JVM ended (exit " + waitExit() + "); see " + log);
  }

  private String waitExit() {
    try {
      return process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)
          ? Integer.toString(process.exitValue()) : "still running";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "?";
    }
  }

  private synchronized String ask(String question) {
    try {
      in.write(question);
      in.newLine();
      in.flush();
      return answer();
    } catch (IOException e) {
      throw new IllegalStateException("the pipeline's JVM: " + question + ": " + e.getMessage(), e);
    }
  }

  private static long[] longs(String line) {
    return Arrays.stream(line.trim().split(" ")).mapToLong(Long::parseLong).toArray();
  }

  @Override
  public Sample sample() {
    long[] v = longs(ask("sample"));
    return new Sample(v[0], v[1], v[2], v[3]);
  }

  @Override
  public long windowedCalls(Duration size) {
    return Long.parseLong(ask("windows " + size.toMillis()));
  }

  @Override
  public Map<String, Long> cpuGroups() {
    long[] v = longs(ask("cpu"));
    Map<String, Long> groups = new LinkedHashMap<>();
    for (int i = 0; i < GROUPS.size(); i++) {
      groups.put(GROUPS.get(i), v[i]);
    }
    return groups;
  }

  @Override
  public Map<String, List<Integer>> tasks() {
    Map<String, List<Integer>> tasks = new TreeMap<>();
    for (String thread : ask("tasks").split(";")) {
      String[] t = thread.split("=", 2);
      if (t.length == 2) {
        tasks.put(t[0], t[1].isEmpty() ? List.of()
            : Arrays.stream(t[1].split(",")).map(Integer::valueOf).toList());
      }
    }
    return tasks;
  }

  @Override
  public Map<String, ThreadTime> threadTimes() {
    Map<String, ThreadTime> times = new TreeMap<>();
    for (String thread : ask("threads").split(";")) {
      String[] t = thread.split("=", 2);
      if (t.length == 2) {
        times.put(t[0], ThreadTime.decode(t[1]));
      }
    }
    return times;
  }

  @Override
  public String jvm() {
    return jvm + " (pid " + process.pid() + ", log " + log + ")";
  }

  @Override
  public double startupSeconds() {
    return startup;
  }

  @Override
  public long warmedUpWith() {
    return warmedUp;
  }

  @Override
  public String warmUp() {
    return ask("warmup");
  }

  /** Asks the child to close the pipeline (leaving the group) and waits for it to end. */
  @Override
  public void close() {
    try {
      ask("close");
    } catch (RuntimeException e) {
      // already gone: nothing to close
    }
    try {
      if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  /**
   * In the child JVM: {@code bootstrap stateDir application commitMs catchUpMs threads
   * warmupEvents [KEY=VALUE ...]} (the last ones: {@code --pipeline-streams-config}); then one answer per line read on stdin, until {@code close} or the end of
   * stdin (the benchmark ended), either of which closes the pipeline.
   */
  public static void main(String[] args) throws Exception {
    // Answers go to the real stdout; anything else printing to System.out goes to stderr (the log).
    PrintStream answers = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
        true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    Config config = new Config(args[0], Path.of(args[1]), args[2],
        Duration.ofMillis(Long.parseLong(args[3])), Duration.ofMillis(Long.parseLong(args[4])),
        Integer.parseInt(args[5]), Long.parseLong(args[6]),
        StreamsOverrides.parse(List.of(args).subList(7, args.length)));
    InProcess pipeline = InProcess.start(config);
    System.err.printf("# measured pipeline RUNNING at %d ms of uptime (warm-up: %,d events)%n",
        java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime(), pipeline.warmedUpWith());
    answers.println(ANSWER + "running " + pipeline.startupSeconds() + " " + pipeline.warmedUpWith());
    BufferedReader questions = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      for (String q; (q = questions.readLine()) != null; ) {
        String[] w = q.trim().split(" ");
        String a = switch (w[0]) {
          case "sample" -> {
            Sample s = pipeline.sample();
            yield s.processed() + " " + s.streamCpuNanos() + " " + s.jvmCpuNanos() + " "
                + s.aggregatedCalls();
          }
          case "windows" -> Long.toString(pipeline.windowedCalls(Duration.ofMillis(Long.parseLong(w[1]))));
          case "cpu" -> String.join(" ", pipeline.cpuGroups().values().stream().map(String::valueOf).toList());
          case "tasks" -> String.join(";", pipeline.tasks().entrySet().stream().map(e -> e.getKey() + "="
              + String.join(",", e.getValue().stream().map(String::valueOf).toList())).toList());
          case "threads" -> String.join(";", pipeline.threadTimes().entrySet().stream()
              .map(e -> e.getKey() + "=" + e.getValue().encode()).toList());
          case "jvm" -> pipeline.jvm();
          case "warmup" -> pipeline.warmUp();
          case "close" -> "closing";
          default -> "unknown question " + q;
        };
        if (w[0].equals("close")) {
          pipeline.close();
          answers.println(ANSWER + a);
          System.exit(0);
        }
        answers.println(ANSWER + a);
      }
    } finally {
      pipeline.close();
    }
    System.exit(0);
  }
}
