package dev.meshlog.telemetry.query;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.telemetry.EdgeAggregation;
import dev.meshlog.telemetry.TelemetryTopology;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;

/**
 * This instance's share of the aggregates: what its window and totals stores hold for the
 * partitions it runs (active tasks only). Blocking: call it off the event loop.
 */
public final class LocalStores {

  private final KafkaStreams streams;

  /** Reads the stores of {@code streams}. */
  public LocalStores(KafkaStreams streams) {
    this.streams = streams;
  }

  /**
   * The windows of {@code size} that start in {@code [from, to]}, each stamped with its bounds.
   *
   * @throws IllegalArgumentException if there is no store of that window size
   * @throws org.apache.kafka.streams.errors.InvalidStateStoreException while rebalancing
   */
  public List<EdgeMetrics> windows(Duration size, Instant from, Instant to, EdgeFilter filter) {
    String name = TelemetryTopology.WINDOW_STORES.get(size);
    if (name == null) {
      throw new IllegalArgumentException("window size: " + size + " (expected: one of "
          + TelemetryTopology.WINDOW_STORES.keySet() + ")");
    }
    ReadOnlyWindowStore<String, EdgeMetrics> store = streams.store(
        StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.windowStore()));
    List<EdgeMetrics> out = new ArrayList<>();
    try (KeyValueIterator<Windowed<String>, EdgeMetrics> it = store.fetchAll(from, to)) {
      while (it.hasNext()) {
        KeyValue<Windowed<String>, EdgeMetrics> kv = it.next();
        if (kv.value != null && filter.test(kv.value)) {
          out.add(TelemetryTopology.withWindow(kv.value, kv.key.window().start(), kv.key.window().end()));
        }
      }
    }
    return out;
  }

  /** Every edge's totals since the state began (sketches in the published format). */
  public List<EdgeMetrics> totals(EdgeFilter filter) {
    ReadOnlyKeyValueStore<String, EdgeMetrics> store = streams.store(StoreQueryParameters.fromNameAndType(
        TelemetryTopology.TOTALS_STORE, QueryableStoreTypes.keyValueStore()));
    List<EdgeMetrics> out = new ArrayList<>();
    try (KeyValueIterator<String, EdgeMetrics> it = store.all()) {
      it.forEachRemaining(kv -> {
        if (kv.value != null && filter.test(kv.value)) {
          out.add(EdgeAggregation.published(kv.value));
        }
      });
    }
    return out;
  }
}
