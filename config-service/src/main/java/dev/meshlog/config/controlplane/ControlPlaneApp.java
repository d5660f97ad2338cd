package dev.meshlog.config.controlplane;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.meshlog.schemas.KafkaClientSettings;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link ControlPlaneTopology} on a Kafka cluster: exactly-once, a short commit interval
 * (config traffic is light and every commit is a hop on the path from command to view), state in
 * a directory that survives restarts.
 */
public final class ControlPlaneApp implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ControlPlaneApp.class);

  /**
   * Settings of one control-plane instance.
   *
   * @param pollInterval how long the stream thread blocks in a poll that finds no input
   *     (Streams' {@code poll.ms}): between polls it commits whatever is due, so it bounds how
   *     late registry traffic's interval commit and a timer come; a command ends a poll at once
   *     and requests its own commit. Null: half the commit interval, at most 100 ms
   * @param clientSettings the operator's Kafka client settings ({@code --kafka-config}: security,
   *     tuning), over the app's own for every client Kafka Streams makes; checked by
   *     {@link dev.meshlog.schemas.KafkaClientSettings} against {@link #RESERVED_CLIENT_KEYS}
   */
  public record Settings(String bootstrapServers, String applicationId, Path stateDir,
                         Duration commitInterval, Duration leaseScanInterval, Duration pollInterval,
                         Map<String, String> clientSettings) {
    public Settings {
      clientSettings = Map.copyOf(clientSettings);
      Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      Objects.requireNonNull(applicationId, "applicationId");
      Objects.requireNonNull(stateDir, "stateDir");
      Objects.requireNonNull(commitInterval, "commitInterval");
      Objects.requireNonNull(leaseScanInterval, "leaseScanInterval");
      if (pollInterval != null && (pollInterval.isNegative() || pollInterval.isZero())) {
        throw new IllegalArgumentException("pollInterval: " + pollInterval + " (expected: > 0)");
      }
    }

    /** Settings without client settings of the operator's. */
    public Settings(String bootstrapServers, String applicationId, Path stateDir,
                    Duration commitInterval, Duration leaseScanInterval, Duration pollInterval) {
      this(bootstrapServers, applicationId, stateDir, commitInterval, leaseScanInterval,
          pollInterval, Map.of());
    }

    /** These settings with the operator's Kafka client settings. */
    public Settings withClientSettings(Map<String, String> settings) {
      return new Settings(bootstrapServers, applicationId, stateDir, commitInterval,
          leaseScanInterval, pollInterval, settings);
    }

    /** Settings with the poll interval derived from the commit interval. */
    public Settings(String bootstrapServers, String applicationId, Path stateDir,
                    Duration commitInterval, Duration leaseScanInterval) {
      this(bootstrapServers, applicationId, stateDir, commitInterval, leaseScanInterval, null);
    }

    /** Streams' {@code poll.ms}: the poll interval, or half the commit interval, 1..100 ms. */
    public Duration effectivePollInterval() {
      return pollInterval != null ? pollInterval
          : Duration.ofMillis(Math.max(1, Math.min(100, commitInterval.toMillis() / 2)));
    }

    /** Defaults: application id {@code meshlog-config-service}, 5 ms commits, 1 s lease scans. */
    public static Settings defaults(String bootstrapServers, Path stateDir) {
      return new Settings(bootstrapServers, "meshlog-config-service", stateDir,
          Duration.ofMillis(5), Duration.ofSeconds(1));
    }
  }

  /**
   * Kafka client keys the operator's settings may not set, with why: the control plane's
   * guarantees (exactly-once from command to view) rest on them, or a flag sets them.
   */
  public static final Map<String, String> RESERVED_CLIENT_KEYS = KafkaClientSettings.reserved(
      Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
          "the control plane's exactly-once transactions set it",
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
          "the control plane's exactly-once transactions need it",
          ProducerConfig.ACKS_CONFIG, "the control plane's exactly-once transactions need acks=all",
          ConsumerConfig.ISOLATION_LEVEL_CONFIG,
          "the control plane reads only committed events (read_committed)",
          ConsumerConfig.GROUP_ID_CONFIG, "use --application-id",
          ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "offsets are committed with each transaction",
          ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "the control plane reads every log from the start",
          ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "the control plane sends views of up to "
              + Topics.VIEWS_MAX_MESSAGE_BYTES + " bytes, what mesh.discovery.views takes"));

  /**
   * The control-plane producer's first retry backoff (Kafka: 100 ms); see {@link #streamsConfig}.
   */
  static final Duration PRODUCER_RETRY_BACKOFF = Duration.ofMillis(10);

  /** The control-plane producer's linger: none; see {@link #streamsConfig}. */
  static final Duration PRODUCER_LINGER = Duration.ZERO;

  private final KafkaStreams streams;

  /**
   * Creates (but does not start) the app; each command's stages are logged at DEBUG by
   * {@link CommandStages}' logger if it is on.
   */
  public ControlPlaneApp(Settings settings, ResourceCheck check, Discovery discovery) {
    this(settings, check, discovery, CommandStages.system());
  }

  /** Creates (but does not start) the app, timing each command's stages with {@code stages}. */
  public ControlPlaneApp(Settings settings, ResourceCheck check, Discovery discovery,
                         CommandStages stages) {
    this.streams = new KafkaStreams(
        ControlPlaneTopology.build(check, discovery, settings.leaseScanInterval(),
            commandCommitSpacing(settings.commitInterval()), stages),
        streamsConfig(settings), new StageTimingClients(stages));
    streams.setUncaughtExceptionHandler(e -> {
      LOG.error("control-plane thread failed; replacing it", e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
  }

  /**
   * A user command commits at once if no command came in the 5 ms (or the commit interval, if
   * shorter) before it: a lone command is not held back by the interval, while a burst (a GitOps
   * sync, a bulk load: thousands of commands) does not become one transaction per command.
   */
  static Duration commandCommitSpacing(Duration commitInterval) {
    Duration spacing = Duration.ofMillis(5);
    return commitInterval.compareTo(spacing) < 0 ? commitInterval : spacing;
  }

  static Properties streamsConfig(Settings settings) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, settings.applicationId());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
    props.put(StreamsConfig.STATE_DIR_CONFIG, settings.stateDir().toString());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.toString(settings.commitInterval().toMillis()));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
    // The thread commits between polls: a short poll keeps an idle control plane's interval
    // commit (registry traffic; user commands request theirs at once) within a few ms of
    // processing. Capped at Kafka's default, so a long interval never blocks the thread longer.
    props.put(StreamsConfig.POLL_MS_CONFIG, Long.toString(settings.effectivePollInterval().toMillis()));
    // No waiting for the other input topic: a command is processed while the registry's
    // partition is empty (and vice versa) without first checking whether that partition has
    // more to fetch. Nothing here depends on the order of records across the two topics
    // (config-service/README.md, "Input order across the two topics"), and the check formatted
    // log strings for the empty partition on every loop of the stream thread (≈2% of its CPU).
    props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG,
        Long.toString(StreamsConfig.MAX_TASK_IDLE_MS_DISABLED));
    props.put("processing.exception.handler.global.enabled", "true");
    props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, "true");
    // Classic rebalancing: RUNNING in ~2 s instead of ~6.5 s with the streams protocol (FACTS.md).
    props.put(StreamsConfig.GROUP_PROTOCOL_CONFIG, "classic");
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), "500");
    // No linger: a change's event leaves at once, and its partition is added to the transaction
    // (a write to the transaction log) while the views are still being compiled. Lingering until
    // the commit's flush (one produce request per transaction instead of 1-5) was measured
    // worse: the produce then starts only after the compile, and in back-to-back runs the
    // apply -> read_committed median rose by 1-2 ms and the broker's CPU per apply by ~20%
    // (config-service/README.md, "One apply's transaction").
    props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG),
        Long.toString(PRODUCER_LINGER.toMillis()));
    // Streams refuses a commit interval above the transaction timeout (10 s under exactly-once).
    // Raised only for such intervals: a longer timeout also keeps a crashed instance's open
    // transaction (and so every read_committed proxy) waiting longer before the broker aborts it.
    long transactionTimeout = Math.max(10_000, settings.commitInterval().toMillis() + 10_000);
    props.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
        Long.toString(transactionTimeout));
    // No compression: with linger 0 nearly every batch is one small record, which lz4 barely
    // shrinks, and Kafka's lz4 stream allocates two 64 KiB buffers per batch — 40% of the control
    // plane thread's allocation while applying changes, and so young-GC pauses on the view path.
    props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "none");
    // A view is one record of up to the views topic's max.message.bytes (16 MiB: a host with
    // tens of thousands of endpoints); the producer refuses a record over max.request.size
    // (1 MiB by default) before it is sent. Only views get this large: a command or an event is
    // at most Topics.MAX_VALUE_BYTES, and the changelogs hold events and ~70-byte view stamps.
    // buffer.memory (32 MiB by default) holds such a record; batch.size stays (a record larger
    // than it gets a batch of its own, allocated for it alone).
    props.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
        Integer.toString(Topics.VIEWS_MAX_MESSAGE_BYTES));
    // A transaction's first send right after the previous commit is refused with
    // CONCURRENT_TRANSACTIONS while the coordinator still writes the previous one's markers
    // (transactions v2: the partition is added on the produce path). The broker retries for up to
    // 100 ms itself (add.partitions.to.txn.retry.backoff.max.ms); past that the producer retries
    // after retry.backoff.ms — 100 ms by default, on top — with the stream thread blocked in the
    // commit meanwhile. Kafka lowered the same backoff to 20 ms for AddPartitionsToTxn (KAFKA-5477);
    // on the v2 produce path it is the plain producer backoff again (KAFKA-18654). Retries stay
    // idempotent and transactional: only their spacing changes, and the backoff still grows
    // exponentially to retry.backoff.max.ms (1 s) while a broker is really away.
    props.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG),
        Long.toString(PRODUCER_RETRY_BACKOFF.toMillis()));
    // The operator's client settings (security, tuning) come last: every embedded client gets
    // them, and the keys the guarantees rest on cannot be among them (RESERVED_CLIENT_KEYS).
    // Streams gives a client-prefixed setting above (producer.linger.ms, ...) precedence over an
    // unprefixed one.
    settings.clientSettings().forEach((key, value) -> {
      KafkaClientSettings.check(KafkaClientSettings.FLAG, key, RESERVED_CLIENT_KEYS);
      props.put(key, value);
    });
    return props;
  }

  /** Starts processing; returns at once. */
  public void start() {
    streams.start();
  }

  /** Waits until the app is RUNNING. */
  public boolean awaitRunning(Duration timeout) throws InterruptedException {
    CountDownLatch running = new CountDownLatch(1);
    if (streams.state() == KafkaStreams.State.RUNNING) {
      return true;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (streams.state() == KafkaStreams.State.RUNNING) {
        return true;
      }
      if (streams.state() == KafkaStreams.State.ERROR || streams.state() == KafkaStreams.State.NOT_RUNNING) {
        return false;
      }
      running.await(50, TimeUnit.MILLISECONDS);
    }
    return streams.state() == KafkaStreams.State.RUNNING;
  }

  /** The Streams instance, for interactive queries and state. */
  public KafkaStreams streams() {
    return streams;
  }

  /**
   * Stops processing and leaves the consumer group, so a restarted or standby instance takes
   * the control-plane task over at once instead of after the session timeout.
   */
  @Override
  public void close() {
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
        .withTimeout(Duration.ofSeconds(30)));
  }
}
