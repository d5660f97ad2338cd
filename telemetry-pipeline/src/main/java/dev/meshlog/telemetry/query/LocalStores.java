package dev.meshlog.telemetry.query;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.schemas.Topics;
import dev.meshlog.telemetry.EdgeAggregation;
import dev.meshlog.telemetry.TelemetryTopology;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreType;
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
    ReadOnlyWindowStore<String, EdgeMetrics> store = streams.store(StoreQueryParameters
        .fromNameAndType(windowStore(size), QueryableStoreTypes.windowStore()));
    return windowsIn(store, from, to, filter);
  }

  /** The name of the store of windows of {@code size}. */
  private static String windowStore(Duration size) {
    String name = TelemetryTopology.WINDOW_STORES.get(size);
    if (name == null) {
      throw new IllegalArgumentException("window size: " + size + " (expected: one of "
          + TelemetryTopology.WINDOW_STORES.keySet() + ")");
    }
    return name;
  }

  private static List<EdgeMetrics> windowsIn(ReadOnlyWindowStore<String, EdgeMetrics> store,
                                             Instant from, Instant to, EdgeFilter filter) {
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

  private static List<EdgeMetrics> totalsIn(ReadOnlyKeyValueStore<String, EdgeMetrics> store,
                                            EdgeFilter filter) {
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

  /**
   * The aggregates an instance answered for some input partitions of {@code mesh.telemetry.requests}:
   * one partition's (what this release sends, one per partition), or, from a peer of a release
   * before the per-partition split, all of its partitions' together.
   */
  public record Part(Set<Integer> partitions, List<EdgeMetrics> metrics) {
    public Part {
      partitions = Set.copyOf(partitions);
      metrics = List.copyOf(metrics);
    }
  }

  /**
   * What this instance answered, partition by partition (a store's partition is its task's, the
   * input partition's), so that a merge can take each partition once.
   */
  public record Share(List<Part> parts) {
    public Share {
      parts = List.copyOf(parts);
    }

    /** One part of {@code partitions} holding {@code metrics} (a peer's answer that is not split). */
    public static Share whole(List<EdgeMetrics> metrics, Set<Integer> partitions) {
      return new Share(List.of(new Part(partitions, metrics)));
    }

    /** Every part's aggregates, part after part. */
    public List<EdgeMetrics> metrics() {
      List<EdgeMetrics> all = new ArrayList<>();
      parts.forEach(p -> all.addAll(p.metrics()));
      return all;
    }

    /** The partitions answered for. */
    public Set<Integer> partitions() {
      Set<Integer> all = new TreeSet<>();
      parts.forEach(p -> all.addAll(p.partitions()));
      return all;
    }
  }

  /**
   * {@link #windows} read partition by partition: a partition whose store cannot be read (its
   * task moving in a rebalance) is left out of {@link Share#partitions} instead of failing the
   * read.
   *
   * @throws org.apache.kafka.streams.errors.InvalidStateStoreException if no partition could be read
   */
  public Share windowsByPartition(Duration size, Instant from, Instant to, EdgeFilter filter) {
    return byPartition(windowStore(size), QueryableStoreTypes.<String, EdgeMetrics>windowStore(),
        store -> windowsIn(store, from, to, filter));
  }

  /** {@link #totals} read partition by partition, as {@link #windowsByPartition}. */
  public Share totalsByPartition(EdgeFilter filter) {
    return byPartition(TelemetryTopology.TOTALS_STORE,
        QueryableStoreTypes.<String, EdgeMetrics>keyValueStore(), store -> totalsIn(store, filter));
  }

  /** The input partitions whose tasks are active on this instance, as its threads say now. */
  public Set<Integer> activePartitions() {
    Set<Integer> partitions = new TreeSet<>();
    for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
      for (TaskMetadata task : thread.activeTasks()) {
        for (TopicPartition tp : task.topicPartitions()) {
          if (tp.topic().equals(Topics.TELEMETRY_REQUESTS.name())) {
            partitions.add(tp.partition());
          }
        }
      }
    }
    return partitions;
  }

  private <T> Share byPartition(String storeName, QueryableStoreType<T> type, Function<T, List<EdgeMetrics>> read) {
    List<Part> parts = new ArrayList<>();
    InvalidStateStoreException first = null;
    for (int partition : activePartitions()) {
      try {
        // read whole or not at all: a store closed half-way through is a partition not answered
        List<EdgeMetrics> part = read.apply(
            streams.store(StoreQueryParameters.fromNameAndType(storeName, type).withPartition(partition)));
        parts.add(new Part(Set.of(partition), part));
      } catch (InvalidStateStoreException e) {
        first = first == null ? e : first;
      }
    }
    if (parts.isEmpty() && first != null) {
      throw first;
    }
    return new Share(parts);
  }

  /** Every edge's totals since the state began (sketches in the published format). */
  public List<EdgeMetrics> totals(EdgeFilter filter) {
    return totalsIn(streams.store(StoreQueryParameters.fromNameAndType(
        TelemetryTopology.TOTALS_STORE, QueryableStoreTypes.keyValueStore())), filter);
  }
}
