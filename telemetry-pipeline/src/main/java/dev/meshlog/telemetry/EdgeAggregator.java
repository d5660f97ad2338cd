package dev.meshlog.telemetry;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.telemetry.EdgeMetrics;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorNode;
import org.apache.kafka.streams.processor.internals.ProcessorRecordContext;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.TimestampedWindowStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds the counted requests of one input partition into every aggregate of their edge — each
 * window size's window and the totals — in one step, in memory.
 *
 * <p>Aggregates stay decoded (counters, the sketch as an object) between commits. Before each
 * commit of the task ({@link FlushBeforeCommit}) each aggregate that changed is written once to
 * its store (and so its changelog, in the commit's transaction) and each changed window is
 * forwarded once to {@code mesh.telemetry.edges}; a key updated by 10,000 events between two
 * commits costs one encoding, not 10,000. An aggregate not in memory (after a restart or a
 * rebalance, or once it has been idle past every window) is read from its store on first use.
 *
 * <p>Windows follow event time (each request's start). Stream time is the latest event time
 * this task has seen; a request whose window ended more than the grace period before it is
 * skipped for that window (and still counted in the totals and in the other window size if that
 * window is open), and the skips are logged once per flush.
 */
final class EdgeAggregator implements Processor<String, Object, String, EdgeMetrics> {

  private static final Logger LOG = LoggerFactory.getLogger(EdgeAggregator.class);

  /** One window size and its store. */
  record WindowSize(long sizeMillis, String store) {}

  /** What one edge has in memory. */
  private static final class EdgeState {
    final Edge edge;
    final String id;
    MutableAggregate total;
    /** Open (or not yet evicted) windows per window size, a few each. */
    final List<List<MutableAggregate>> windows;

    EdgeState(Edge edge, String id, int sizes) {
      this.edge = edge;
      this.id = id;
      this.windows = new ArrayList<>(sizes);
      for (int i = 0; i < sizes; i++) {
        windows.add(new ArrayList<>(4));
      }
    }
  }

  private final WindowSize[] sizes;
  private final long graceMillis;
  private final double relativeAccuracy;
  private final String totalsStore;
  private final String hookStore;

  private ProcessorContext<String, EdgeMetrics> context;
  private TimestampedWindowStore<String, EdgeMetrics>[] windowStores;
  private TimestampedKeyValueStore<String, EdgeMetrics> totals;
  private ProcessorNode<?, ?, ?, ?> node;
  private final Map<String, EdgeState> edges = new HashMap<>();
  private final List<MutableAggregate> dirty = new ArrayList<>();
  private final List<String> dirtyIds = new ArrayList<>();
  private long streamTime;
  private long skippedLate;

  EdgeAggregator(List<WindowSize> sizes, long graceMillis, double relativeAccuracy, String totalsStore,
                 String hookStore) {
    this.sizes = sizes.toArray(WindowSize[]::new);
    this.graceMillis = graceMillis;
    this.relativeAccuracy = relativeAccuracy;
    this.totalsStore = totalsStore;
    this.hookStore = hookStore;
  }

  @Override
  @SuppressWarnings("unchecked")
  public void init(ProcessorContext<String, EdgeMetrics> context) {
    this.context = context;
    windowStores = new TimestampedWindowStore[sizes.length];
    for (int i = 0; i < sizes.length; i++) {
      windowStores[i] = context.getStateStore(sizes[i].store());
    }
    totals = context.getStateStore(totalsStore);
    node = context instanceof InternalProcessorContext<?, ?> internal ? internal.currentNode() : null;
    // A revived task reuses this object: start from what the stores hold.
    edges.clear();
    dirty.clear();
    dirtyIds.clear();
    streamTime = Long.MIN_VALUE;
    skippedLate = 0;
    FlushBeforeCommit hook = context.getStateStore(hookStore);
    hook.onCommit(this::flushInCommit);
  }

  @Override
  public void process(Record<String, Object> record) {
    RequestReader.Call call = (RequestReader.Call) record.value();
    long t = call.startMillis;
    if (t > streamTime) {
      streamTime = t;
    }
    RequestReader.EdgeRef ref = call.edge;
    EdgeState state = edges.get(ref.id());
    if (state == null) {
      state = new EdgeState(ref.edge(), ref.id(), sizes.length);
      edges.put(ref.id(), state);
    }
    if (state.total == null) {
      ValueAndTimestamp<EdgeMetrics> stored = totals.get(state.id);
      state.total = stored == null || stored.value() == null
          ? MutableAggregate.empty(state.edge, 0, 0, relativeAccuracy)
          : MutableAggregate.of(state.edge, 0, 0, stored.value(), relativeAccuracy);
    }
    fold(state.total, state.id, call);
    if (t < 0) {
      skippedLate++; // no window before the epoch
      return;
    }
    long closed = streamTime - graceMillis;
    for (int i = 0; i < sizes.length; i++) {
      long size = sizes[i].sizeMillis();
      long start = t - t % size;
      if (start + size <= closed) {
        skippedLate++;
        continue;
      }
      fold(window(state, i, start), state.id, call);
    }
  }

  private MutableAggregate window(EdgeState state, int sizeIndex, long start) {
    List<MutableAggregate> open = state.windows.get(sizeIndex);
    for (int j = 0, n = open.size(); j < n; j++) {
      MutableAggregate w = open.get(j);
      if (w.start == start) {
        return w;
      }
    }
    long size = sizes[sizeIndex].sizeMillis();
    ValueAndTimestamp<EdgeMetrics> stored = windowStores[sizeIndex].fetch(state.id, start);
    MutableAggregate w = stored == null || stored.value() == null
        ? MutableAggregate.empty(state.edge, start, size, relativeAccuracy)
        : MutableAggregate.of(state.edge, start, size, stored.value(), relativeAccuracy);
    open.add(w);
    return w;
  }

  private void fold(MutableAggregate aggregate, String id, RequestReader.Call call) {
    aggregate.add(call.responseCode, call.responseFlags, call.requestBytes, call.responseBytes,
        call.durationMicros, call.startMillis);
    if (!aggregate.dirty) {
      aggregate.dirty = true;
      dirty.add(aggregate);
      dirtyIds.add(id);
    }
  }

  /**
   * Runs {@link #flush} from the commit, outside any record's processing: sets the processor
   * node and a record context the way Kafka Streams does for a punctuation, so that store writes
   * and forwards behave as from one.
   */
  private void flushInCommit() {
    if (dirty.isEmpty()) {
      return;
    }
    if (!(context instanceof InternalProcessorContext<?, ?> internal) || node == null) {
      flush();
      return;
    }
    ProcessorRecordContext previous = internal.recordContext();
    ProcessorNode<?, ?, ?, ?> previousNode = internal.currentNode();
    internal.setRecordContext(new ProcessorRecordContext(Math.max(0, streamTime), -1L, -1, null,
        new RecordHeaders()));
    internal.setCurrentNode(node);
    try {
      flush();
    } finally {
      internal.setRecordContext(previous);
      internal.setCurrentNode(previousNode);
    }
  }

  /** Writes each changed aggregate once and forwards each changed window once. */
  void flush() {
    for (int i = 0, n = dirty.size(); i < n; i++) {
      MutableAggregate a = dirty.get(i);
      String id = dirtyIds.get(i);
      a.dirty = false;
      EdgeMetrics stored = a.toMetrics(LatencySketch.STORE_FORMAT);
      long timestamp = Math.max(0, a.updatedAtMillis());
      if (a.size == 0) {
        totals.put(id, ValueAndTimestamp.make(stored, timestamp));
        continue;
      }
      windowStores[indexOf(a.size)].put(id, ValueAndTimestamp.make(stored, timestamp), a.start);
      EdgeMetrics published = EdgeMetrics.newBuilder(a.toMetrics(LatencySketch.FORMAT))
          .setWindowStart(Instant.ofEpochMilli(a.start))
          .setWindowEnd(Instant.ofEpochMilli(a.start + a.size))
          .build();
      context.forward(new Record<>(Edge.windowKey(id, a.start, a.size), published, timestamp));
    }
    dirty.clear();
    dirtyIds.clear();
    evictClosedWindows();
    if (skippedLate > 0) {
      LOG.warn("skipped {} late request(s) for windows closed more than the grace period ({} ms) "
          + "before stream time {}", skippedLate, graceMillis, Instant.ofEpochMilli(Math.max(0, streamTime)));
      skippedLate = 0;
    }
  }

  private int indexOf(long size) {
    for (int i = 0; i < sizes.length; i++) {
      if (sizes[i].sizeMillis() == size) {
        return i;
      }
    }
    throw new IllegalStateException("window size " + size);
  }

  /**
   * Drops from memory what is written and will not change: closed windows, and edges with no
   * open window whose totals were last updated before the latest close (their totals are read
   * back from the store if the edge comes back). Memory holds the edges active within the last
   * window size plus grace, not every edge ever seen.
   */
  private void evictClosedWindows() {
    long closed = streamTime - graceMillis;
    var it = edges.values().iterator();
    while (it.hasNext()) {
      EdgeState state = it.next();
      boolean open = false;
      for (List<MutableAggregate> windows : state.windows) {
        windows.removeIf(w -> !w.dirty && w.start + w.size <= closed);
        open |= !windows.isEmpty();
      }
      if (!open && (state.total == null
          || (!state.total.dirty && state.total.updatedAtMillis() < closed))) {
        it.remove();
      }
    }
  }

  @Override
  public void close() {
    // Everything was flushed by the commit that precedes closing; a dirty close discards the
    // memory with the uncommitted transaction.
    edges.clear();
    dirty.clear();
    dirtyIds.clear();
  }
}
