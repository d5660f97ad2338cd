package dev.meshlog.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import dev.meshlog.schemas.Topics;
import dev.meshlog.telemetry.TelemetryApp;
import dev.meshlog.telemetry.TelemetryTopology;
import dev.meshlog.telemetry.query.EdgeFilter;
import dev.meshlog.telemetry.query.LocalStores;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/**
 * The telemetry pipeline {@link TelemetryPipelineBench} measures: in the benchmark's own JVM
 * ({@link InProcess}) or in a JVM of its own started with the production options
 * ({@link TelemetryPipelineChild}). Either way a {@link TelemetryApp} with the production
 * settings, optionally after a warm-up run of another application over the same backlog.
 */
interface MeasuredPipeline extends AutoCloseable {

  /** One sample: records processed, CPU of the stream threads and of the whole JVM, calls counted. */
  record Sample(long processed, long streamCpuNanos, long jvmCpuNanos, long aggregatedCalls) {}

  /** What the pipeline's threads did so far. */
  Sample sample();

  /** Calls counted in the windows of {@code size} (0 while it rebalances). */
  long windowedCalls(Duration size);

  /** CPU nanoseconds of the pipeline's JVM by thread group, cumulative. */
  Map<String, Long> cpuGroups();

  /** The input partitions each stream thread runs. */
  Map<String, List<Integer>> tasks();

  /** Where each stream thread's time went so far (cumulative), by thread name from {@code StreamThread-}. */
  Map<String, ThreadTime> threadTimes();

  /**
   * One stream thread's time, cumulative: on a CPU and waiting for one (the run queue, from
   * {@code /proc/self/task/<tid>/schedstat}: the machine's other load), and the parts Kafka's
   * clients report as blocked — the consumer waiting in {@code poll} for fetched data
   * ({@code io-wait-time-ns-total}), the producer's flush before each commit
   * ({@code flush-time-ns-total}), the transaction's begin, offsets and end
   * ({@code txn-*-time-ns-total}), and Kafka Streams' {@code blocked-time-ns-total} (all of
   * those and the clients' other waits); the records it processed and its commits; and Kafka
   * Streams' own ratios of its loop ({@code poll-ratio}, {@code process-ratio},
   * {@code commit-ratio}, {@code punctuate-ratio}: rolling averages over its recent iterations,
   * not cumulative).
   */
  record ThreadTime(long cpuNanos, long runQueueNanos, long pollWaitNanos, long flushNanos,
                    long txnNanos, long blockedNanos, long processed, long commits,
                    double pollRatio, double processRatio, double commitRatio, double punctuateRatio) {

    String encode() {
      return cpuNanos + "," + runQueueNanos + "," + pollWaitNanos + "," + flushNanos + "," + txnNanos
          + "," + blockedNanos + "," + processed + "," + commits + "," + pollRatio + "," + processRatio
          + "," + commitRatio + "," + punctuateRatio;
    }

    static ThreadTime decode(String s) {
      String[] v = s.split(",");
      return new ThreadTime(Long.parseLong(v[0]), Long.parseLong(v[1]), Long.parseLong(v[2]),
          Long.parseLong(v[3]), Long.parseLong(v[4]), Long.parseLong(v[5]), Long.parseLong(v[6]),
          Long.parseLong(v[7]), Double.parseDouble(v[8]), Double.parseDouble(v[9]),
          Double.parseDouble(v[10]), Double.parseDouble(v[11]));
    }

    /** What happened since {@code earlier} (ratios: this one's). */
    ThreadTime since(ThreadTime earlier) {
      return earlier == null ? this : new ThreadTime(cpuNanos - earlier.cpuNanos,
          runQueueNanos - earlier.runQueueNanos, pollWaitNanos - earlier.pollWaitNanos,
          flushNanos - earlier.flushNanos, txnNanos - earlier.txnNanos,
          blockedNanos - earlier.blockedNanos, processed - earlier.processed,
          commits - earlier.commits, pollRatio, processRatio, commitRatio, punctuateRatio);
    }
  }

  /** The JVM the pipeline runs in: its options, heap and collectors. */
  String jvm();

  /** Seconds from start to RUNNING of the measured application (the warm-up not included). */
  double startupSeconds();

  /** Events the warm-up applications read before the measured one started (0: none). */
  long warmedUpWith();

  /** The warm-up rounds: each one's JIT share. */
  String warmUp();

  @Override
  void close();

