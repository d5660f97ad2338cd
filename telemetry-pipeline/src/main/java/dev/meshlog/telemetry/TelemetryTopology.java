package dev.meshlog.telemetry;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedWindowStore;

/**
 * The telemetry topology: request events in (batches of one edge's events per record, or single
 * events of releases before batching), per-edge metrics per time window out.
 *
 * <pre>
 * mesh.telemetry.requests --> aggregate-edges (reads only the fields aggregated; folds each counted call in memory)
 *     aggregate-edges --(record unreadable, any event of it)--> mesh.deadletter (the whole record)
 *                     --(destination's duplicate report)--> dropped
 *                     --(event's edge is not the key's)--> that event alone to
 *                            repartition "requests-by-edge-key" --> aggregate-rerouted
 *                            (same task, same stores, same aggregates in memory; unreadable --> mesh.deadletter)
 *     before each commit every changed aggregate is written once to
 *       store edges-10s (10 s windows), edges-1m (1 min windows), edges-total (since start),
 *       and aggregate-edges sends every changed window once to mesh.telemetry.edges
 * </pre>
 *
 * <p>Proxies key batches by edge ({@code srcNs/src->dstNs/dst}), so every versioned edge of one
 * edge arrives on one input partition and is aggregated where it arrives: no repartition topic
 * on the way, and the stores' changelogs are co-partitioned with the input. Only events keyed
 * otherwise go through the small {@code requests-by-edge-key} repartition topic first.
 *
 * <p>Windows follow event time (each request's start). A request later than its window's end
 * plus the grace period (behind the latest event time its partition has seen) is skipped for
 * that window; until then it updates its window and the window's record on the output topic
 * again. Pure: no broker, clock or file; tests drive it with {@code TopologyTestDriver}.
 */
public final class TelemetryTopology {

  /** Window store of the 10-second windows. */
  public static final String STORE_10S = "edges-10s";
  /** Window store of the 1-minute windows. */
  public static final String STORE_1M = "edges-1m";
  /** Key-value store of each edge's totals since the app's state began. */
  public static final String TOTALS_STORE = "edges-total";
  /** The store that holds nothing and runs the aggregator's flush before each commit. */
  static final String FLUSH_STORE = "edges-flush-before-commit";
  /**
   * Name of the repartition topic's prefix for events not keyed by their edge (the topic is
   * {@code <application id>-requests-by-edge-key-repartition}).
   */
  public static final String BY_EDGE_KEY = "requests-by-edge-key";

  /** The store of each window size. */
  public static final Map<Duration, String> WINDOW_STORES = Map.of(
      Duration.ofSeconds(10), STORE_10S, Duration.ofMinutes(1), STORE_1M);

