package dev.meshlog.telemetry;

import java.util.Map;
import java.util.function.Supplier;

import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.internals.CacheFlushListener;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * A state store holding nothing, whose only job is to run its processor's flush before every
 * commit of its task.
 *
 * <p>{@link EdgeAggregator} keeps aggregates decoded in memory between commits. Under
 * exactly-once they must reach the stores (and so the changelogs, in the same transaction as
 * the input offsets) before the task commits, including the commits Kafka Streams makes on its
 * own when it suspends a task in a rebalance or closes it: a punctuation cannot promise that.
 * Kafka Streams gives processors no commit callback, but before each commit it flushes every
 * store that caches ({@code CachedStateStore.flushCache()}, the hook its own record cache uses),
 * then flushes the producer, then commits. This store is such a store; its flush calls the
 * processor's. {@code CachedStateStore} is in Kafka Streams' internals package: this class (and
 * {@code EdgeAggregator.flushInCommit}) is the one place that leans on it, and
 * {@code TelemetryTopologyTest} (whose driver commits after every record) and the exactly-once
 * check of {@code TelemetryPipelineBench} fail if a Kafka Streams upgrade changes it.
 *
 * <p>The store is per task, so it also holds what the task's processors share: the aggregates
 * in memory ({@link #attachment}), which both the processor on the input topic and the one on
 * the re-partitioned topic fold into.
 */
final class FlushBeforeCommit implements StateStore, CachedStateStore<Object, Object> {

  private final String name;
  private volatile boolean open;
  private Runnable listener;
  private Object attachment;

  FlushBeforeCommit(String name) {
    this.name = name;
  }

  /** Runs {@code flush} before each commit of the task, until the store closes. */
  void onCommit(Runnable flush) {
    this.listener = flush;
  }

  /**
   * What the task's processors share, made by {@code create} if none is attached yet (the
   * first processor to initialise makes it, the others get the same one).
   */
  @SuppressWarnings("unchecked")
  <T> T attachment(Supplier<T> create) {
    if (attachment == null) {
      attachment = create.get();
    }
    return (T) attachment;
  }

  /** Drops the shared object: the next processor to initialise makes a new one. */
  void detach() {
    attachment = null;
  }

  @Override
  public void flushCache() {
    Runnable l = listener;
    if (l != null) {
      l.run();
    }
  }

  @Override
  public void clearCache() {
    // holds nothing
  }

  @Override
  public boolean setFlushListener(CacheFlushListener<Object, Object> listener, boolean sendOldValues) {
    return false;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void init(StateStoreContext context, StateStore root) {
    context.register(root, (key, value) -> { });
    open = true;
  }

  @Override
  public void close() {
    listener = null;
    attachment = null;
    open = false;
  }

  @Override
  public boolean persistent() {
    return false;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  /** Builds the store: no logging, no caching (it holds nothing). */
  static StoreBuilder<FlushBeforeCommit> builder(String name) {
    return new StoreBuilder<>() {
      @Override
      public StoreBuilder<FlushBeforeCommit> withCachingEnabled() {
        return this;
      }

      @Override
      public StoreBuilder<FlushBeforeCommit> withCachingDisabled() {
        return this;
      }

      @Override
      public StoreBuilder<FlushBeforeCommit> withLoggingEnabled(Map<String, String> config) {
        throw new UnsupportedOperationException(name + " holds nothing to log");
      }

      @Override
      public StoreBuilder<FlushBeforeCommit> withLoggingDisabled() {
        return this;
      }

      @Override
      public FlushBeforeCommit build() {
        return new FlushBeforeCommit(name);
      }

      @Override
      public Map<String, String> logConfig() {
        return Map.of();
      }

      @Override
      public boolean loggingEnabled() {
        return false;
      }

      @Override
      public String name() {
        return name;
      }
    };
  }
}