  /** The pipeline's settings, as the benchmark gives them to either kind. */
  record Config(String bootstrap, Path stateDir, String application, Duration commitInterval,
                Duration catchUpCommitInterval, int threads, long warmupEvents,
                Map<String, String> streamsConfig) {

    TelemetryApp.Settings settings(String applicationId, Path dir) {
      return new TelemetryApp.Settings(bootstrap, dir, "127.0.0.1:1", commitInterval,
          TelemetryTopology.Settings.defaults(applicationId), threads, catchUpCommitInterval,
          streamsConfig);
    }
  }

  /** This JVM's options, heap and collectors. */
  static String thisJvm() {
    return String.format(java.util.Locale.ROOT, "%s, max heap %d MiB, collectors %s, options %s",
        System.getProperty("java.vm.version"), Runtime.getRuntime().maxMemory() >> 20,
        ManagementFactory.getGarbageCollectorMXBeans().stream()
            .map(java.lang.management.GarbageCollectorMXBean::getName).toList(),
        ManagementFactory.getRuntimeMXBean().getInputArguments());
  }

  /** Warm-up rounds at most before the measured application starts. */
  int MAX_WARMUP_ROUNDS = 3;

  /** The pipeline in this JVM. */
  final class InProcess implements MeasuredPipeline {
    /** What the warm-up rounds of this JVM did (for the report). */
    static volatile String warmUpLog = "";

    private final TelemetryApp app;
    private final LocalStores stores;
    private final double startup;
    private final long warmedUp;

    private InProcess(TelemetryApp app, double startup, long warmedUp) {
      this.app = app;
      this.stores = new LocalStores(app.streams());
      this.startup = startup;
      this.warmedUp = warmedUp;
    }

    /**
     * Warms this JVM up, then starts the measured application and waits for RUNNING. A warm-up
     * round is an application of its own id reading {@code warmupEvents} of the backlog and
     * leaving (its state is not used); rounds go on until the JIT compilers used less than a
     * tenth of the stream threads' CPU in the last one, or after {@link #MAX_WARMUP_ROUNDS}:
     * a JVM that still compiles the pipeline's code is not measuring its sustained rate.
     */
    static InProcess start(Config config) throws InterruptedException {
      long warmedUp = 0;
      List<String> rounds = new ArrayList<>();
      for (int round = 1; config.warmupEvents() > 0 && round <= MAX_WARMUP_ROUNDS; round++) {
        Map<String, Long> cpu0 = cpuByThreadGroup();
        TelemetryApp warm = new TelemetryApp(config.settings(config.application() + "-warmup" + round,
            config.stateDir().resolve("warmup" + round)));
        long read = 0;
        long stream = 1;
        try {
          warm.start();
          if (!warm.awaitRunning(Duration.ofMinutes(2))) {
            throw new IllegalStateException("warm-up pipeline not RUNNING after 2 min");
          }
          long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
          while ((read = recordsProcessed(warm)) < config.warmupEvents()
              && System.nanoTime() < deadline) {
            Thread.sleep(50); // nothing to be notified by: Kafka Streams' metrics are polled
          }
          // before they end: an ended thread's CPU time is no longer reported
          stream = Math.max(1, streamThreadsCpuNanos());
        } finally {
          warm.close();
        }
        warmedUp += read;
        Map<String, Long> cpu1 = cpuByThreadGroup();
        double jit = cpu1.get("JIT compilers") - cpu0.get("JIT compilers");
        rounds.add(String.format(java.util.Locale.ROOT, "round %d: JIT %.0f%% of the stream threads' CPU",
            round, 100 * jit / stream));
        if (jit < stream / 10) {
          break;
        }
      }
      warmUpLog = String.join("; ", rounds);
      TelemetryApp app = new TelemetryApp(config.settings(config.application(),
          config.stateDir().resolve("measured")));
      long s0 = System.nanoTime();
      app.start();
      if (!app.awaitRunning(Duration.ofMinutes(2))) {
        app.close();
        throw new IllegalStateException("pipeline not RUNNING after 2 min");
      }
      return new InProcess(app, (System.nanoTime() - s0) / 1e9, warmedUp);
    }