  /**
   * What the topology is built with.
   *
   * @param application the application id, the key of dead letters
   * @param grace how late an event may be and still count in its window
   * @param retention10s how long 10-second windows stay queryable
   * @param retention1m how long 1-minute windows stay queryable
   * @param relativeAccuracy of the latency sketches
   * @param caughtUpCommitInterval how often a task that is caught up asks for a commit (zero:
   *     never; then only Kafka Streams' own {@code commit.interval.ms} commits). A task is
   *     caught up when its stream time is no more than {@code caughtUpLag} behind the wall
   *     clock, or when it read nothing during the last interval (the end of a backlog of old
   *     events); a task still reading a backlog commits at Kafka Streams' interval only, which
   *     {@link TelemetryApp} sets longer
   * @param caughtUpLag how far behind the wall clock stream time may be for a task to be caught up
   * @param maxAhead how far ahead of the pipeline's wall clock an event's time may be: an event
   *     further ahead (a proxy whose clock is wrong) is dead-lettered on its own, the rest of its
   *     batch counted; counted, it would move stream time so far that every later event were
   *     late, and its window's records would be refused by the broker (Kafka refuses timestamps
   *     over {@code log.message.timestamp.after.max.ms} ahead, 1 h by default), stopping the app
   */
  public record Settings(String application, Duration grace, Duration retention10s,
                         Duration retention1m, double relativeAccuracy,
                         Duration caughtUpCommitInterval, Duration caughtUpLag, Duration maxAhead) {
    /** Default {@code caughtUpLag}: events this much older than now mean a backlog is being read. */
    public static final Duration DEFAULT_CAUGHT_UP_LAG = Duration.ofSeconds(30);
    /** Default {@code maxAhead}: a proxy's clock may be this much ahead of the pipeline's. */
    public static final Duration DEFAULT_MAX_AHEAD = Duration.ofMinutes(1);

    public Settings {
      Objects.requireNonNull(application, "application");
      Objects.requireNonNull(grace, "grace");
      Objects.requireNonNull(retention10s, "retention10s");
      Objects.requireNonNull(retention1m, "retention1m");
      Objects.requireNonNull(caughtUpCommitInterval, "caughtUpCommitInterval");
      Objects.requireNonNull(caughtUpLag, "caughtUpLag");
      Objects.requireNonNull(maxAhead, "maxAhead");
      if (maxAhead.isNegative() || maxAhead.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("maxAhead: " + maxAhead
            + " (expected: 0 to 1h; the broker refuses records further ahead by default)");
      }
      if (retention10s.compareTo(Duration.ofSeconds(10).plus(grace)) < 0
          || retention1m.compareTo(Duration.ofMinutes(1).plus(grace)) < 0) {
        throw new IllegalArgumentException("retention: " + retention10s + "/" + retention1m
            + " (expected: at least window size + grace " + grace + ")");
      }
      if (caughtUpCommitInterval.isNegative() || caughtUpLag.isNegative()) {
        throw new IllegalArgumentException("caughtUpCommitInterval/caughtUpLag: " + caughtUpCommitInterval
            + "/" + caughtUpLag + " (expected: not negative)");
      }
    }

    /** Settings whose tasks never ask for commits (Kafka Streams' own interval only). */
    public Settings(String application, Duration grace, Duration retention10s, Duration retention1m,
                    double relativeAccuracy) {
      this(application, grace, retention10s, retention1m, relativeAccuracy, Duration.ZERO,
          DEFAULT_CAUGHT_UP_LAG, DEFAULT_MAX_AHEAD);
    }

    /** Defaults: 30 s grace, 10 s windows kept 1 h, 1 min windows kept 24 h, 1% accuracy. */
    public static Settings defaults(String application) {
      return new Settings(application, Duration.ofSeconds(30), Duration.ofHours(1),
          Duration.ofHours(24), LatencySketch.DEFAULT_RELATIVE_ACCURACY);
    }

    /** These settings with tasks asking for a commit every {@code interval} while caught up. */
    public Settings withCaughtUpCommits(Duration interval) {
      return new Settings(application, grace, retention10s, retention1m, relativeAccuracy, interval,
          caughtUpLag, maxAhead);
    }

    /** These settings with events up to {@code maxAhead} ahead of the wall clock counted. */
    public Settings withMaxAhead(Duration maxAhead) {
      return new Settings(application, grace, retention10s, retention1m, relativeAccuracy,
          caughtUpCommitInterval, caughtUpLag, maxAhead);
    }
  }

  private TelemetryTopology() {}

