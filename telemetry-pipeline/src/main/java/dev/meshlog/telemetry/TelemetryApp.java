package dev.meshlog.telemetry;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link TelemetryTopology} on a Kafka cluster: exactly-once, state in a directory that
 * survives restarts, and {@code application.server} set so that instances can find each other
 * for interactive queries.
 */
public final class TelemetryApp implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TelemetryApp.class);

  /**
   * Settings of one pipeline instance.
   *
   * @param bootstrapServers Kafka
   * @param stateDir where the window stores live
   * @param applicationServer {@code host:port} of this instance's HTTP API, as other instances reach it
   * @param commitInterval how often results are committed (and so visible downstream) while a
   *     task is caught up
   * @param topology what the topology is built with (its application is the application id)
   * @param streamThreads stream threads of this instance (each runs some of the partitions)
   * @param catchUpCommitInterval how often a task still reading a backlog commits (its stream
   *     time more than {@link TelemetryTopology.Settings#caughtUpLag} behind the wall clock);
   *     Kafka Streams' {@code commit.interval.ms}. At least {@code commitInterval}, at most 30 s
   * @param streamsConfig Kafka Streams and client properties set over the pipeline's own
   *     ({@link StreamsOverrides}: checked keys, none of the reserved ones)
   */
  public record Settings(String bootstrapServers, Path stateDir, String applicationServer,
                         Duration commitInterval, TelemetryTopology.Settings topology, int streamThreads,
                         Duration catchUpCommitInterval, Map<String, String> streamsConfig) {

    /** Default stream threads: two (one per core of a small machine). */
    public static final int DEFAULT_STREAM_THREADS = 2;
    /** Default commit interval while reading a backlog (or the commit interval, if longer). */
    public static final Duration DEFAULT_CATCH_UP_COMMIT_INTERVAL = Duration.ofSeconds(5);

    /** Settings with {@link #DEFAULT_STREAM_THREADS}. */
    public Settings(String bootstrapServers, Path stateDir, String applicationServer,
                    Duration commitInterval, TelemetryTopology.Settings topology) {
      this(bootstrapServers, stateDir, applicationServer, commitInterval, topology, DEFAULT_STREAM_THREADS);
    }

    /** Settings with the default catch-up commit interval. */
    public Settings(String bootstrapServers, Path stateDir, String applicationServer,
                    Duration commitInterval, TelemetryTopology.Settings topology, int streamThreads) {
      this(bootstrapServers, stateDir, applicationServer, commitInterval, topology, streamThreads,
          catchUpFor(commitInterval));
    }

    /** The default catch-up commit interval for a commit interval: 5 s, or it if longer. */
    public static Duration catchUpFor(Duration commitInterval) {
      return commitInterval == null || commitInterval.compareTo(DEFAULT_CATCH_UP_COMMIT_INTERVAL) > 0
          ? commitInterval : DEFAULT_CATCH_UP_COMMIT_INTERVAL;
    }

    /** Settings with no {@code streamsConfig} overrides. */
    public Settings(String bootstrapServers, Path stateDir, String applicationServer,
                    Duration commitInterval, TelemetryTopology.Settings topology, int streamThreads,
                    Duration catchUpCommitInterval) {
      this(bootstrapServers, stateDir, applicationServer, commitInterval, topology, streamThreads,
          catchUpCommitInterval, Map.of());
    }

    public Settings {
      Objects.requireNonNull(catchUpCommitInterval, "catchUpCommitInterval");
      streamsConfig.keySet().forEach(StreamsOverrides::check);
      streamsConfig = Map.copyOf(streamsConfig);
      if (commitInterval != null && (catchUpCommitInterval.compareTo(commitInterval) < 0
          || catchUpCommitInterval.compareTo(Duration.ofSeconds(30)) > 0)) {
        throw new IllegalArgumentException("catchUpCommitInterval: " + catchUpCommitInterval
            + " (expected: from the commit interval " + commitInterval + " to 30s)");
      }
      if (streamThreads < 1) {
        throw new IllegalArgumentException("streamThreads: " + streamThreads + " (expected: at least 1)");
      }
      Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      Objects.requireNonNull(stateDir, "stateDir");
      Objects.requireNonNull(applicationServer, "applicationServer");
      Objects.requireNonNull(commitInterval, "commitInterval");
      Objects.requireNonNull(topology, "topology");
    }

    /** The Streams application id. */
    public String applicationId() {
      return topology.application();
    }
  }

  /** The consumers' largest fetch per partition: 1 MiB, see {@link #streamsConfig}. */
  static final int MAX_PARTITION_FETCH_BYTES = 1 << 20;

  private final KafkaStreams streams;

  /** Creates (but does not start) the app. */
  public TelemetryApp(Settings settings) {
    this.streams = new KafkaStreams(TelemetryTopology.build(topology(settings)), streamsConfig(settings));
    streams.setUncaughtExceptionHandler(e -> {
      LOG.error("telemetry thread failed; replacing it", e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
  }

  /**
   * The topology's settings: caught-up tasks ask for a commit every commit interval, when that
   * is shorter than Kafka Streams' own (the catch-up interval).
   */
  static TelemetryTopology.Settings topology(Settings settings) {
    return settings.catchUpCommitInterval().equals(settings.commitInterval())
        ? settings.topology()
        : settings.topology().withCaughtUpCommits(settings.commitInterval());
  }

  static Properties streamsConfig(Settings settings) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, settings.applicationId());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
    props.put(StreamsConfig.STATE_DIR_CONFIG, settings.stateDir().toString());
    props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, settings.applicationServer());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // Kafka Streams' own interval is the catch-up one; a caught-up task asks for a commit every
    // commit interval (TelemetryTopology.Settings#caughtUpCommitInterval). A transaction stays
    // open up to the catch-up interval: its timeout leaves room for that.
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.toString(settings.catchUpCommitInterval().toMillis()));
    props.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
        Long.toString(Math.max(10_000, 3 * settings.catchUpCommitInterval().toMillis())));
    // Two cores: two stream threads, each with its share of the input partitions (tasks).
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.toString(settings.streamThreads()));
    props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, "true");
    props.put("processing.exception.handler.global.enabled", "true");
    // Classic rebalancing: RUNNING in ~1 s instead of ~5.6 s with the streams protocol, and
    // 30-45% faster end to end (BENCHMARKS.md, issue 5).
    props.put(StreamsConfig.GROUP_PROTOCOL_CONFIG, "classic");
    // The aggregator keeps its aggregates decoded in memory and writes each once per commit:
    // Kafka Streams' record cache (bytes) would only add a copy, so it gets no memory.
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
    // Events keyed otherwise than by edge come back through a repartition topic into the same
    // task; their order relative to the input does not matter (only lateness does), so a task
    // never waits for the repartition partition to have data.
    props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, "-1");
    // Telemetry is heavy: big polls and fetches, a batching producer.
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), "5000");
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), "65536");
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), "100");
    // Partition fetches of 1 MiB (Kafka's default), not more: a fetch response's buffer stays on
    // the heap until every record of each of its partitions is processed, and at 4 MiB per
    // partition the live responses (tens of MiB per stream thread) overflowed the young
    // generation's survivor spaces at each collection, so that the old generation filled and was
    // collected in full every few seconds (GC log, README: Running it).
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), Integer.toString(MAX_PARTITION_FETCH_BYTES));
    props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), "20");
    props.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), Integer.toString(256 << 10));
    props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
    // The operator's overrides (--streams-config) come last.
    props.putAll(settings.streamsConfig());
    return props;
  }

  /** Starts processing; returns at once. */
  public void start() {
    streams.start();
  }

  /** Waits until the app is RUNNING; false if it failed or the time ran out. */
  public boolean awaitRunning(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      KafkaStreams.State state = streams.state();
      if (state == KafkaStreams.State.RUNNING) {
        return true;
      }
      if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.NOT_RUNNING) {
        return false;
      }
      Thread.sleep(50);
    }
    return streams.state() == KafkaStreams.State.RUNNING;
  }

  /** The Streams instance, for interactive queries and state. */
  public KafkaStreams streams() {
    return streams;
  }

  /** Stops processing and leaves the group, so other instances take the partitions over at once. */
  @Override
  public void close() {
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
        .withTimeout(Duration.ofSeconds(30)));
  }
}
