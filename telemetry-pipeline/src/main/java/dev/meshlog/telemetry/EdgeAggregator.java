package dev.meshlog.telemetry;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorNode;
import org.apache.kafka.streams.processor.internals.ProcessorRecordContext;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.TimestampedWindowStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the raw request records of one input partition (batches of one edge's events, or single
 * events as releases before batching wrote them) and folds each counted request once, in
 * memory, into a partial aggregate of the finest window it is in time for; before each commit
 * the partials are rolled up into every aggregate of their edge — that window, the coarser
 * windows holding it, and the totals.
 *
 * <p>One processor does the reading and the folding so that a well-keyed event crosses one
 * Kafka Streams node after its source, not a chain of decode, split and merge nodes (Kafka
 * Streams' own per-record work is most of what an event costs; a batch spreads it over its
 * events). What it reads of each event ({@link RequestReader}: only what aggregation needs):
 * <ul>
 *   <li>a counted report whose record key is its edge's key ({@code srcNs/src->dstNs/dst}, what
 *       proxies write) is folded here;</li>
 *   <li>a counted report with another key (a null key, or any other producer's scheme) is
 *       forwarded on its own (the record's bytes for a record of one event, else a single
 *       {@code RequestEvent} with the event's bytes as they were in the batch) keyed by its
 *       edge's key, to be re-partitioned: its edge's
 *       aggregates live on the partition that key hashes to, and counting it here would split
 *       them. After the re-partitioning a second instance of this processor ({@code reroute}
 *       false), in the same task, folds it into the same aggregates;</li>
 *   <li>the destination's report of a call the source also reported is dropped (one report per
 *       call, see {@link TelemetryTopology#countsOnce}), unless it reports its proxy's loss
 *       ({@code droppedBefore} above 0): then that loss alone is folded (and re-partitioned
 *       first if its key is not its edge's), as every report's loss is;</li>
 *   <li>a loss-only record (no events, a {@code LossReport}: a proxy whose traffic stopped
 *       after a loss) is read as one call that is not a request, like such a duplicate report:
 *       its loss is folded into its edge's window of its {@code reportedAt} (re-partitioned
 *       first if its key is not its edge's; proxies key it by that edge);</li>
 *   <li>a TCP connection report (an event with {@code tcp}) counts, once, like a request, but
 *       into its edge's TCP fields only (connections opened, closed and failed, bytes each way),
 *       in the windows of the report's own time;</li>
 *   <li>a record that cannot be read whole is forwarded as a {@link DeadLetter} keyed by the
 *       application, with its bytes intact and the reason, and the app goes on: a corrupt batch
 *       dead-letters all of its events together, none of them counted.</li>
 * </ul>
 *
 * <p>Folding once and rolling up gives the same aggregates as folding each request into each
 * of them: counters and bytes add, maxima and {@code updatedAt} are maxima, and latency
 * sketches of one index mapping merge bin by bin, exactly. A request costs one sketch insertion
 * instead of one per aggregate; the roll-up costs a merge per partial (a few per edge) per
 * commit.
 *
 * <p>Aggregates stay decoded (counters, the sketch as an object) between commits, in a
 * {@link TaskAggregates} the task's {@link FlushBeforeCommit} store holds (so both processors
 * of the task share it). Before each commit of the task each aggregate that changed is written
 * once to its store (and so its changelog, in the commit's transaction) and each changed window
 * is forwarded once, by the processor on the input topic, to {@code mesh.telemetry.edges}; a key
 * updated by 10,000 events between two commits costs one encoding, not 10,000. An aggregate not
 * in memory (after a restart or a rebalance, or once it has been idle past every window) is
 * read from its store on first use.
 *
 * <p>Windows follow event time (each request's start). Stream time is the latest event time
 * this task has seen; a request whose window ended more than the grace period before it is
 * skipped for that window (and still counted in the totals and in the other window size if that
 * window is open), and the skips are logged once per flush.
 */
final class EdgeAggregator implements Processor<byte[], byte[], String, Object> {

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
    /** What was folded since the last flush: one partial per level and window, a few. */
    final List<Partial> partials = new ArrayList<>(4);
    /** The partial the latest request went to (most requests go to the same one). */
    Partial last;

    EdgeState(Edge edge, String id, int sizes) {
      this.edge = edge;
      this.id = id;
      this.windows = new ArrayList<>(sizes);
      for (int i = 0; i < sizes; i++) {
        windows.add(new ArrayList<>(4));
      }
    }
  }

  /**
   * The requests folded since the last flush that go to the same aggregates: the window of size
   * {@code level} starting at {@code start} (the finest window the requests were in time for),
   * the coarser windows holding it, and the totals. {@code level} equal to the number of window
   * sizes: the totals only (every window closed, or a time before the epoch).
   */
  private static final class Partial {
    final EdgeState state;
    final int level;
    final long start;
    final MutableAggregate requests;

    Partial(EdgeState state, int level, long start, MutableAggregate requests) {
      this.state = state;
      this.level = level;
      this.start = start;
      this.requests = requests;
    }
  }

  /** Settings of the aggregation, the same for every task. */
  record Settings(List<WindowSize> sizes, long graceMillis, double relativeAccuracy, String totalsStore,
                  String hookStore, java.time.Duration caughtUpCommitInterval, long caughtUpLagMillis,
                  long maxAheadMillis) {
    Settings {
      // Requests are folded into the finest window they are in time for and rolled up from
      // there: each window must lie inside one window of every coarser size.
      for (int i = 0; i < sizes.size(); i++) {
        long size = sizes.get(i).sizeMillis();
        if (size <= 0 || (i > 0 && size % sizes.get(i - 1).sizeMillis() != 0)) {
          throw new IllegalArgumentException("window sizes: " + sizes
              + " (expected: ascending, each a multiple of the one before)");
        }
      }
    }
  }

  private final String application;
  private final boolean reroute;
  private final Settings settings;
  private final RequestReader reader = new RequestReader();

  private ProcessorContext<String, Object> context;
  private FlushBeforeCommit hook;
  private TaskAggregates aggregates;

  /**
   * @param application the application id, the key of dead letters
   * @param reroute true on the input topic: records keyed otherwise than by their edge go on
   *     as raw bytes to be re-partitioned, and this processor publishes the changed windows;
   *     false after the re-partitioning, whose keys are right
   * @param settings window sizes, grace, accuracy and store names
   */
  EdgeAggregator(String application, boolean reroute, Settings settings) {
    this.application = application;
    this.reroute = reroute;
    this.settings = settings;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    hook = context.getStateStore(settings.hookStore());
    // Both processors of the task fold into one set of aggregates; a revived or resumed task
    // starts again from what the stores hold (its processors were closed, which detaches it).
    aggregates = hook.attachment(() -> new TaskAggregates(context, settings));
    if (reroute) {
      ProcessorNode<?, ?, ?, ?> node =
          context instanceof InternalProcessorContext<?, ?> internal ? internal.currentNode() : null;
      hook.onCommit(() -> flushInCommit(node));
      if (!settings.caughtUpCommitInterval().isZero()) {
        // Kafka Streams commits at one fixed interval; this one asks for a commit more often
        // while the task is caught up (fresh answers), and leaves a task reading a backlog to
        // Kafka Streams' longer interval (each commit blocks the thread on the producer's flush
        // and the transaction's end).
        // Caught up: stream time near the wall clock, or nothing read for a while (the end of a
        // backlog of old events, or a quiet moment). The check runs more often than the commits
        // it asks for, so that a task that reaches the end of a backlog commits within a check
        // or two, not one to two commit intervals later. A task can also read nothing for a
        // check in the middle of a backlog (its thread starved of CPU, or its fetches slow on a
        // loaded machine): a commit asked for then is one more blocking commit, so each such
        // one doubles the quiet time asked for next (up to the commit interval, the old rule),
        // until the task reads fresh events again: at most two more commits per backlog.
        long interval = settings.caughtUpCommitInterval().toMillis();
        long check = checkInterval(settings.caughtUpCommitInterval()).toMillis();
        aggregates.quietNeededMillis = check;
        context.schedule(java.time.Duration.ofMillis(check), PunctuationType.WALL_CLOCK_TIME, now -> {
          TaskAggregates a = aggregates;
          boolean folded = a.added != a.addedAtPunctuation;
          a.addedAtPunctuation = a.added;
          boolean behind = now - a.streamTime > settings.caughtUpLagMillis();
          if (folded) {
            if (a.quietCommitAsked && behind) {
              a.quietNeededMillis = Math.min(2 * a.quietNeededMillis, interval);
            } else if (!behind) {
              a.quietNeededMillis = check; // reading fresh events: the backlog is over
            }
            a.quietCommitAsked = false;
            a.lastFoldSeenMillis = now;
          }
          boolean quiet = !folded && now - a.lastFoldSeenMillis >= a.quietNeededMillis;
          if (a.changed() && now - a.lastCommitMillis >= interval && (quiet || !behind)) {
            context.commit();
            a.quietCommitAsked = quiet && behind;
          }
        });
      }
    }
  }

  /** How often a task checks whether it is caught up: a quarter of a second, or the commit interval if shorter. */
  static java.time.Duration checkInterval(java.time.Duration caughtUpCommitInterval) {
    return caughtUpCommitInterval.compareTo(CATCH_UP_CHECK) < 0 ? caughtUpCommitInterval : CATCH_UP_CHECK;
  }

  /** The longest interval between two checks of whether a task is caught up. */
  static final java.time.Duration CATCH_UP_CHECK = java.time.Duration.ofMillis(250);

  @Override
  public void process(Record<byte[], byte[]> record) {
    if (record.value() == null) {
      return; // a tombstone on a delete-only topic means nothing
    }
    int events;
    try {
      // all of the record's events or none: a record that cannot be read whole is dead-lettered
      // whole, with nothing of it counted
      events = reader.read(Topics.TELEMETRY_REQUESTS.name(), record.value());
    } catch (RuntimeException e) {
      context.forward(deadLetter(record, e));
      return;
    }
    RequestReader.EdgeRef keyed = null; // the edge last found to be the record key's (interned)
    long latest = context.currentSystemTimeMs() + settings.maxAheadMillis();
    for (int i = 0; i < events; i++) {
      RequestReader.Call call = reader.call(i);
      if (call.invalid != null) {
        context.forward(deadLetter(record, reader.eventBytes(i), call.invalid,
            IllegalArgumentException.class.getName()));
        continue;
      }
      boolean counts = call.countsOnce();
      if (!counts && !call.reportsLoss()) {
        continue; // a destination's duplicate report, and no loss on it
      }
      if (call.startMillis > latest) {
        // a proxy's clock far ahead: this event alone, before it moves stream time (see Settings)
        context.forward(deadLetter(record, reader.eventBytes(i), aheadOfClock(i, call),
            IllegalArgumentException.class.getName()));
        continue;
      }
      // Keys stay bytes: compared with the interned edge's, never decoded to a String; a batch's
      // events are all of one edge, so the comparison runs once per record, not per event.
      if (reroute && call.edge != keyed) {
        if (!Arrays.equals(call.edge.topicKeyBytes(), record.key())) {
          // each such event on its own (a batch may mix edges its key does not name)
          context.forward(new Record<String, Object>(call.edge.topicKey(), reader.eventBytes(i),
              record.timestamp(), origin()));
          continue;
        }
        keyed = call.edge;
      }
      aggregates.add(call, counts);
    }
  }

  /** Why event {@code i} of the record just read is too far ahead of the clock. */
  private String aheadOfClock(int i, RequestReader.Call call) {
    String field = call.lossReport ? "lossReport.reportedAt"
        : call.tcp ? "startTime + durationMicros" : "startTime";
    String ahead = human(settings.maxAheadMillis());
    return (call.lossReport ? "" : "events[" + i + "]: ") + field + ": " + Instant.ofEpochMilli(call.startMillis)
        + " is more than " + ahead + " ahead of the pipeline's clock ("
        + Instant.ofEpochMilli(context.currentSystemTimeMs()) + "; expected: at most " + ahead
        + " ahead, a proxy's clock is wrong)";
  }

  private static String human(long millis) {
    return millis % 60_000 == 0 ? millis / 60_000 + "m" : millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
  }

  /** Header names of a dead letter's context, as Kafka Connect's {@code __connect.errors.*}. */
  static final String HEADER_PREFIX = "meshlog.errors.";

  /**
   * Header names on a rerouted event: where its record was on {@code mesh.telemetry.requests}
   * (topic, partition, offset, UTF-8 decimal), so that a dead letter of it after the
   * repartition topic names the record an operator can find, not the repartition topic's.
   */
  static final String ORIGIN_PREFIX = "meshlog.origin.";

  /** The current record's place on its topic, as headers of what is rerouted from it. */
  private RecordHeaders origin() {
    RecordHeaders headers = new RecordHeaders();
    RecordMetadata meta = context.recordMetadata().orElse(null);
    if (meta != null && meta.topic() != null) {
      utf8(headers, ORIGIN_PREFIX + "topic", meta.topic());
      utf8(headers, ORIGIN_PREFIX + "partition", String.valueOf(meta.partition()));
      utf8(headers, ORIGIN_PREFIX + "offset", String.valueOf(meta.offset()));
    }
    return headers;
  }

  /** The origin headers of a rerouted record: {topic, partition, offset}, or null when absent or unreadable. */
  private static String[] originOf(Record<byte[], byte[]> record) {
    String[] origin = new String[3];
    String[] names = {"topic", "partition", "offset"};
    for (int i = 0; i < 3; i++) {
      Header h = record.headers() == null ? null : record.headers().lastHeader(ORIGIN_PREFIX + names[i]);
      if (h == null || h.value() == null) {
        return null;
      }
      origin[i] = new String(h.value(), java.nio.charset.StandardCharsets.UTF_8);
    }
    try {
      Integer.parseInt(origin[1]);
      Long.parseLong(origin[2]);
    } catch (NumberFormatException e) {
      return null; // not ours: name the repartition topic's place, which is at least true
    }
    return origin;
  }

  private Record<String, Object> deadLetter(Record<byte[], byte[]> record, RuntimeException e) {
    return deadLetter(record, record.value(), String.valueOf(e.getMessage()), e.getClass().getName());
  }

  /**
   * A dead letter of {@code value} (the record's bytes, or one event of it), with its context
   * both in the value and in headers, so that an operator sees what was wrong and where it came
   * from with any console consumer ({@code print.headers=true}), without decoding Avro.
   */
  private Record<String, Object> deadLetter(Record<byte[], byte[]> record, byte[] value, String reason,
                                            String exceptionClass) {
    RecordMetadata meta = context.recordMetadata().orElse(null);
    String topic = meta == null || meta.topic() == null ? Topics.TELEMETRY_REQUESTS.name() : meta.topic();
    int partition = meta == null ? -1 : meta.partition();
    long offset = meta == null ? -1 : meta.offset();
    // after the repartition topic: the original record's place (the header the first pass set),
    // the repartition topic's in the via headers
    String[] origin = reroute ? null : originOf(record);
    String via = null;
    if (origin != null) {
      via = topic + "-" + partition + "@" + offset;
      topic = origin[0];
      partition = Integer.parseInt(origin[1]);
      offset = Long.parseLong(origin[2]);
    }
    LOG.warn("dead-lettered request record on {}-{}@{}{}: {}", topic, partition, offset,
        via == null ? "" : " (rerouted through " + via + ")", reason);
    DeadLetter letter = DeadLetter.newBuilder()
        .setApplication(application)
        .setSourceTopic(topic)
        .setPartition(partition)
        .setOffset(offset)
        .setKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
        .setValue(ByteBuffer.wrap(value))
        .setReason(reason)
        .setExceptionClass(exceptionClass)
        .setFailedAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
        .build();
    RecordHeaders headers = new RecordHeaders();
    header(headers, "topic", topic);
    header(headers, "partition", String.valueOf(partition));
    header(headers, "offset", String.valueOf(offset));
    header(headers, "application", application);
    header(headers, "exception.class.name", exceptionClass);
    header(headers, "reason", reason);
    if (origin != null && meta != null) {
      header(headers, "via.topic", String.valueOf(meta.topic()));
      header(headers, "via.partition", String.valueOf(meta.partition()));
      header(headers, "via.offset", String.valueOf(meta.offset()));
    }
    return new Record<>(application, letter, record.timestamp(), headers);
  }

  private static void header(RecordHeaders headers, String name, String value) {
    utf8(headers, HEADER_PREFIX + name, value);
  }

  private static void utf8(RecordHeaders headers, String name, String value) {
    headers.add(name, value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /**
   * Runs the flush from the commit, outside any record's processing: sets this processor's node
   * and a record context the way Kafka Streams does for a punctuation, so that store writes and
   * forwards behave as from one.
   */
  private void flushInCommit(ProcessorNode<?, ?, ?, ?> node) {
    if (!aggregates.changed()) {
      return; // a commit with nothing of this task's in it does not delay the next one asked for
    }
    aggregates.lastCommitMillis = context.currentSystemTimeMs();
    if (!(context instanceof InternalProcessorContext<?, ?> internal) || node == null) {
      aggregates.flush(context);
      return;
    }
    ProcessorRecordContext previous = internal.recordContext();
    ProcessorNode<?, ?, ?, ?> previousNode = internal.currentNode();
    internal.setRecordContext(new ProcessorRecordContext(Math.max(0, aggregates.streamTime), -1L, -1, null,
        new RecordHeaders()));
    internal.setCurrentNode(node);
    try {
      aggregates.flush(context);
    } finally {
      internal.setRecordContext(previous);
      internal.setCurrentNode(previousNode);
    }
  }

  @Override
  public void close() {
    // Everything was flushed by the commit that precedes closing; a dirty close discards the
    // memory with the uncommitted transaction.
    if (hook != null) {
      hook.detach();
    }
  }

  /** The aggregates one task holds in memory between commits, shared by its two processors. */
  static final class TaskAggregates {
    private final WindowSize[] sizes;
    private final long graceMillis;
    private final double relativeAccuracy;
    private final TimestampedWindowStore<String, EdgeMetrics>[] windowStores;
    private final TimestampedKeyValueStore<String, EdgeMetrics> totals;
    private final Map<String, EdgeState> edges = new HashMap<>();
    private final List<MutableAggregate> dirty = new ArrayList<>();
    private final List<String> dirtyIds = new ArrayList<>();
    /** Every edge's partials, in the order they were made: what the next flush rolls up. */
    private final List<Partial> partials = new ArrayList<>();
    private long streamTime = Long.MIN_VALUE;
    private long skippedLate;
    /** Requests folded so far, and as of the latest check whether the task is caught up. */
    private long added;
    private long addedAtPunctuation;
    /** Wall-clock time of the latest commit (Kafka Streams' or asked for) that wrote anything of this task's. */
    private long lastCommitMillis;
    /** Wall-clock time of the latest check that found requests folded since the one before. */
    private long lastFoldSeenMillis;
    /** How long the task must have folded nothing to count as caught up while behind. */
    private long quietNeededMillis;
    /** Whether the latest commit asked for was asked because the task was quiet while behind. */
    private boolean quietCommitAsked;

    @SuppressWarnings("unchecked")
    TaskAggregates(ProcessorContext<?, ?> context, Settings settings) {
      this.sizes = settings.sizes().toArray(WindowSize[]::new);
      this.graceMillis = settings.graceMillis();
      this.relativeAccuracy = settings.relativeAccuracy();
      windowStores = new TimestampedWindowStore[sizes.length];
      for (int i = 0; i < sizes.length; i++) {
        windowStores[i] = context.getStateStore(sizes[i].store());
      }
      totals = context.getStateStore(settings.totalsStore());
    }

    boolean changed() {
      return !partials.isEmpty();
    }

    /**
     * Folds a counted request into one partial: that of the finest window it is in time for
     * (the coarser windows holding that one, and the totals, get it from there at the flush).
     * One fold and one sketch insertion per request, however many aggregates it counts in. The
     * loss its proxy reports on it ({@code droppedBefore}, 0 almost always: one comparison) goes
     * into the same partial.
     *
     * @param counts false for a destination's duplicate report that reports a loss: only the
     *     loss is folded
     */
    void add(RequestReader.Call call, boolean counts) {
      added++;
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
      int level;
      long start;
      if (t < 0) {
        skippedLate++; // no window before the epoch
        level = sizes.length;
        start = 0;
      } else {
        // A finer window ends no later than the coarser one holding it: once a size is too
        // late, every finer one is too (Settings checks that each size divides the next).
        long closed = streamTime - graceMillis;
        level = 0;
        start = t - t % sizes[0].sizeMillis();
        while (level < sizes.length && start + sizes[level].sizeMillis() <= closed) {
          skippedLate++;
          level++;
          start = level < sizes.length ? t - t % sizes[level].sizeMillis() : 0;
        }
      }
      Partial p = state.last;
      if (p == null || p.level != level || p.start != start) {
        p = partial(state, level, start);
        state.last = p;
      }
      if (counts) {
        if (!call.tcp) {
          p.requests.add(call.responseCode, call.responseFlags, call.requestBytes, call.responseBytes,
              call.durationMicros, call.startMillis);
        } else {
          p.requests.addTcp(call.tcpOpened, call.tcpClosed, call.responseFlags, call.requestBytes,
              call.responseBytes, call.startMillis);
        }
      }
      if (call.droppedBefore > 0) {
        p.requests.addLost(call.droppedBefore, call.reporter == Reporter.DESTINATION, call.startMillis);
      }
    }

    private Partial partial(EdgeState state, int level, long start) {
      List<Partial> list = state.partials;
      for (int j = list.size() - 1; j >= 0; j--) {
        Partial p = list.get(j);
        if (p.level == level && p.start == start) {
          return p;
        }
      }
      long size = level < sizes.length ? sizes[level].sizeMillis() : 0;
      Partial p = new Partial(state, level, start, MutableAggregate.empty(state.edge, start, size, relativeAccuracy));
      list.add(p);
      partials.add(p);
      return p;
    }

    /** Rolls each partial up into its window, the coarser windows holding it, and the totals. */
    private void rollUp() {
      for (int i = 0, n = partials.size(); i < n; i++) {
        Partial p = partials.get(i);
        EdgeState state = p.state;
        long t = p.start;
        for (int level = p.level; level < sizes.length; level++) {
          long start = t - t % sizes[level].sizeMillis();
          mergeInto(window(state, level, start), state.id, p.requests);
        }
        if (state.total == null) {
          ValueAndTimestamp<EdgeMetrics> stored = totals.get(state.id);
          state.total = stored == null || stored.value() == null
              ? MutableAggregate.empty(state.edge, 0, 0, relativeAccuracy)
              : MutableAggregate.of(state.edge, 0, 0, stored.value(), relativeAccuracy);
        }
        mergeInto(state.total, state.id, p.requests);
        state.partials.clear();
        state.last = null;
      }
      partials.clear();
    }

    private MutableAggregate window(EdgeState state, int sizeIndex, long start) {
      List<MutableAggregate> open = state.windows.get(sizeIndex);
      // Newest first: events come mostly in time order, and while a backlog is read many
      // closed windows wait in the list for the next commit to write them.
      for (int j = open.size() - 1; j >= 0; j--) {
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

    private void mergeInto(MutableAggregate aggregate, String id, MutableAggregate requests) {
      aggregate.merge(requests);
      if (!aggregate.dirty) {
        aggregate.dirty = true;
        dirty.add(aggregate);
        dirtyIds.add(id);
      }
    }

    /** Writes each changed aggregate once and forwards each changed window once. */
    void flush(ProcessorContext<String, Object> context) {
      rollUp();
      for (int i = 0, n = dirty.size(); i < n; i++) {
        MutableAggregate a = dirty.get(i);
        String id = dirtyIds.get(i);
        a.dirty = false;
        double[] quantiles = a.quantiles();
        EdgeMetrics stored = a.toMetrics(LatencySketch.STORE_FORMAT, quantiles, Instant.EPOCH, Instant.EPOCH);
        long timestamp = Math.max(0, a.updatedAtMillis());
        if (a.size == 0) {
          totals.put(id, ValueAndTimestamp.make(stored, timestamp));
          continue;
        }
        windowStores[indexOf(a.size)].put(id, ValueAndTimestamp.make(stored, timestamp), a.start);
        EdgeMetrics published = a.toMetrics(LatencySketch.FORMAT, quantiles,
            Instant.ofEpochMilli(a.start), Instant.ofEpochMilli(a.start + a.size));
        context.forward(new Record<String, Object>(Edge.windowKey(id, a.start, a.size), published, timestamp));
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
  }
}
