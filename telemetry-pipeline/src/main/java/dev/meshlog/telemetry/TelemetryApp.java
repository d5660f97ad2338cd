package dev.meshlog.telemetry;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;

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
   * @param commitInterval how often results are committed (and so visible downstream)
   * @param topology what the topology is built with (its application is the application id)
   */
  public record Settings(String bootstrapServers, Path stateDir, String applicationServer,
                         Duration commitInterval, TelemetryTopology.Settings topology) {
    public Settings {
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

  private final KafkaStreams streams;

  /** Creates (but does not start) the app. */
  public TelemetryApp(Settings settings) {
    this.streams = new KafkaStreams(TelemetryTopology.build(settings.topology()), streamsConfig(settings));
    streams.setUncaughtExceptionHandler(e -> {
      LOG.error("telemetry thread failed; replacing it", e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
  }

  static Properties streamsConfig(Settings settings) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, settings.applicationId());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
    props.put(StreamsConfig.STATE_DIR_CONFIG, settings.stateDir().toString());
    props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, settings.applicationServer());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.toString(settings.commitInterval().toMillis()));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
    props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, "true");
    props.put("processing.exception.handler.global.enabled", "true");
    // Classic rebalancing: RUNNING in ~2 s instead of ~6.5 s with the streams protocol (FACTS.md).
    props.put(StreamsConfig.GROUP_PROTOCOL_CONFIG, "classic");
    // Telemetry is heavy and windowed: batch the producer and let the record cache absorb
    // repeated updates of a window between commits.
    props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), "20");
    props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
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
