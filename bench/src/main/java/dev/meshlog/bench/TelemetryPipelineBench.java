package dev.meshlog.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.events.telemetry.Workload;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.telemetry.StreamsOverrides;
import dev.meshlog.telemetry.TelemetryApp;
import dev.meshlog.testkit.EmbeddedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Issue 5's pipeline benchmark: simulated proxies put {@code --events} request events (both
 * reports of each call, realistic edges, codes and latencies) on {@code
 * mesh.telemetry.requests} of an embedded broker, batched as proxies' emitters batch them
 * ({@link Emitters}: each proxy's events grouped per edge per drain, one record per edge per
 * drain; {@code --events-per-record N} fixes the batch size instead, 1 being one event per
 * record as before batching); then, in the same run, a plain consumer reads them all twice (the
 * second, warm read is the floor) and the telemetry pipeline ({@link TelemetryApp},
 * exactly-once, as in production) aggregates them all into edges, and the two rates are
 * compared, in records/s and in events/s (the events of the records read, known from what was
 * produced): sustained (between 10% and 90% of the backlog; for the pipeline between
 * two commits) and end-to-end (the pipeline's start and last commit included). Then the
 * proxies produce at a steady {@code --rate} for {@code --steady} while the pipeline runs, and
 * the lag (events produced, not yet committed by the pipeline) is sampled every second: is it
 * bounded? Finally the aggregated request count is checked against the calls produced
 * (exactly-once: equal).
 */
public final class TelemetryPipelineBench {

  static final String USAGE = """
      usage: meshlog-bench telemetry-pipeline [--events 5000000] [--services 12]
                                              [--rate 0 (= half the pipeline's catch-up rate)]
                                              [--steady 30s] [--commit-interval 1s]
                                              [--proxy-rate 1000 (each simulated proxy's events/s:
                                               a drain of 200 ms holds rate/5 events, one record per
                                               edge of them, at most 128 events each)]
                                              [--events-per-record N (instead: records of N events
                                               of one proxy and edge; 1 = one event per record,
                                               the shape before batching)]
                                              [--threads 2 (stream threads)]
                                              [--compression lz4|zstd|none (the simulated proxies'
                                               producer compression; default lz4, as proxies)]
                                              [--catch-up-commit-interval 5s (= --commit-interval: off)]
                                              [--pipeline child|in-process (default child: its own
                                               JVM with the production options)]
                                              [--pipeline-jvm-options "OPTS" (default: jib.container.jvmFlags
                                               of compose/images/meshlog-telemetry-pipeline.properties)]
                                              [--pipeline-streams-config KEY=VALUE (repeatable: the
                                               pipeline's --streams-config, e.g. group.protocol=streams)]
                                              [--warmup-events N (per warm-up round, until the JIT
                                               settles, at most 3 rounds; default: --events, at
                                               most 2,000,000; 0: none)]""";

  private static final String NS = "bench";

  /** One versioned edge of the simulated mesh. */
  record SimEdge(String src, String srcVersion, String dst, String dstVersion) {}

  private final int events;
  private final int services;
  private final int rateOption;
  private final Map<String, String> streamsConfig;
  private final Duration steady;
  private final Duration commitInterval;
  private final int threads;
  private final Duration catchUpCommit;
  /** The pipeline's JVM options in a child JVM; {@code null}: in this JVM. */
  private final List<String> pipelineJvm;
  private final long warmupEvents;
  /** The simulated proxies' producer compression ({@code compression.type}). */
  private final String compression;
  /** Each simulated proxy's events per second (a drain holds a fifth of it). */
  private final int proxyRate;
  /** Fixed events per record (0: as the emitter batches, per edge per drain). */
  private final int eventsPerRecord;
  private final SplittableRandom random = new SplittableRandom(42);
  private final List<SimEdge> edges = new ArrayList<>();
  /** Event time between two calls of the backlog. */
  private final long backlogStepMicros;
  /** Event time of the backlog's first call: the backlog ends about when the run starts. */
  private final long t0Micros;
  /** Whether events carry the wall-clock time (the steady phase) or the backlog's time. */
  private volatile boolean realTime;
  private long calls;
  /** Calls whose SOURCE event Kafka acknowledged: what the pipeline must count. */
  private final java.util.concurrent.atomic.AtomicLong acked =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong ackedEvents =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong lost =
      new java.util.concurrent.atomic.AtomicLong();
  /** Records acknowledged (each a batch of events). */
  private final java.util.concurrent.atomic.AtomicLong ackedRecords =
      new java.util.concurrent.atomic.AtomicLong();
  /** Events per record of the backlog (acknowledged events / records): records/s to events/s. */
  private double backlogEventsPerRecord = 1;

  private TelemetryPipelineBench(int events, int services, int rate, Duration steady,
                                 Duration commitInterval, int threads, Duration catchUpCommit,
                                 List<String> pipelineJvm, long warmupEvents, String compression,
                                 Map<String, String> streamsConfig, int proxyRate, int eventsPerRecord) {
    this.proxyRate = proxyRate;
    this.eventsPerRecord = eventsPerRecord;
    this.compression = compression;
    this.streamsConfig = streamsConfig;
    this.pipelineJvm = pipelineJvm;
    this.warmupEvents = warmupEvents;
    this.threads = threads;
    this.catchUpCommit = catchUpCommit;
    this.events = events;
    this.services = services;
    this.rateOption = rate;
    this.steady = steady;
    this.commitInterval = commitInterval;
    // One call per millisecond of event time, or closer for a backlog of more than 40 minutes
    // of that: the 10 s windows are kept one hour, and every window must still be there for
    // the windows check.
    this.backlogStepMicros = Math.min(1_000, 2_400_000_000L / Math.max(1, events / 2));
    this.t0Micros = TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis())
        - backlogStepMicros * (events / 2);
    // A layered mesh: service i calls two or three services after it, v1 and v2 of each.
    for (int i = 0; i < services - 1; i++) {
      int fanOut = Math.min(services - 1 - i, 2 + (i % 2));
      for (int j = 1; j <= fanOut; j++) {
        for (String sv : List.of("v1", "v2")) {
          for (String dv : List.of("v1", "v2")) {
            edges.add(new SimEdge("svc" + i, sv, "svc" + (i + j), dv));
          }
        }
      }
    }
  }

  public static void main(String[] args) throws Exception {
    int events = 5_000_000;
    int services = 12;
    int rate = 0;
    Duration steady = Duration.ofSeconds(30);
    Duration commit = Duration.ofSeconds(1);
    int threads = TelemetryApp.Settings.DEFAULT_STREAM_THREADS;
    Duration catchUp = null;
    String pipeline = "child";
    String pipelineJvm = null;
    long warmup = -1;
    String compression = "lz4";
    List<String> streamsConfig = new ArrayList<>();
    int proxyRate = 1_000;
    int eventsPerRecord = 0;
    for (int i = 0; i + 1 < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--events" -> events = Integer.parseInt(v);
        case "--services" -> services = Integer.parseInt(v);
        case "--rate" -> rate = Integer.parseInt(v);
        case "--threads" -> threads = Integer.parseInt(v);
        case "--steady" -> steady = Duration.ofSeconds(Long.parseLong(v.replace("s", "")));
        case "--commit-interval" -> commit = millis(v);
        case "--catch-up-commit-interval" -> catchUp = millis(v);
        case "--pipeline" -> pipeline = v;
        case "--pipeline-jvm-options" -> pipelineJvm = v;
        case "--warmup-events" -> warmup = Long.parseLong(v);
        case "--compression" -> compression = v;
        case "--pipeline-streams-config" -> streamsConfig.add(v);
        case "--proxy-rate" -> proxyRate = Integer.parseInt(v);
        case "--events-per-record" -> eventsPerRecord = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown option " + args[i] + "\n" + USAGE);
      }
    }
    if (args.length % 2 != 0 || services < 2 || events < 2 || threads < 1 || proxyRate < 5
        || eventsPerRecord < 0 || eventsPerRecord > Emitters.MAX_RECORD_EVENTS) {
      throw new IllegalArgumentException(USAGE);
    }
    if (!List.of("lz4", "zstd", "none", "gzip", "snappy").contains(compression)) {
      throw new IllegalArgumentException("--compression " + compression
          + " (expected: lz4, zstd, none, gzip or snappy)\n" + USAGE);
    }
    if (!pipeline.equals("child") && !pipeline.equals("in-process")) {
      throw new IllegalArgumentException("--pipeline " + pipeline + " (expected: child or in-process)\n" + USAGE);
    }
    List<String> jvm = !pipeline.equals("child") ? null : pipelineJvm != null
        ? List.of(pipelineJvm.trim().split("\\s+"))
        : TelemetryPipelineChild.productionJvmOptions(TelemetryPipelineChild.IMAGE_SETTINGS);
    if (warmup < 0) {
      warmup = Math.min(events, 2_000_000);
    }
    if (catchUp == null) {
      catchUp = commit.compareTo(TelemetryApp.Settings.DEFAULT_CATCH_UP_COMMIT_INTERVAL) > 0
          ? commit : TelemetryApp.Settings.DEFAULT_CATCH_UP_COMMIT_INTERVAL;
    }
    new TelemetryPipelineBench(events, services, rate, steady, commit, threads, catchUp, jvm, warmup,
        compression, StreamsOverrides.parse(streamsConfig), proxyRate, eventsPerRecord).run();
  }

  private static Duration millis(String v) {
    return Duration.ofMillis(v.endsWith("ms") ? Long.parseLong(v.replace("ms", ""))
        : 1000 * Long.parseLong(v.replace("s", "")));
  }

  private void run() throws Exception {
    Path state = Files.createTempDirectory("meshlog-telemetry-bench");
    try (EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
         Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
      String topic = Topics.TELEMETRY_REQUESTS.name();
      awaitLeaders(admin, topic);
      probe(kafka.bootstrapServers(), admin, topic);
      System.err.printf(Locale.ROOT, "# telemetry-pipeline: %,d events over %d edges, %s, load %s%n",
          events, edges.size(), batching(), Files.readString(Path.of("/proc/loadavg")).trim());

      long p0 = System.nanoTime();
      try (KafkaProducer<String, byte[]> producer = producer(kafka.bootstrapServers())) {
        produce(producer, events, 0);
      }
      double produceSeconds = (System.nanoTime() - p0) / 1e9;
      long backlogRecords = ackedRecords.get();
      backlogEventsPerRecord = ackedEvents.get() / (double) Math.max(1, backlogRecords);
      System.err.printf(Locale.ROOT, "# backlog: %,d events in %,d records (%.1f events/record)%n",
          ackedEvents.get(), backlogRecords, backlogEventsPerRecord);
      Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
      for (int p = 0; p < Topics.TELEMETRY_REQUESTS.partitions(); p++) {
        ends.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      admin.listOffsets(ends).all().get().forEach((tp, info) ->
          backlogPerPartition.put(tp.partition(), info.offset()));

      // The floor is read twice on this JVM: the first read warms the consumer's code (its
      // figure is printed for comparison with older runs), the second is the floor.
      Progress floorCold = plainConsumer(kafka, topic, false);
      Progress floor = plainConsumer(kafka, topic, false);
      Progress decoding = plainConsumer(kafka, topic, true);

      String application = "bench-telemetry-" + Long.toHexString(random.nextLong());
      // the warm-up is counted in records (process-total): as many as hold warmupEvents events
      long warmupRecords = warmupEvents == 0 ? 0
          : Math.max(1, Math.round(warmupEvents / backlogEventsPerRecord));
      MeasuredPipeline.Config config = new MeasuredPipeline.Config(kafka.bootstrapServers(), state,
          application, commitInterval, catchUpCommit, threads, warmupRecords, streamsConfig);
      List<String> lagLog = new ArrayList<>();
      MeasuredPipeline app = pipelineJvm == null ? MeasuredPipeline.InProcess.start(config)
          : TelemetryPipelineChild.start(config, pipelineJvm);
      try {
        double startup = app.startupSeconds();
        long c0 = System.nanoTime();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
        long processedAt = 0;
        // Committed progress (the group's committed input offsets) and processed records,
        // sampled every 50 ms: the sustained rate is taken between two commits well inside
        // the catch-up, so the start, the first fetches and the final commit wait are out.
        Map<String, Long> cpuGroups0 = app.cpuGroups();
        Map<String, Long> benchGroups0 = pipelineJvm == null ? Map.of() : MeasuredPipeline.cpuByThreadGroup();
        // in records (offsets, process-total), like the consumers'
        Progress committed = new Progress(backlogRecords);
        Progress processed = new Progress(backlogRecords);
        Map<String, MeasuredPipeline.ThreadTime> threads0 = app.threadTimes();
        // Each stream thread's records processed, every half second: when each one finished.
        Map<String, long[]> finished = new java.util.TreeMap<>();
        long nextThreads = c0;
        MeasuredPipeline.Sample first = app.sample();
        committed.sample(c0, 0, first.streamCpuNanos(), first.jvmCpuNanos());
        processed.sample(c0, 0, first.streamCpuNanos(), first.jvmCpuNanos());
        long nextLag = c0;
        MeasuredPipeline.Sample now0;
        while ((now0 = app.sample()).aggregatedCalls() < acked.get() && System.nanoTime() < deadline) {
          long now = System.nanoTime();
          long done = now0.processed();
          long cpu = now0.streamCpuNanos();
          long jvmCpu = now0.jvmCpuNanos();
          processed.sample(now, done, cpu, jvmCpu);
          if (processedAt == 0 && done >= backlogRecords) {
            processedAt = now;
          }
          long lag = lag(admin, application, topic);
          committed.sample(now, Math.max(0, backlogRecords + probesAcked - lag), cpu, jvmCpu);
          if (now >= nextThreads) {
            app.threadTimes().forEach((thread, t) -> {
              long[] f = finished.computeIfAbsent(thread, k -> new long[] {-1, 0});
              if (t.processed() != f[0]) {
                f[0] = t.processed();
                f[1] = now;
              }
            });
            nextThreads += TimeUnit.MILLISECONDS.toNanos(500);
          }
          if (now >= nextLag) {
            lagLog.add(String.format(Locale.ROOT, "%.1f s: lag %,d records", (now - c0) / 1e9, lag));
            nextLag += TimeUnit.SECONDS.toNanos(1);
          }
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        long c1 = System.nanoTime();
        Map<String, Long> cpuGroups1 = app.cpuGroups();
        Map<String, MeasuredPipeline.ThreadTime> threads1 = app.threadTimes();
        Map<String, Long> benchGroups1 = pipelineJvm == null ? Map.of() : MeasuredPipeline.cpuByThreadGroup();
        MeasuredPipeline.Sample end = app.sample();
        committed.sample(c1, backlogRecords, end.streamCpuNanos(), end.jvmCpuNanos());
        double pipelineSeconds = (c1 - c0) / 1e9;
        double processedSeconds = processedAt == 0 ? Double.NaN : (processedAt - c0) / 1e9;
        // Records a stream thread processed before the app was RUNNING (its tasks were ready
        // while another thread still started) are outside the end-to-end time, so they are left
        // out of its count too: counted in, they flattered the rate by up to a third.
        long beforeRunning = threads0.values().stream()
            .mapToLong(MeasuredPipeline.ThreadTime::processed).sum();
        long eventsAfterRunning = Math.round(events - beforeRunning * backlogEventsPerRecord);
        double pipelineCpuMicros = committed.cpuMicrosPer(eventsAfterRunning);
        double pipelineRate = eventsAfterRunning / pipelineSeconds;
        Progress.Span sustained = committed.commitSpan(0.1, 0.9);
        Progress.Span processing = processed.span(0.1, 0.9);
        Map<String, String> tasks = threadTasks(app);

        int rate = rateOption > 0 ? rateOption : (int) Math.max(1_000,
            (Double.isNaN(sustained.rate()) ? pipelineRate : sustained.rate() * backlogEventsPerRecord) / 2);
        List<long[]> steadyLag = steadyPhase(kafka, admin, application, topic, rate);
        long target = sourceEventsOnTopic(kafka, topic);
        long w0 = System.nanoTime();
        long last = -1;
        while ((last = app.sample().aggregatedCalls()) < target
            && System.nanoTime() - w0 < TimeUnit.MINUTES.toNanos(2)) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
        long in10s = app.windowedCalls(Duration.ofSeconds(10));
        long in1m = app.windowedCalls(Duration.ofMinutes(1));

        StringBuilder b = new StringBuilder();
        b.append("## Telemetry pipeline benchmark ").append(Instant.now()).append("\n\n");
        b.append(String.format(Locale.ROOT, "- %,d events (%,d calls, both reports of each; "
                + "%d versioned edges) in %,d records (%.1f events/record; %s), produced in %.1f s "
                + "by one idempotent %s producer\n",
            events, calls - countSteadyCalls, edges.size(), backlogRecords, backlogEventsPerRecord,
            batching(), produceSeconds, compression));
        b.append(String.format(Locale.ROOT, "- pipeline: TelemetryApp, exactly-once v2, commit "
            + "interval %s while caught up, %s while reading a backlog, %d stream thread(s); "
            + "RUNNING after %.1f s (not counted)%s%n", commitInterval, catchUpCommit, threads, startup,
            streamsConfig.isEmpty() ? "" : "; --streams-config " + new java.util.TreeMap<>(streamsConfig)));
        b.append(String.format(Locale.ROOT, "- pipeline JVM: %s: %s%n", pipelineJvm == null
            ? "this one (with the broker and the harness's clients)" : "its own", app.jvm()));
        b.append(String.format(Locale.ROOT, "- warm-up: %s%n", app.warmedUpWith() == 0
            ? "none (the measured pipeline starts on a cold JIT)"
            : String.format(Locale.ROOT, "applications of other ids read %,d records (≈ %,.0f "
                + "events) of the backlog in the pipeline's JVM first, then left (not measured; %s)",
                app.warmedUpWith(), app.warmedUpWith() * backlogEventsPerRecord, app.warmUp())));
        if (pipelineJvm != null) {
          b.append("- this (benchmark) JVM: ").append(MeasuredPipeline.thisJvm()).append('\n');
        }
        b.append("\n| reader | sustained records/s (10–90% of the backlog) | sustained events/s | "
            + "CPU µs/event, reading threads (sustained) | CPU µs/event, the reader's whole JVM "
            + "(sustained; the broker's too when it shares it) | end-to-end records/s | end-to-end "
            + "events/s | end-to-end seconds |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        b.append(row("plain consumer, first read (cold JVM; not the floor)", floorCold.span(0.1, 0.9),
            floorCold.endToEndSeconds()));
        b.append(row("plain consumer, second read (the floor)", floor.span(0.1, 0.9),
            floor.endToEndSeconds()));
        b.append(row("consumer decoding each record (Avro RequestEventBatch)", decoding.span(0.1, 0.9),
            decoding.endToEndSeconds()));
        b.append(row("telemetry pipeline: committed progress (events → aggregated edges)",
            sustained, pipelineSeconds, beforeRunning));
        b.append(row("… its stream threads' processing (process-total)", processing,
            processedSeconds, beforeRunning));
        b.append(String.format(Locale.ROOT, "%n- events/s are records/s × %.2f, the backlog's "
            + "events per record (every reader reads the same records: the floor's rate counts "
            + "the same events, known from what was produced); CPU µs/event likewise.%n",
            backlogEventsPerRecord));
        b.append(String.format(Locale.ROOT, "- sustained: the rate between the sample at which "
            + "10%% of the backlog had been read (for the pipeline: the first commit past 10%%, "
            + "seen by polling the group's committed offsets every 50 ms) and the one at which "
            + "90%% had (the last commit before 90%%); CPU per event over the same span. "
            + "End-to-end: the consumers from assignment to the last record, the pipeline from "
            + "RUNNING (after %.1f s, not counted) until its totals store counts every call "
            + "(the last commit included), over the records processed in that time (the %,d "
            + "processed before RUNNING are left out of the time and the count); the pipeline's "
            + "stream threads used %.2f CPU µs/event over the whole of it.%n", startup,
            beforeRunning, pipelineCpuMicros));
        b.append(String.format(Locale.ROOT, "- sustained pipeline / floor: %.2f (target ≥ 0.50: %s);"
                + " end-to-end pipeline / end-to-end floor: %.2f; processing alone / floor: %.2f%n",
            sustained.rate() / floor.span(0.1, 0.9).rate(),
            sustained.rate() >= floor.span(0.1, 0.9).rate() / 2 ? "met" : "missed",
            pipelineRate / (events / floor.endToEndSeconds()),
            processing.rate() / floor.span(0.1, 0.9).rate()));
        b.append(String.format(Locale.ROOT, "- sustained pipeline / decoding consumer: %.2f%n",
            sustained.rate() / decoding.span(0.1, 0.9).rate()));
        b.append("- CPU µs/event of the pipeline's JVM's threads from RUNNING to the last count, by group: ")
            .append(perEvent(cpuGroups0, cpuGroups1, eventsAfterRunning)).append('\n');
        if (pipelineJvm != null) {
          b.append("- CPU µs/event of this (benchmark) JVM's threads over the same span (broker; the "
              + "harness's sampling): ").append(perEvent(benchGroups0, benchGroups1, eventsAfterRunning)).append('\n');
        }
        b.append(String.format(Locale.ROOT, "- records the stream threads had processed before RUNNING "
            + "(a thread whose tasks are ready runs while another still starts; not in the "
            + "end-to-end time or count): %,d%n", beforeRunning));
        b.append(threadTimes(threads0, threads1, finished, c0, c1));
        b.append("- input partitions per stream thread (records of the backlog on them): ")
            .append(tasks.isEmpty() ? "n/a" : String.join("; ", tasks.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).toList())).append('\n');
        b.append("- catch-up lag samples: ").append(String.join("; ", lagLog)).append('\n');
        long firstHalfMax = 0;
        long secondHalfMax = 0;
        StringBuilder series = new StringBuilder();
        for (int i = 0; i < steadyLag.size(); i++) {
          long lag = steadyLag.get(i)[1];
          if (i < steadyLag.size() / 2) {
            firstHalfMax = Math.max(firstHalfMax, lag);
          } else {
            secondHalfMax = Math.max(secondHalfMax, lag);
          }
          series.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%,d", lag));
        }
        // lag is in records; the absolute allowance (a commit interval and 2 s of production)
        // in records too, at the steady phase's events per record
        double steadyEventsPerRecord = Math.max(1, steadyEvents / (double) Math.max(1, steadyRecords));
        boolean bounded = secondHalfMax <= Math.max(firstHalfMax * 3 / 2,
            (long) (rate * (commitInterval.toMillis() + 2_000) / 1_000 / steadyEventsPerRecord));
        b.append(String.format(Locale.ROOT, "- steady phase: %,d events/s for %d s (%.1f events/record);"
                + " lag in records each second: %s; max first half %,d, second half %,d → %s%n", rate,
            steady.toSeconds(), steadyEventsPerRecord, series, firstHalfMax, secondHalfMax,
            bounded ? "bounded" : "growing"));
        b.append(String.format(Locale.ROOT, "- exactly-once check: %,d calls on the topic "
            + "(SOURCE events; %,d acknowledged, %,d sends reported failed by the producer), "
            + "%,d counted in the edges' totals → %s%n", target, acked.get(), lost.get(), last,
            last == target ? "equal" : "NOT EQUAL"));
        b.append(String.format(Locale.ROOT, "- windows check: %,d calls in the 10 s windows, %,d in "
            + "the 1 min windows → %s%n", in10s, in1m, in10s == last && in1m == last
            ? "every counted call is in its windows (none reached a closed window)"
            : "MISSING from windows (late for a closed window, or windows past retention)"));
        System.out.println(b);
      } finally {
        app.close();
      }
    } finally {
      try (var paths = Files.walk(state)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private long countSteadyCalls;
  /** Events and records the steady phase produced (acknowledged). */
  private long steadyEvents;
  private long steadyRecords;

  /** How the simulated proxies batch, for the report. */
  private String batching() {
    return eventsPerRecord > 0
        ? String.format(Locale.ROOT, "records of %d event(s) of one proxy and edge", eventsPerRecord)
        : String.format(Locale.ROOT, "as proxies' emitters batch: per proxy per edge per %d ms drain, "
            + "proxies at %,d events/s (%d events a drain), at most %d events a record",
            Emitters.DRAIN.toMillis(), proxyRate, Emitters.perDrain(proxyRate), Emitters.MAX_RECORD_EVENTS);
  }

  private KafkaProducer<String, byte[]> producer(String bootstrap) {
    Map<String, Object> c = new HashMap<>();
    c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    c.put(ProducerConfig.LINGER_MS_CONFIG, 50);
    c.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
    return new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer());
  }

  /**
   * Produces {@code n} events (n/2 calls, both reports), at {@code rate}/s or as fast as possible
   * (0), each report through its proxy's {@link Emitters emitter}: the source's proxy is the
   * caller's workload's, the destination's the callee's.
   */
  private void produce(KafkaProducer<String, byte[]> producer, int n, int rate) {
    Emitters emitters = new Emitters(proxyRate, eventsPerRecord, rate > 0,
        (key, batch) -> send(producer, key, batch));
    long start = System.nanoTime();
    for (int i = 0; i + 1 < n; i += 2) {
      if (rate > 0) {
        long due = start + (long) (i * 1e9 / rate);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        if ((i & 63) == 0) {
          emitters.tick(System.nanoTime());
        }
      }
      SimEdge e = edges.get(pick());
      // the backlog: one call per millisecond of event time, ending about now; then real time
      long startMicros = realTime ? TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis())
          : t0Micros + calls * backlogStepMicros;
      calls++;
      int roll = random.nextInt(1000);
      int code = roll < 950 ? 200 : roll < 970 ? 503 : roll < 985 ? 404 : roll < 995 ? 500 : 0;
      List<String> flags = code == 503 ? List.of("URX") : code == 0 ? List.of("UC")
          : List.of();
      long micros = (long) (1000 * Math.exp(Math.log(5)
          + gaussian() * 0.8));
      String key = NS + "/" + e.src() + "->" + NS + "/" + e.dst();
      for (Reporter r : List.of(Reporter.SOURCE, Reporter.DESTINATION)) {
        String proxy = r == Reporter.SOURCE ? e.src() + "-" + e.srcVersion() : e.dst() + "-" + e.dstVersion();
        RequestEvent event = RequestEvent.newBuilder()
            .setRequestId(Long.toHexString(calls)).setTraceId("")
            .setReporter(r).setProxyId(proxy + "-1")
            .setSource(workload(e.src(), e.srcVersion()))
            .setDestination(workload(e.dst(), e.dstVersion()))
            .setProtocol("HTTP/1.1").setMethod("GET").setAuthority(e.dst() + ":9080")
            .setPath("/api/" + e.dst()).setRoute(e.dst())
            .setResponseCode(code).setResponseFlags(flags)
            .setRequestBytes(random.nextInt(2_000)).setResponseBytes(random.nextInt(20_000))
            .setDurationMicros(r == Reporter.SOURCE ? micros : Math.max(1, micros - 300))
            .setStartTime(Instant.ofEpochSecond(0, startMicros * 1_000))
            .build();
        emitters.add(proxy, key, event, rate > 0 ? System.nanoTime() : 0);
      }
    }
    emitters.flushAll();
    producer.flush();
  }

  /** Sends one record: a batch of one proxy's events of one edge. */
  private void send(KafkaProducer<String, byte[]> producer, String key, List<RequestEvent> batch) {
    int events = batch.size();
    long sources = batch.stream().filter(ev -> ev.getReporter() == Reporter.SOURCE).count();
    producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), key,
        Topics.TELEMETRY_REQUESTS.serializeValue(RequestEventBatch.newBuilder().setEvents(batch).build())),
        (meta, failure) -> {
          if (failure != null) {
            lost.addAndGet(events);
            return;
          }
          ackedRecords.incrementAndGet();
          ackedEvents.addAndGet(events);
          acked.addAndGet(sources);
        });
  }

  /**
   * The simulated proxies' telemetry emitters, batching as the proxy's does: each proxy's events
   * are grouped per edge key, and every drain sends one record per edge of what the proxy
   * emitted since the previous drain (at most {@link #MAX_RECORD_EVENTS} events a record; a
   * longer run of one edge is split). A drain is every {@link #DRAIN} of the proxy's time: at
   * {@code proxyRate} events/s that is {@link #perDrain} events of the proxy, which is when a
   * drain happens while producing as fast as possible (the backlog); producing at a rate, a
   * proxy that emitted fewer is also drained once {@link #DRAIN} of wall time has passed. With
   * {@code eventsPerRecord} set, records are instead sent as soon as one proxy's edge has that
   * many events (and, at a rate, at each drain): 1 is one event per record, as before batching.
   */
  static final class Emitters {
    /** The emitter's drain interval (the proxy's {@code TelemetryEmitter.DEFAULT_INTERVAL}). */
    static final Duration DRAIN = Duration.ofMillis(200);
    /** At most this many events a record (the proxy's {@code TelemetryEmitter.MAX_BATCH_EVENTS}). */
    static final int MAX_RECORD_EVENTS = 128;

    /** Where a record goes: its key and its events (oldest first). */
    interface Sink {
      void send(String key, List<RequestEvent> events);
    }

    private static final class Proxy {
      final Map<String, List<RequestEvent>> pending = new java.util.LinkedHashMap<>();
      /** Events emitted since the last drain, sent early (a full record) or still pending. */
      int count;
      long lastDrainNanos;
    }

    private final int perDrain;
    private final int eventsPerRecord;
    private final boolean timed;
    private final Sink sink;
    private final Map<String, Proxy> proxies = new HashMap<>();

    /**
     * @param proxyRate each proxy's events per second
     * @param eventsPerRecord fixed events per record, or 0 to batch per drain
     * @param timed whether drains also follow the wall clock ({@link #tick}; producing at a rate)
     */
    Emitters(int proxyRate, int eventsPerRecord, boolean timed, Sink sink) {
      this.perDrain = perDrain(proxyRate);
      this.eventsPerRecord = eventsPerRecord;
      this.timed = timed;
      this.sink = sink;
    }

    /** Events one proxy emits per drain at {@code proxyRate} events/s. */
    static int perDrain(int proxyRate) {
      return (int) Math.max(1, proxyRate * DRAIN.toMillis() / 1000);
    }

    /** One event {@code proxy} emitted, of the edge {@code key}, at {@code nowNanos}. */
    void add(String proxy, String key, RequestEvent event, long nowNanos) {
      Proxy p = proxies.computeIfAbsent(proxy, k -> {
        Proxy created = new Proxy();
        created.lastDrainNanos = nowNanos;
        return created;
      });
      List<RequestEvent> edge = p.pending.computeIfAbsent(key, k -> new ArrayList<>());
      edge.add(event);
      p.count++;
      int max = eventsPerRecord > 0 ? eventsPerRecord : MAX_RECORD_EVENTS;
      if (edge.size() == max) {
        // the emitter splits a run this long at its drain; the drain still comes after the
        // proxy's perDrain events (count is emitted since the last drain, not pending)
        sink.send(key, List.copyOf(edge));
        p.pending.remove(key);
      }
      if (eventsPerRecord == 0 && p.count >= perDrain) {
        drain(p, nowNanos);
      }
    }

    /** Drains every proxy whose drain interval has passed (producing at a rate). */
    void tick(long nowNanos) {
      if (!timed) {
        return;
      }
      for (Proxy p : proxies.values()) {
        if (nowNanos - p.lastDrainNanos >= DRAIN.toNanos()) {
          drain(p, nowNanos);
        }
      }
    }

    /** Sends what every proxy still holds. */
    void flushAll() {
      proxies.values().forEach(p -> drain(p, 0));
    }

    private void drain(Proxy p, long nowNanos) {
      p.pending.forEach((key, events) -> sink.send(key, List.copyOf(events)));
      p.pending.clear();
      p.count = 0;
      p.lastDrainNanos = nowNanos;
    }
  }

  private int probesAcked;

  /**
   * Writes one tombstone (which the pipeline ignores) to every partition and waits until each
   * is acknowledged, so the backlog does not meet partitions whose leader is not serving yet.
   */
  private int probe(String bootstrap, Admin admin, String topic) throws Exception {
    int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
        .partitions().size();
    try (KafkaProducer<String, byte[]> p = producer(bootstrap)) {
      for (int i = 0; i < partitions; i++) {
        p.send(new ProducerRecord<>(topic, i, "probe", null)).get(2, TimeUnit.MINUTES);
        probesAcked++;
      }
    }
    return partitions;
  }

  /** Assigns {@code c} every partition of {@code topic}, from the start; returns them. */
  private static List<TopicPartition> assignFromStart(KafkaConsumer<?, ?> c, String topic) {
    List<TopicPartition> tps = c.partitionsFor(topic).stream()
        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    c.assign(tps);
    c.seekToBeginning(tps);
    return tps;
  }

  /** The SOURCE events on {@code topic} now: the calls the pipeline must count, exactly. */
  private static long sourceEventsOnTopic(EmbeddedKafka kafka, String topic) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.clientConfig(),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> tps = assignFromStart(c, topic);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      long sources = 0;
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (var r : c.poll(Duration.ofMillis(200))) {
          if (r.value() != null) {
            for (RequestEvent e : Topics.TELEMETRY_REQUESTS.deserializeValue(r.value()).getEvents()) {
              if (e.getReporter() == Reporter.SOURCE) {
                sources++;
              }
            }
          }
        }
      }
      return sources;
    }
  }

  /**
   * Waits until every partition of {@code topic} has a leader: producing into a topic just
   * created can otherwise meet NOT_LEADER_OR_FOLLOWER and, on this broker, an idempotent
   * producer's retried batch can then be refused as out of order and lost.
   */
  private static void awaitLeaders(Admin admin, String topic) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
          .partitions();
      if (partitions.stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
        return;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    throw new IllegalStateException(topic + ": partitions without a leader after 60 s");
  }

  /** A skewed pick: a few edges carry most calls, as in real meshes. */
  private int pick() {
    double u = random.nextDouble();
    return (int) Math.min(edges.size() - 1, Math.floor(edges.size() * u * u));
  }

  private double gaussian() {
    double u1 = Math.max(1e-12, random.nextDouble());
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static Workload workload(String service, String version) {
    return Workload.newBuilder().setNamespace(NS).setService(service).setVersion(version)
        .setWorkload(service + "-" + version).setCluster("c1").setZone("z1").build();
  }

  /**
   * Reads every acknowledged record of {@code topic} with a plain consumer; returns its
   * progress, sampled after each poll. (Until every acknowledged one is read, not up to end
   * offsets taken once: right after a broker starts, those have been seen to trail the
   * acknowledgements.) Raw bytes are the floor issue 5 names; with {@code decode} each value is
   * also decoded as a {@code RequestEventBatch} (every event), the least any reader of the
   * events does, so the gap is understood. Progress is in records.
   */
  private Progress plainConsumer(EmbeddedKafka kafka, String topic, boolean decode) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.clientConfig(),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      assignFromStart(c, topic);
      long expected = ackedRecords.get() + probesAcked;
      Progress progress = new Progress(expected);
      long t0 = System.nanoTime();
      progress.sample(t0, 0, currentThreadCpuNanos(), MeasuredPipeline.processCpuNanos());
      long read = 0;
      long deadline = t0 + TimeUnit.MINUTES.toNanos(10);
      long decoded = 0;
      while (read < expected && System.nanoTime() < deadline) {
        var records = c.poll(Duration.ofMillis(200));
        read += records.count();
        if (decode) {
          for (var r : records) {
            if (r.value() == null) {
              continue; // the readiness probes
            }
            try {
              decoded += Topics.TELEMETRY_REQUESTS.deserializeValue(r.value()).getEvents().size();
            } catch (RuntimeException e) {
              // anything foreign: counted as read, not as decoded
            }
          }
        }
        progress.sample(System.nanoTime(), read, currentThreadCpuNanos(), MeasuredPipeline.processCpuNanos());
      }
      System.err.printf(Locale.ROOT, "# %s consumer: %,d records (%,d events decoded) in %.1f s%n",
          decode ? "decoding" : "plain", read, decoded, progress.endToEndSeconds());
      return progress;
    }
  }

  /**
   * A reader's progress over time: samples of (time, records done, CPU of the reading threads,
   * CPU of the whole JVM). A rate between two samples inside the run leaves out what a run pays
   * once — assignment, the first fetches, a cold JIT, the wait for the last commit.
   */
  static final class Progress {
    /** A rate between two samples, with CPU per record over the same span. */
    record Span(double rate, double seconds, double cpuMicros, double jvmCpuMicros) {
      static final Span NONE = new Span(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    private final long total;
    private final List<long[]> samples = new ArrayList<>();

    Progress(long total) {
      this.total = total;
    }

    void sample(long nanos, long done, long cpuNanos, long jvmCpuNanos) {
      samples.add(new long[] {nanos, done, cpuNanos, jvmCpuNanos});
    }

    double endToEndSeconds() {
      long[] last = samples.get(samples.size() - 1);
      return (last[0] - samples.get(0)[0]) / 1e9;
    }

    /** CPU µs of the reading threads over the whole progress, per one of {@code n} (e.g. events). */
    double cpuMicrosPer(long n) {
      long[] first = samples.get(0);
      long[] last = samples.get(samples.size() - 1);
      return (last[2] - first[2]) / 1e3 / Math.max(1, n);
    }

    /** Between the first sample at or past {@code lo} of the total and the last at or before {@code hi}. */
    Span span(double lo, double hi) {
      return between(samples, lo, hi);
    }

    /**
     * Like {@link #span}, over the samples at which progress moved (for committed offsets:
     * right after a commit), so both ends are commits, not points in between.
     */
    Span commitSpan(double lo, double hi) {
      List<long[]> moved = new ArrayList<>();
      long previous = -1;
      for (long[] s : samples) {
        if (s[1] != previous) {
          moved.add(s);
          previous = s[1];
        }
      }
      return between(moved, lo, hi);
    }

    private Span between(List<long[]> points, double lo, double hi) {
      long[] a = null;
      long[] b = null;
      for (long[] s : points) {
        if (a == null && s[1] >= lo * total) {
          a = s;
        }
        if (s[1] <= hi * total) {
          b = s;
        }
      }
      if (a == null || b == null || b[0] <= a[0] || b[1] <= a[1]) {
        return Span.NONE;
      }
      double records = b[1] - a[1];
      return new Span(records / ((b[0] - a[0]) / 1e9), (b[0] - a[0]) / 1e9,
          (b[2] - a[2]) / 1e3 / records, (b[3] - a[3]) / 1e3 / records);
    }
  }

  /** A reader's row: its rates in records (as measured) and events (× events per record). */
  private String row(String reader, Progress.Span sustained, double endToEndSeconds) {
    return row(reader, sustained, endToEndSeconds, 0);
  }

  /**
   * A reader's row, its end-to-end rate over the backlog but the {@code before} records it read
   * before its end-to-end time began.
   */
  private String row(String reader, Progress.Span sustained, double endToEndSeconds, long before) {
    double epr = backlogEventsPerRecord;
    long records = ackedRecords.get() - steadyRecords - before;
    return String.format(Locale.ROOT, "| %s | %,.0f (over %.1f s) | %,.0f | %.2f | %.2f | %,.0f | %,.0f | %.1f |%n",
        reader, sustained.rate(), sustained.seconds(), sustained.rate() * epr,
        sustained.cpuMicros() / epr, sustained.jvmCpuMicros() / epr, records / endToEndSeconds,
        records * epr / endToEndSeconds, endToEndSeconds);
  }

  /**
   * Which input partitions each stream thread runs, with the backlog's events on each: one
   * thread with most of the events idles the other one.
   */
  private Map<String, String> threadTasks(MeasuredPipeline app) {
    Map<String, String> out = new java.util.TreeMap<>();
    app.tasks().forEach((thread, parts) -> out.put(thread, String.format(Locale.ROOT,
        "partitions %s: %,d records", parts, parts.stream()
            .mapToLong(p -> backlogPerPartition.getOrDefault(p, 0L)).sum())));
    return out;
  }

  /**
   * Where each stream thread's wall time went from RUNNING to the last count: on a CPU, waiting
   * for one, waiting in poll for fetched data, in the producer's flush and the transaction's
   * calls (the exactly-once commit), Kafka's other blocking, and the rest; its commits, when it
   * processed its last record, and Kafka Streams' own loop ratios at the end.
   */
  private static String threadTimes(Map<String, MeasuredPipeline.ThreadTime> before,
                                    Map<String, MeasuredPipeline.ThreadTime> after,
                                    Map<String, long[]> finished, long c0, long c1) {
    double wall = c1 - c0;
    StringBuilder b = new StringBuilder("- each stream thread's wall time from RUNNING to the last "
        + "count (" + String.format(Locale.ROOT, "%.1f s", wall / 1e9) + "), in %: on a CPU / "
        + "waiting for a CPU (run queue: the machine's load) / waiting in poll for fetched data / "
        + "producer flush before a commit / transaction calls (begin, offsets, end) / other "
        + "blocking in Kafka's clients / the rest (RocksDB I/O, locks, unaccounted); its commits; "
        + "when it processed its last record; Kafka Streams' poll/process/commit/punctuate ratios "
        + "at the end:\n");
    after.forEach((thread, t1) -> {
      MeasuredPipeline.ThreadTime t = t1.since(before.get(thread));
      long pollFlushTxn = t.pollWaitNanos() + t.flushNanos() + t.txnNanos();
      long otherBlocked = Math.max(0, t.blockedNanos() - pollFlushTxn);
      long rest = (long) wall - t.cpuNanos() - t.runQueueNanos() - pollFlushTxn - otherBlocked;
      long[] f = finished.get(thread);
      b.append(String.format(Locale.ROOT, "  - %s: %.0f / %.0f / %.0f / %.0f / %.0f / %.0f / %.0f; "
              + "%,d records, %d commits; last record by %s; ratios %.2f / %.2f / %.2f / %.2f%n",
          thread, 100 * t.cpuNanos() / wall, 100 * t.runQueueNanos() / wall,
          100 * t.pollWaitNanos() / wall, 100 * t.flushNanos() / wall, 100 * t.txnNanos() / wall,
          100 * otherBlocked / wall, 100 * rest / wall, t.processed(), t.commits(),
          f == null ? "n/a" : String.format(Locale.ROOT, "%.1f s", (f[1] - c0) / 1e9),
          t1.pollRatio(), t1.processRatio(), t1.commitRatio(), t1.punctuateRatio()));
    });
    return b.toString();
  }

  /** CPU µs per event of each group between two snapshots, over {@code n} events. */
  private static String perEvent(Map<String, Long> before, Map<String, Long> after, long n) {
    List<String> groups = new ArrayList<>();
    after.forEach((group, nanos) -> groups.add(String.format(Locale.ROOT, "%s %.2f", group,
        (nanos - before.getOrDefault(group, 0L)) / 1e3 / n)));
    return String.join("; ", groups);
  }

  /** Records of the backlog on each input partition (its end offset after producing it). */
  private final Map<Integer, Long> backlogPerPartition = new HashMap<>();

  private static long currentThreadCpuNanos() {
    return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
  }

  /** Events on {@code topic} the application has not committed yet. */
  private static long lag(Admin admin, String application, String topic) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed = admin
        .listConsumerGroupOffsets(application).partitionsToOffsetAndMetadata().get();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
        .partitions().size();
    for (int p = 0; p < partitions; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    long lag = 0;
    for (var e : admin.listOffsets(latest).all().get().entrySet()) {
      OffsetAndMetadata c = committed.get(e.getKey());
      lag += Math.max(0, e.getValue().offset() - (c == null ? 0 : c.offset()));
    }
    return lag;
  }

  /** Produces at {@code rate} for the steady duration; returns [second, lag] samples. */
  private List<long[]> steadyPhase(EmbeddedKafka kafka, Admin admin, String application,
                                   String topic, int rate) throws Exception {
    int n = (int) Math.min(Integer.MAX_VALUE - 1, (long) rate * steady.toSeconds());
    long before = calls;
    long eventsBefore = ackedEvents.get();
    long recordsBefore = ackedRecords.get();
    realTime = true;
    List<long[]> samples = new ArrayList<>();
    Thread producing = new Thread(() -> {
      try (KafkaProducer<String, byte[]> p = producer(kafka.bootstrapServers())) {
        produce(p, n, rate);
      }
    }, "steady-producer");
    producing.start();
    long t0 = System.nanoTime();
    for (int s = 1; producing.isAlive(); s++) {
      long due = t0 + TimeUnit.SECONDS.toNanos(s);
      LockSupport.parkNanos(Math.max(0, due - System.nanoTime()));
      samples.add(new long[] {s, lag(admin, application, topic)});
      System.err.printf(Locale.ROOT, "# steady %d s: lag %,d%n", s, samples.get(
          samples.size() - 1)[1]);
    }
    producing.join();
    countSteadyCalls = calls - before;
    steadyEvents = ackedEvents.get() - eventsBefore;
    steadyRecords = ackedRecords.get() - recordsBefore;
    return samples;
  }
}
