package dev.meshlog.telemetry;

import java.time.Duration;
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
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The telemetry topology: request events in, per-edge metrics per time window out.
 *
 * <pre>
 * mesh.telemetry.requests --decode--+--(bad)--> mesh.deadletter
 *                                   |
 *                                   +--one report per call--EdgeCall--key by edge (with versions)--> repartition "requests-by-edge"
 *                                        +--> 10 s tumbling windows --> store edge-metrics-10s --> mesh.telemetry.edges
 *                                        +--> 1 min tumbling windows -> store edge-metrics-1m ---> mesh.telemetry.edges
 *                                        +--> since start (no window) -> store edge-totals (Prometheus counters)
 * </pre>
 *
 * <p>Windows follow event time (each request's start). A request later than its window's end
 * plus the grace period is dropped (Kafka Streams counts it in its {@code dropped-records}
 * metric); until then it updates its window and the window's record on the output topic again.
 * Pure: no broker, clock or file; tests drive it with {@code TopologyTestDriver}.
 */
public final class TelemetryTopology {

  /** Window store of the 10-second windows. */
  public static final String STORE_10S = "edge-metrics-10s";
  /** Window store of the 1-minute windows. */
  public static final String STORE_1M = "edge-metrics-1m";
  /** Key-value store of each edge's totals since the app's state began. */
  public static final String TOTALS_STORE = "edge-totals";
  /** Name of the repartition topic's prefix (the topic is {@code <application id>-requests-by-edge-repartition}). */
  public static final String BY_EDGE = "requests-by-edge";

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
   */
  public record Settings(String application, Duration grace, Duration retention10s,
                         Duration retention1m, double relativeAccuracy) {
    public Settings {
      Objects.requireNonNull(application, "application");
      Objects.requireNonNull(grace, "grace");
      Objects.requireNonNull(retention10s, "retention10s");
      Objects.requireNonNull(retention1m, "retention1m");
      if (retention10s.compareTo(Duration.ofSeconds(10).plus(grace)) < 0
          || retention1m.compareTo(Duration.ofMinutes(1).plus(grace)) < 0) {
        throw new IllegalArgumentException("retention: " + retention10s + "/" + retention1m
            + " (expected: at least window size + grace " + grace + ")");
      }
    }

    /** Defaults: 30 s grace, 10 s windows kept 1 h, 1 min windows kept 24 h, 1% accuracy. */
    public static Settings defaults(String application) {
      return new Settings(application, Duration.ofSeconds(30), Duration.ofHours(1),
          Duration.ofHours(24), LatencySketch.DEFAULT_RELATIVE_ACCURACY);
    }
  }

  private TelemetryTopology() {}

  /** Builds the topology. */
  public static Topology build(Settings settings) {
    Objects.requireNonNull(settings, "settings");
    EdgeAggregation aggregation = new EdgeAggregation(settings.relativeAccuracy());
    Serde<String> keys = Serdes.String();
    Serde<EdgeMetrics> metrics = AvroSerde.of(EdgeMetrics.class);
    Serde<DeadLetter> deadLetters = Topics.DEAD_LETTERS.valueSerde();

    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, DecodeRequests.Decoded> decoded = builder
        .stream(Topics.TELEMETRY_REQUESTS.name(),
            Consumed.with(keys, Serdes.ByteArray()).withName("telemetry-requests-source"))
        .processValues(() -> new DecodeRequests(settings.application()), Named.as("decode-requests"));

    Map<String, KStream<String, DecodeRequests.Decoded>> branches = decoded
        .split(Named.as("decoded-"))
        .branch((k, v) -> v.deadLetter() != null, Branched.as("dead"))
        .defaultBranch(Branched.as("events"));

    branches.get("decoded-dead")
        .map((k, v) -> KeyValue.pair(settings.application(), v.deadLetter()), Named.as("dead-letter-key"))
        .to(Topics.DEAD_LETTERS.name(), Produced.with(keys, deadLetters).withName("dead-letter-sink"));

    // Only what aggregation reads crosses the repartition topic (EdgeCall), not the whole event.
    KGroupedStream<String, EdgeCall> byEdge = branches.get("decoded-events")
        .mapValues(DecodeRequests.Decoded::event, Named.as("request-event"))
        .filter((k, event) -> countsOnce(event), Named.as("one-report-per-call"))
        .mapValues(EdgeCall::of, Named.as("edge-call"))
        .selectKey((k, call) -> call.edge().id(), Named.as("key-by-edge"))
        .groupByKey(Grouped.with(BY_EDGE, keys, EdgeCall.SERDE));

    windowed(byEdge, Duration.ofSeconds(10), STORE_10S, settings.grace(), settings.retention10s(),
        aggregation, keys, metrics);
    windowed(byEdge, Duration.ofMinutes(1), STORE_1M, settings.grace(), settings.retention1m(),
        aggregation, keys, metrics);

    byEdge.aggregate(aggregation::empty, (edge, call, agg) -> aggregation.addInPlace(agg, call),
        Named.as(TOTALS_STORE),
        Materialized.<String, EdgeMetrics, KeyValueStore<Bytes, byte[]>>as(TOTALS_STORE)
            .withKeySerde(keys).withValueSerde(metrics));
    return builder.build();
  }

  private static void windowed(KGroupedStream<String, EdgeCall> byEdge, Duration size,
                               String store, Duration grace, Duration retention,
                               EdgeAggregation aggregation, Serde<String> keys,
                               Serde<EdgeMetrics> metrics) {
    long sizeMs = size.toMillis();
    byEdge.windowedBy(TimeWindows.ofSizeAndGrace(size, grace))
        .aggregate(aggregation::empty, (edge, call, agg) -> aggregation.addInPlace(agg, call),
            Named.as(store),
            Materialized.<String, EdgeMetrics, WindowStore<Bytes, byte[]>>as(store)
                .withKeySerde(keys).withValueSerde(metrics).withRetention(retention))
        .toStream(Named.as(store + "-changes"))
        .filter((window, value) -> value != null, Named.as(store + "-not-deleted"))
        .map((window, value) -> KeyValue.pair(
                Edge.windowKey(window.key(), window.window().start(), sizeMs),
                withWindow(value, window.window().start(), window.window().end())),
            Named.as(store + "-key"))
        .to(Topics.TELEMETRY_EDGES.name(), Produced.with(keys, metrics).withName(store + "-sink"));
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