    @Override
    public Sample sample() {
      // Sampled every 50 ms beside the stream threads on the same cores: the stream threads and
      // their process-total metrics are looked up once (Thread.getAllStackTraces stops every
      // thread at a safepoint, and KafkaStreams.metrics() copies thousands of metrics), again
      // only when a stream thread has ended or none was found.
      if (sampled.isEmpty() || sampled.stream().anyMatch(t -> !t.isAlive())) {
        sampled = Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().contains("-StreamThread-")).toList();
        processTotals = app.streams().metrics().entrySet().stream()
            .filter(e -> e.getKey().name().equals("process-total")
                && e.getKey().group().equals("stream-thread-metrics"))
            .map(Map.Entry::getValue).toList();
      }
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      long cpu = 0;
      for (Thread t : sampled) {
        cpu += Math.max(0, mx.getThreadCpuTime(t.getId()));
      }
      long processed = processTotals.isEmpty() ? -1 : 0;
      for (var m : processTotals) {
        processed += m.metricValue() instanceof Number n ? n.longValue() : 0;
      }
      return new Sample(processed, cpu, processCpuNanos(), aggregatedCalls());
    }

    private List<Thread> sampled = List.of();
    private List<? extends org.apache.kafka.common.Metric> processTotals = List.of();

    private long aggregatedCalls() {
      try {
        return stores.totals(EdgeFilter.ALL).stream().mapToLong(m -> m.getRequests()).sum();
      } catch (InvalidStateStoreException e) {
        return 0;
      }
    }

    @Override
    public long windowedCalls(Duration size) {
      try {
        return stores.windows(size, Instant.EPOCH, Instant.now().plus(Duration.ofDays(1)),
            EdgeFilter.ALL).stream().mapToLong(m -> m.getRequests()).sum();
      } catch (InvalidStateStoreException e) {
        return 0;
      }
    }

    @Override
    public Map<String, Long> cpuGroups() {
      return cpuByThreadGroup();
    }

    @Override
    public Map<String, List<Integer>> tasks() {
      Map<String, List<Integer>> out = new TreeMap<>();
      for (var thread : app.streams().metadataForLocalThreads()) {
        List<Integer> parts = new ArrayList<>();
        for (var task : thread.activeTasks()) {
          for (TopicPartition tp : task.topicPartitions()) {
            if (tp.topic().equals(Topics.TELEMETRY_REQUESTS.name())) {
              parts.add(tp.partition());
            }
          }
        }
        Collections.sort(parts);
        String name = thread.threadName();
        out.put(name.substring(name.indexOf("StreamThread")), parts);
      }
      return out;
    }

    @Override
    public Map<String, ThreadTime> threadTimes() {
      return threadTimesOf(app);
    }

    @Override
    public String jvm() {
      return thisJvm();
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
      return warmUpLog;
    }