  /** Builds the topology. */
  public static Topology build(Settings settings) {
    Objects.requireNonNull(settings, "settings");
    Serde<String> keys = Serdes.String();
    Serde<EdgeMetrics> metrics = AvroSerde.of(EdgeMetrics.class);
    @SuppressWarnings({"unchecked", "rawtypes"})
    Serde<Object> deadLetters = (Serde) Topics.DEAD_LETTERS.valueSerde();

    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(windowStore(STORE_10S, Duration.ofSeconds(10), settings.retention10s(), keys, metrics));
    builder.addStateStore(windowStore(STORE_1M, Duration.ofMinutes(1), settings.retention1m(), keys, metrics));
    builder.addStateStore(Stores.timestampedKeyValueStoreBuilder(
            Stores.persistentTimestampedKeyValueStore(TOTALS_STORE), keys, metrics)
        .withCachingDisabled());
    builder.addStateStore(FlushBeforeCommit.builder(FLUSH_STORE));

    EdgeAggregator.Settings aggregation = new EdgeAggregator.Settings(List.of(
            new EdgeAggregator.WindowSize(Duration.ofSeconds(10).toMillis(), STORE_10S),
            new EdgeAggregator.WindowSize(Duration.ofMinutes(1).toMillis(), STORE_1M)),
        settings.grace().toMillis(), settings.relativeAccuracy(), TOTALS_STORE, FLUSH_STORE,
        settings.caughtUpCommitInterval(), settings.caughtUpLag().toMillis(), settings.maxAhead().toMillis());
    String[] stores = {STORE_10S, STORE_1M, TOTALS_STORE, FLUSH_STORE};

    // A well-keyed event crosses one node after its source: the aggregator reads and folds it.
    // Only what leaves (a changed window per commit, a dead letter, a mis-keyed event) goes
    // through the split below.
    Map<String, KStream<String, Object>> out = builder
        .stream(Topics.TELEMETRY_REQUESTS.name(),
            Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("telemetry-requests-source"))
        .process(() -> new EdgeAggregator(settings.application(), true, aggregation),
            Named.as("aggregate-edges"), stores)
        .split(Named.as("out-"))
        .branch((k, v) -> v instanceof DeadLetter, Branched.as("dead"))
        .branch((k, v) -> v instanceof byte[], Branched.as("other-key"))
        .defaultBranch(Branched.as("windows"));
    out.get("out-dead").to(Topics.DEAD_LETTERS.name(),
        Produced.with(keys, deadLetters).withName("dead-letter-sink"));
    @SuppressWarnings({"unchecked", "rawtypes"})
    KStream<String, EdgeMetrics> windows = (KStream) out.get("out-windows");
    windows.to(Topics.TELEMETRY_EDGES.name(), Produced.with(keys, metrics).withName("edges-sink"));

    // Events keyed otherwise than by their edge: to the partition of their edge's key, then into
    // the same task's aggregates (a second aggregator node over the same stores, sharing them).
    out.get("out-other-key")
        .map((k, v) -> KeyValue.pair(k.getBytes(StandardCharsets.UTF_8), (byte[]) v), Named.as("other-key-bytes"))
        .repartition(Repartitioned.<byte[], byte[]>as(BY_EDGE_KEY)
            .withKeySerde(Serdes.ByteArray()).withValueSerde(Serdes.ByteArray()))
        .process(() -> new EdgeAggregator(settings.application(), false, aggregation),
            Named.as("aggregate-rerouted"), stores)
        .to(Topics.DEAD_LETTERS.name(), Produced.with(keys, deadLetters).withName("rerouted-dead-letter-sink"));
    return builder.build();
  }

  private static StoreBuilder<TimestampedWindowStore<String, EdgeMetrics>> windowStore(
      String name, Duration size, Duration retention, Serde<String> keys, Serde<EdgeMetrics> metrics) {
    // Kafka's RocksDB window store, keeping its changelog offset across a clean close even with
    // no segment (an idle partition's): without, Kafka 4.3 wipes and restores such a task on
    // every restart (OffsetKeepingWindowStore).
    return Stores.timestampedWindowStoreBuilder(OffsetKeepingWindowStore.supplier(
            Stores.persistentTimestampedWindowStore(name, retention, size, false)), keys, metrics)
        .withCachingDisabled();
  }

  /**
   * Whether this report of a call is the one that counts. Both proxies of an in-mesh call report
   * it (Istio's {@code reporter} source and destination); counting both would double every edge.
   * The caller's report counts (it sees what the caller experienced, including failures that
   * never reached the destination: UH, UF, NR, timeouts); a destination's report counts only
   * when the caller is outside the mesh and so has no proxy to report it.
   */
  public static boolean countsOnce(RequestEvent event) {
    if (event.getReporter() != Reporter.DESTINATION) {
      return true;
    }
    String source = event.getSource().getService();
    return source == null || source.isEmpty() || source.equals(Edge.UNKNOWN);
  }

  /**
   * {@code metrics} stamped with its window's bounds, its sketch in the published format
   * (protobuf): the stores keep sketches-java's own encoding, converted here once per record
   * that leaves, not once per event.
   */
  public static EdgeMetrics withWindow(EdgeMetrics metrics, long startMillis, long endMillis) {
    return EdgeMetrics.newBuilder(EdgeAggregation.published(metrics))
        .setWindowStart(java.time.Instant.ofEpochMilli(startMillis))
        .setWindowEnd(java.time.Instant.ofEpochMilli(endMillis))
        .build();
  }
}