    @Override
    public void close() {
      app.close();
    }
  }

  /** Records the app's stream threads have processed ({@code process-total}), or -1 if not reported. */
  static long recordsProcessed(TelemetryApp app) {
    double sum = 0;
    boolean found = false;
    for (var e : app.streams().metrics().entrySet()) {
      if (e.getKey().name().equals("process-total") && e.getKey().group().equals("stream-thread-metrics")
          && e.getValue().metricValue() instanceof Number n) {
        sum += n.doubleValue();
        found = true;
      }
    }
    return found ? (long) sum : -1;
  }

  /** Each live stream thread's {@link ThreadTime} (see there), by name from {@code StreamThread-}. */
  static Map<String, ThreadTime> threadTimesOf(TelemetryApp app) {
    // Kafka's metrics of every client of the app, by owner (thread or client id) and name.
    Map<String, Map<String, Double>> metrics = new java.util.HashMap<>();
    for (var e : app.streams().metrics().entrySet()) {
      var n = e.getKey();
      String owner = n.tags().getOrDefault("thread-id", n.tags().get("client-id"));
      if (owner != null && n.tags().size() <= 2 && e.getValue().metricValue() instanceof Number v) {
        metrics.computeIfAbsent(n.group() + "|" + owner, k -> new java.util.HashMap<>())
            .put(n.name(), v.doubleValue());
      }
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    // The kernel knows threads by a 15-character name: a stream thread's task is the one of
    // that name whose CPU time is nearest its own (read at the same moment).
    List<Child.ThreadStat> tasks = new ArrayList<>(
        Child.threadStats(Stream.of(ProcessHandle.current().pid())).values());
    Map<String, ThreadTime> out = new TreeMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      String name = t.getName();
      if (!name.contains("-StreamThread-") || name.startsWith("kafka-")) {
        continue; // not a stream thread, or one of its clients' threads
      }
      long cpu = Math.max(0, mx.getThreadCpuTime(t.getId()));
      String comm = name.length() > 15 ? name.substring(0, 15) : name;
      long runQueue = tasks.stream().filter(s -> s.name().equals(comm))
          .min(java.util.Comparator.comparingLong(s -> Math.abs(s.cpuNanos() - cpu)))
          .map(Child.ThreadStat::waitNanos).orElse(0L);
      Map<String, Double> thread = metrics.getOrDefault("stream-thread-metrics|" + name, Map.of());
      Map<String, Double> producer = metrics.getOrDefault("producer-metrics|" + name + "-producer", Map.of());
      Map<String, Double> consumer = metrics.getOrDefault("consumer-metrics|" + name + "-consumer", Map.of());
      long txn = (long) (producer.getOrDefault("txn-begin-time-ns-total", 0.0)
          + producer.getOrDefault("txn-send-offsets-time-ns-total", 0.0)
          + producer.getOrDefault("txn-commit-time-ns-total", 0.0)
          + producer.getOrDefault("txn-abort-time-ns-total", 0.0));
      out.put(name.substring(name.indexOf("StreamThread")), new ThreadTime(cpu, runQueue,
          consumer.getOrDefault("io-wait-time-ns-total", 0.0).longValue(),
          producer.getOrDefault("flush-time-ns-total", 0.0).longValue(), txn,
          thread.getOrDefault("blocked-time-ns-total", 0.0).longValue(),
          thread.getOrDefault("process-total", 0.0).longValue(),
          thread.getOrDefault("commit-total", 0.0).longValue(),
          thread.getOrDefault("poll-ratio", Double.NaN), thread.getOrDefault("process-ratio", Double.NaN),
          thread.getOrDefault("commit-ratio", Double.NaN), thread.getOrDefault("punctuate-ratio", Double.NaN)));
    }
    return out;
  }

  /**
   * CPU time of the pipeline's stream threads (Kafka Streams names them
   * {@code <client id>-StreamThread-<n>}), alive or not.
   */
  static long streamThreadsCpuNanos() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().contains("-StreamThread-")) {
        sum += Math.max(0, mx.getThreadCpuTime(t.getId()));
      }
    }
    return sum;
  }

  /** CPU time of this whole JVM. */
  static long processCpuNanos() {
    return ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
  }

  /** Thread-group names of {@link #cpuByThreadGroup()}, in order. */
  List<String> GROUPS = List.of("stream threads", "their producers' senders",
      "their consumers' heartbeats", "harness (main, sampling)", "broker and other Java threads",
      "JIT compilers", "GC (GC threads and the VM thread)", "other JVM threads, and threads that ended");

  /**
   * CPU time of this JVM's threads by group: the pipeline's stream threads, their producers' and
   * consumers' own threads, the harness's main thread, the broker (in the benchmark's JVM) and
   * everything else in Java; of the JVM's own threads (from {@code /proc/self/task}), the JIT
   * compilers and the garbage collector (GC worker threads, and the VM thread, which runs the
   * serial collector and every other safepoint operation); the rest of the JVM's time (other
   * JVM threads, and threads that ended) last.
   */
  static Map<String, Long> cpuByThreadGroup() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Map<String, Long> out = new LinkedHashMap<>();
    GROUPS.forEach(g -> out.put(g, 0L));
    long accounted = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      long cpu = Math.max(0, mx.getThreadCpuTime(t.getId()));
      accounted += cpu;
      String n = t.getName();
      String group = n.startsWith("kafka-producer-network-thread") && n.contains("-StreamThread-")
          ? "their producers' senders"
          : n.startsWith("kafka-coordinator-heartbeat-thread") && n.contains("bench-telemetry")
          ? "their consumers' heartbeats"
          : n.contains("-StreamThread-") ? "stream threads"
          : n.equals("main") ? "harness (main, sampling)"
          : "broker and other Java threads";
      out.merge(group, cpu, Long::sum);
    }
    for (Child.ThreadStat t : Child.threadStats(Stream.of(ProcessHandle.current().pid())).values()) {
      String n = t.name();
      String group = n.startsWith("C1 CompilerThre") || n.startsWith("C2 CompilerThre")
          ? "JIT compilers"
          : n.startsWith("GC Thread") || n.startsWith("G1 ") || n.equals("VM Thread")
          ? "GC (GC threads and the VM thread)" : null;
      if (group != null) {
        out.merge(group, t.cpuNanos(), Long::sum);
        accounted += t.cpuNanos();
      }
    }
    out.put("other JVM threads, and threads that ended", Math.max(0, processCpuNanos() - accounted));
    return out;
  }
}
