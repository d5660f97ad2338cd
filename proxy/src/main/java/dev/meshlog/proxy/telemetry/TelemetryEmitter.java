package dev.meshlog.proxy.telemetry;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.http.Handoff;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Emits one {@link RequestEvent} per finished HTTP request, and a relayed TCP connection's
 * reports (when it closes and every TCP report interval while it is open, each with the bytes
 * since the previous one: see {@link #tcpOpened} and the sweep), batched per edge, without
 * ever making a request wait.
 *
 * <p>The event loop only puts the (immutable) access-log entry in a preallocated ring
 * ({@link Handoff}): one compare-and-set and one store, no allocation, no lock, no thread
 * wake-up, no Avro, no Kafka. A thread of its own drains the ring every {@code interval} (sooner
 * when a quarter of the buffer was queued since the last time), groups what it took by edge
 * (the topic key), encodes each edge's events into one {@code RequestEventBatch} — oldest
 * first, split at {@link #MAX_BATCH_EVENTS} events or {@link #MAX_BATCH_BYTES} bytes — and hands
 * the sink one record per batch: Kafka's per-record cost (producer, compression, the broker's
 * validation, consumers) is paid per edge and drain, not per request. The buffer is bounded by
 * events, not bytes: at most {@code capacity} events may be queued or handed to Kafka and not
 * yet acknowledged (a record's events are released together when it is acknowledged or
 * failed). A record the sink cannot take now (Kafka unreachable: no metadata for the topic, or
 * the producer's own buffer full) is <b>held</b>, with every record after it, and offered again
 * at the next drain, oldest first, so a short outage loses nothing; held events use the same
 * capacity. When Kafka stays away that fills up, and from then on new events are <b>dropped and
 * counted</b> at once; the requests do not notice.
 *
 * <p>Counts are exact when nothing is lost: no sampling, an idempotent producer, and
 * {@link #close} sends what is queued before it returns. A loss (dropped at the buffer, or
 * refused or timed out by Kafka: all of a failed record's events) is counted in the metrics and
 * carried on the first event of the next record handed over as
 * {@code RequestEvent.droppedBefore}; if that record fails too, the loss moves on to the next,
 * so the sum of {@code droppedBefore} over a proxy's delivered events is what it lost, reported
 * once Kafka is back. When a drain has no event to carry a loss (it took none and holds none:
 * the proxy's traffic stopped), the loss goes on a <b>loss-only record</b> of its own, a
 * {@code RequestEventBatch} with no events and a {@code LossReport}, keyed by the edge of the
 * latest event encoded, which moves on the same way if it fails: the loss reaches the topic
 * within about a drain interval of Kafka taking records again, with or without traffic, and is
 * reported once.
 *
 * <p>Delivery latency: an event waits up to {@code interval} in the ring and then up to the
 * producer's linger (the same interval by default) — about 0.4 s with the defaults, as before
 * batching.
 */
public final class TelemetryEmitter implements AccessLog, AutoCloseable {

  /** Events that may wait (queued or unacknowledged by Kafka) before new ones are dropped. */
  public static final int DEFAULT_CAPACITY = 10_000;
  /**
   * How often queued events are handed to Kafka (sooner when a quarter of the buffer was
   * queued since the last time). Every drain wakes this thread and, a few times, the
   * producer's sender thread, each costing a fixed few hundred microseconds that a pinned
   * sidecar takes from its event loop: at 1,000
   * events/s, 200 ms instead of 50 ms (the producer's linger following) cut those threads'
   * wake-ups from 57 to 19 a second and their CPU from 15.6 to 8.7 µs per event. Events reach
   * Kafka up to about 0.4 s after their request; the pipeline's windows are 10 s.
   */
  public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(200);

  /**
   * At most this many events go in one record ({@code RequestEventBatch}): with ~230-byte
   * events about 29 KiB. Enough to spread Kafka's per-record cost (≈0.9 µs) to under 0.01 µs an
   * event; small enough that a couple of dozen records share one lz4 producer batch
   * ({@code KafkaClients.TELEMETRY_BATCH_BYTES}, 256 KiB). The producer lets a record into an
   * open batch only if its uncompressed size fits beside the compressed estimate of what is
   * there, so 500-event (~115 KiB) records each took a producer batch of their own: a sender
   * wake-up and a batch on the broker per record — 1.6 times the telemetry threads' wake-ups and
   * 1.4 times the broker's CPU of one-record-per-event (session emit9's first try).
   */
  public static final int MAX_BATCH_EVENTS = 128;
  /**
   * At most this many bytes (the encoded value: header, events, array framing) go in one
   * record — a quarter of a producer batch, for the reason above, and far under the producer's
   * {@code max.request.size} and the topic's {@code max.message.bytes} (1 MiB each by default).
   * Only a single event bigger than this makes a bigger record, alone (as big as it was
   * before batching).
   */
  public static final int MAX_BATCH_BYTES = 32 * 1024;
  /**
   * How often an open TCP connection is reported by default (Istio's
   * {@code tcp_reporting_duration}): every 15 s from its opening, and once more when it closes.
   */
  public static final Duration DEFAULT_TCP_REPORT_INTERVAL = Duration.ofSeconds(15);
  /** Entries one pass of a drain takes before it sends them (then it takes the rest). */
  static final int MAX_DRAIN_EVENTS = 8_192;

  private static final Logger LOG = LoggerFactory.getLogger(TelemetryEmitter.class);
  private static final long LOSS_LOG_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();
  /**
   * While closing, how long to wait before offering a record the sink did not take again (a
   * Kafka sink has already waited {@code max.block.ms} before it gave the record back).
   */
  private static final long CLOSING_RETRY_NANOS = Duration.ofMillis(10).toNanos();

  private final RequestEvents events;
  private final LongSupplier nanoTime;
  /** The wall clock of loss-only records' {@code reportedAt}. */
  private final Clock clock;
  private final EventSink sink;
  /** Used by the emitting thread only. */
  private final RequestEventEncoder encoder = new RequestEventEncoder();
  private final Duration closeTimeout;
  /**
   * Capacity in use: queued plus handed over and not completed. Holds finished HTTP requests'
   * {@link AccessLogEntry}s and TCP connections' reports: {@link TcpEvent}s of connections that
   * never opened, {@link Closed} connections, and {@link TcpConnection}s whose interim report is
   * due (the report is made when it is taken, so that a connection's reports are in order).
   */
  private final Handoff<Object> ring;
  /** How often an open TCP connection is reported, in ms; 0 = only when it closes. */
  private final long tcpIntervalMillis;
  /** TCP connections opened since the last sweep (any event loop adds, this thread takes). */
  private final ConcurrentLinkedQueue<TcpConnection> opened = new ConcurrentLinkedQueue<>();
  /** The open TCP connections the sweep follows (this thread's). */
  private final ArrayList<TcpConnection> open = new ArrayList<>();
  /** When ({@link #clock} ms) the next open connection's interim report is due. */
  private long nextSweepMillis = Long.MAX_VALUE;
  /**
   * Connections of this emitter that closed since the last pass over {@link #open} (any event
   * loop adds; some were never in it): a pass runs once they may be half of it.
   */
  private final AtomicInteger closedSincePass = new AtomicInteger();
  /** {@link #open}'s size after the last sweep, for tests. */
  private volatile int followed;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  /** Offers of a record the sink did not take (it stayed held). */
  private final AtomicLong notTaken = new AtomicLong();
  /**
   * Lost since the last record handed over; goes on the {@code droppedBefore} of the next
   * record's first event, or on a loss-only record when no event comes.
   */
  private final AtomicLong unreported = new AtomicLong();
  /** When closing, the {@link System#nanoTime()} after which what is still queued is dropped. */
  private volatile long closeDeadlineNanos;
  private volatile boolean closing;
  // The drain's state (the emitting thread's only), kept from drain to drain so that a drain
  // allocates per record, not per event.
  /** The items taken by this drain ({@link AccessLogEntry}s and {@link TcpEvent}s), and each one's edge. */
  private final Object[] drained;
  private final RequestEvents.Edge[] edges;
  /** The index of the next entry of the same edge, or -1. */
  private final int[] next;
  /** This drain's edges, in the order of their first entry; by key. */
  private final List<Group> groups = new ArrayList<>();
  private final Map<String, Group> groupsByKey = new HashMap<>();
  private final List<Group> spareGroups = new ArrayList<>();
  /**
   * Encoded records not handed over yet, oldest first: those the sink could not take, and every
   * record after them (so an edge's records reach Kafka in order). Bounded by the capacity, as
   * their events are not released.
   */
  private final ArrayDeque<Batch> held = new ArrayDeque<>();
  /**
   * The entry of the latest event encoded and its edge: a loss-only record names that edge (and
   * has its key). Null until an event was encoded.
   */
  private AccessLogEntry lastEntry;
  private RequestEvents.Edge lastEdge;
  /** When the sink last began refusing records ({@link #nanoTime}), or 0 while it takes them. */
  private long refusedSinceNanos;
  private long lossLogged;
  private long lossLoggedAtNanos;

  /**
   * Starts the emitting thread.
   *
   * @param events builds the events of this proxy
   * @param sink where the records (each a batch of one edge's encoded events) go
   * @param capacity events that may wait, queued or unacknowledged
   * @param interval how often queued events are handed to the sink
   * @param closeTimeout how long {@link #close} waits for Kafka to acknowledge what is left
   */
  public TelemetryEmitter(RequestEvents events, EventSink sink, int capacity, Duration interval,
                          Duration closeTimeout) {
    this(events, sink, capacity, interval, closeTimeout, DEFAULT_TCP_REPORT_INTERVAL,
        Clock.systemUTC());
  }

  /**
   * As above, reporting each open TCP connection every {@code tcpReportInterval} ({@code 0} =
   * only when it closes), its due times and durations read from {@code clock} (the clock the
   * relays read a connection's start from).
   */
  public TelemetryEmitter(RequestEvents events, EventSink sink, int capacity, Duration interval,
                          Duration closeTimeout, Duration tcpReportInterval, Clock clock) {
    this(events, sink, capacity, interval, closeTimeout, System::nanoTime, clock,
        tcpReportInterval);
  }

  /** As above, reading time (for the close deadline and log pacing) from {@code nanoTime}. */
  TelemetryEmitter(RequestEvents events, EventSink sink, int capacity, Duration interval,
                   Duration closeTimeout, LongSupplier nanoTime) {
    this(events, sink, capacity, interval, closeTimeout, nanoTime, Clock.systemUTC());
  }

  /** As above, with loss-only records' {@code reportedAt} read from {@code clock}. */
  TelemetryEmitter(RequestEvents events, EventSink sink, int capacity, Duration interval,
                   Duration closeTimeout, LongSupplier nanoTime, Clock clock) {
    this(events, sink, capacity, interval, closeTimeout, nanoTime, clock,
        DEFAULT_TCP_REPORT_INTERVAL);
  }

  /** As above, reporting open TCP connections every {@code tcpReportInterval} (0 = never). */
  TelemetryEmitter(RequestEvents events, EventSink sink, int capacity, Duration interval,
                   Duration closeTimeout, LongSupplier nanoTime, Clock clock,
                   Duration tcpReportInterval) {
    this.nanoTime = nanoTime;
    this.clock = clock;
    if (capacity < 1) {
      throw new IllegalArgumentException("telemetry buffer: " + capacity
          + " events (expected: at least 1)");
    }
    if (tcpReportInterval.isNegative()) {
      throw new IllegalArgumentException("tcp report interval: " + tcpReportInterval
          + " (expected: 0 or more)");
    }
    this.tcpIntervalMillis = tcpReportInterval.toMillis();
    this.events = events;
    this.sink = sink;
    int chunk = Math.min(capacity, MAX_DRAIN_EVENTS);
    this.drained = new Object[chunk];
    this.edges = new RequestEvents.Edge[chunk];
    this.next = new int[chunk];
    this.closeTimeout = closeTimeout;
    // woken at a quarter of the buffer: a mark of 256, as the access log's, saved the collector
    // less than the extra drains cost (proxy/README.md, telemetry, session emit10)
    this.ring = new Handoff<Object>("meshlog-telemetry", capacity, interval,
        this::drain).start();
  }

  /** Registers the counters (Prometheus: {@code meshlog_telemetry_events_*}) in {@code registry}. */
  public TelemetryEmitter bindTo(MeterRegistry registry) {
    FunctionCounter.builder("meshlog.telemetry.events.sent", sent, AtomicLong::get)
        .description("Request events Kafka acknowledged").register(registry);
    FunctionCounter.builder("meshlog.telemetry.events.dropped", dropped, AtomicLong::get)
        .description("Request events dropped because the buffer was full (Kafka unreachable"
            + " or slow)").register(registry);
    FunctionCounter.builder("meshlog.telemetry.events.failed", failed, AtomicLong::get)
        .description("Request events Kafka refused or did not acknowledge in time")
        .register(registry);
    FunctionCounter.builder("meshlog.telemetry.records.not.taken", notTaken, AtomicLong::get)
        .description("Offers of a record Kafka could not take then (no metadata for the topic,"
            + " or the producer's buffer full); the record stays held and is offered again")
        .register(registry);
    Gauge.builder("meshlog.telemetry.events.buffered", ring, Handoff::inUse)
        .description("Request events queued or awaiting Kafka's acknowledgement")
        .register(registry);
    Gauge.builder("meshlog.telemetry.events.unreported", unreported, AtomicLong::get)
        .description("Lost request events not yet reported on the topic (droppedBefore, or a"
            + " loss-only record)")
        .register(registry);
    return this;
  }

  @Override
  public void log(AccessLogEntry entry) {
    if ("TCP".equals(entry.protocol())) {
      return; // a TCP connection is reported through tcpOpened and tcpClosed
    }
    offer(entry);
  }

  /**
   * Follows a TCP connection that opened: its relay counts its bytes on the answer, which the
   * interim reports read. With interim reports off, nothing is followed (the report at close
   * has the entry's bytes, the same counts).
   */
  @Override
  public TcpBytes tcpOpened(AccessLogEntry opening) {
    if (tcpIntervalMillis == 0) {
      return TcpBytes.NONE;
    }
    TcpConnection c = new TcpConnection(this, opening);
    opened.add(c);
    return c;
  }

  /** Queues the last report of a TCP connection (its only one if it never opened). */
  @Override
  public void tcpClosed(AccessLogEntry closing, TcpBytes live) {
    if (live instanceof TcpConnection c && c.owner == this) {
      c.closing = true;
      closedSincePass.incrementAndGet();
      offer(new Closed(c, closing));
    } else {
      offer(TcpEvent.alone(closing));
    }
  }

  private void offer(Object item) {
    if (!ring.offer(item)) {
      // The buffer is full (Kafka slow or gone) or the proxy is closing: dropped, counted.
      dropped.incrementAndGet();
      lose(1);
    }
  }

  /** A connection that closed, with its final entry; its last report is made when taken. */
  private record Closed(TcpConnection connection, AccessLogEntry entry) {}

  /** Events Kafka acknowledged. */
  public long sent() {
    return sent.get();
  }

  /** Events dropped because the buffer was full. */
  public long dropped() {
    return dropped.get();
  }

  /** Events Kafka refused or did not acknowledge in time (or that could not be encoded). */
  public long failed() {
    return failed.get();
  }

  /** Offers of a record the sink could not take then (the record stayed held). */
  public long recordsNotTaken() {
    return notTaken.get();
  }

  /** Events queued, held or awaiting acknowledgement. */
  public int buffered() {
    return ring.inUse();
  }

  /** The TCP connections the sweep follows (some may have closed since), as of the last one. */
  int followedConnections() {
    return followed;
  }

  /** Whether {@link #close} has begun. */
  boolean closing() {
    return closing;
  }

  /** Lost events not yet carried by an encoded record (held, in flight or delivered). */
  public long unreported() {
    return unreported.get();
  }

  private void lose(long n) {
    unreported.addAndGet(n);
  }

  private void drain() {
    sweep();
    int n;
    boolean took = false;
    do {
      n = take();
      took |= n > 0;
      for (int g = 0; g < groups.size(); g++) {
        encode(groups.get(g));
      }
      handOver();
      // no entry outlives its drain here (they are garbage once sent)
      Arrays.fill(drained, 0, n, null);
      Arrays.fill(edges, 0, n, null);
      spareGroups.addAll(groups);
      groups.clear();
      groupsByKey.clear();
    } while (n == drained.length); // more may be queued: take them too
    if (!took) {
      reportLossAlone();
    }
    logLoss();
  }

  /**
   * A drain that took no event and holds no record has nothing to carry a pending loss: the
   * proxy's traffic stopped (or every event since the loss was lost too). The loss then goes
   * alone, on a loss-only record — no events, a {@code LossReport} of this proxy with the count —
   * keyed and named by the edge of the latest event encoded: its events' partition, where the
   * pipeline aggregates that edge (a key of another scheme would cross the pipeline's
   * repartition topic), after that edge's records of this proxy. Like any record it is held
   * while the sink cannot take it (then no other is made: one at a time), and if it fails, its
   * count is lost again and goes on the next event or loss-only record, so it is reported once.
   * With no event ever encoded (every one lost before), there is no edge to name: the loss
   * stays unreported, on the metrics.
   */
  private void reportLossAlone() {
    if (!held.isEmpty() || lastEntry == null || unreported.get() <= 0 || pastCloseDeadline()) {
      return;
    }
    long lost = unreported.getAndSet(0);
    encoder.beginLossReport();
    try {
      events.encodeLossReport(lastEntry, lastEdge, lost, clock.instant(), encoder);
    } catch (RuntimeException ex) {
      lose(lost);
      LOG.warn("telemetry: a loss report could not be built: {}", ex.toString());
      return;
    }
    held.addLast(new Batch(lastEdge.keyBytes(), encoder.lossOnly(), 0, lost));
    handOver();
  }

  /**
   * The one periodic sweep over the open TCP connections (each drain; cheap until one is due):
   * queues each connection whose interim report is due, every {@link #tcpIntervalMillis} from
   * its opening, and forgets those that closed — also when nothing is due, once the closes
   * since the last pass may be half of the list, so closed connections do not wait an interval
   * to be forgotten and a pass costs O(1) per close. A due report that finds the buffer full is
   * not queued and nothing is lost: the connection's next report carries its bytes.
   */
  private void sweep() {
    TcpConnection c;
    while ((c = opened.poll()) != null) {
      if (!c.finished && !c.closing) {
        c.nextReportMillis = c.opening.start().toEpochMilli() + tcpIntervalMillis;
        nextSweepMillis = Math.min(nextSweepMillis, c.nextReportMillis);
        open.add(c);
      }
    }
    followed = open.size();
    if (open.isEmpty()) {
      closedSincePass.set(0); // closes of connections no longer (or never) followed
      return;
    }
    if (closing) {
      return;
    }
    long now = clock.millis();
    int closedNow = closedSincePass.get();
    if (now < nextSweepMillis && 2L * closedNow < open.size()) {
      // nothing due, and most followed connections are still open
      return;
    }
    closedSincePass.addAndGet(-closedNow);
    long earliest = Long.MAX_VALUE;
    int kept = 0;
    for (int i = 0; i < open.size(); i++) {
      c = open.get(i);
      if (c.finished || c.closing) {
        continue; // its last report comes (or came, or was lost) as it closed
      }
      if (now >= c.nextReportMillis) {
        ring.offer(c);
        c.nextReportMillis = now + tcpIntervalMillis;
      }
      earliest = Math.min(earliest, c.nextReportMillis);
      open.set(kept++, c);
    }
    open.subList(kept, open.size()).clear();
    followed = kept;
    nextSweepMillis = earliest;
  }

  /**
   * The report an item taken from the ring stands for: a TCP connection's report is made now,
   * in ring order, so that each carries the bytes since the one before; {@code null} when there
   * is none (an interim report of a connection already reported closed).
   */
  private TcpEvent tcpEvent(Object item) {
    if (item instanceof TcpEvent t) {
      return t;
    }
    if (item instanceof Closed closed) {
      TcpConnection c = closed.connection();
      return c.finished ? null
          : c.report(closed.entry(), TcpEvent.micros(closed.entry()), true);
    }
    TcpConnection c = (TcpConnection) item;
    return c.finished ? null : c.report(c.opening, Math.max(0,
        clock.millis() - c.opening.start().toEpochMilli()) * 1_000, false);
  }

  /**
   * Takes what is queued (up to {@link #drained}'s length) and groups it by edge key, in the
   * order the entries came; returns how many were taken.
   */
  private int take() {
    int n = 0;
    Object item;
    while (n < drained.length && (item = ring.poll()) != null) {
      if (pastCloseDeadline()) {
        // Closing and Kafka is too slow (e.g. each send waits for metadata): stop, counted.
        drop(1);
        continue;
      }
      RequestEvents.Edge edge;
      try {
        if (item instanceof AccessLogEntry e) {
          edge = events.edgeOf(e);
        } else {
          TcpEvent t = tcpEvent(item);
          if (t == null) {
            ring.release();
            continue;
          }
          item = t;
          edge = events.edgeOf(t);
        }
      } catch (RuntimeException ex) {
        LOG.warn("telemetry: an event could not be built from {}: {}", item, ex.toString());
        completed(1, 0, ex);
        continue;
      }
      if (edge == null) { // no HTTP request; log() queues none
        ring.release();
        continue;
      }
      drained[n] = item;
      edges[n] = edge;
      next[n] = -1;
      Group g = groupsByKey.get(edge.key());
      if (g == null) {
        g = spareGroups.isEmpty() ? new Group() : spareGroups.remove(spareGroups.size() - 1);
        g.key = edge.keyBytes();
        g.first = n;
        groups.add(g);
        groupsByKey.put(edge.key(), g);
      } else {
        next[g.last] = n;
      }
      g.last = n;
      n++;
    }
    return n;
  }

  /**
   * Encodes one edge's entries into records of at most {@link #MAX_BATCH_EVENTS} events and
   * {@link #MAX_BATCH_BYTES} bytes, queued in {@link #held} for {@link #handOver}. The loss
   * carried since the last record goes on each record's first event.
   */
  private void encode(Group g) {
    encoder.beginBatch();
    int count = 0;
    long carried = 0;
    for (int i = g.first; i >= 0; i = next[i]) {
      if (pastCloseDeadline()) {
        // what is encoded and not sent yet is left too; its carried loss stays unreported
        drop(count + 1);
        lose(carried);
        encoder.beginBatch();
        count = 0;
        carried = 0;
        continue;
      }
      if (count == MAX_BATCH_EVENTS) {
        flush(g.key, count, encoder.position(), carried);
        encoder.beginBatch();
        count = 0;
        carried = 0;
      }
      int start = encoder.position();
      long droppedBefore = count == 0 ? unreported.getAndSet(0) : 0;
      try {
        // straight from the entry into the encoder's buffer: no RequestEvent, no boxed numbers
        if (drained[i] instanceof AccessLogEntry e) {
          events.encodeBody(e, edges[i], droppedBefore, encoder);
        } else {
          events.encodeBody((TcpEvent) drained[i], edges[i], droppedBefore, encoder);
        }
      } catch (RuntimeException ex) {
        encoder.rewind(start);
        lose(droppedBefore);
        LOG.warn("telemetry: an event could not be built from {}: {}", drained[i],
            ex.toString());
        completed(1, 0, ex);
        continue;
      }
      if (count == 0) {
        carried = droppedBefore;
      }
      lastEntry = drained[i] instanceof AccessLogEntry e ? e : ((TcpEvent) drained[i]).entry();
      lastEdge = edges[i];
      count++;
      if (count > 1
          && RequestEventEncoder.batchOverhead(count) + encoder.position() > MAX_BATCH_BYTES) {
        // this event would make the record too big: it starts the next one
        flush(g.key, count - 1, start, carried);
        encoder.keepFrom(start);
        count = 1;
        carried = 0;
      }
    }
    if (count > 0) {
      flush(g.key, count, encoder.position(), carried);
    }
  }

  /** Makes the first {@code count} encoded events, ending at {@code end}, one record. */
  private void flush(byte[] key, int count, int end, long carried) {
    held.addLast(new Batch(key, encoder.batch(count, end), count, carried));
  }

  /**
   * Hands the held records to the sink, oldest first, until it takes none: what it does not
   * take stays held for the next drain (while closing, it is offered again until the close
   * deadline, then dropped and counted).
   */
  private void handOver() {
    Batch b;
    while ((b = held.peekFirst()) != null) {
      if (pastCloseDeadline()) {
        held.removeFirst();
        drop(b.count);
        lose(b.carried);
        continue;
      }
      try {
        // a sink that throws has not told the outcome (EventSink's contract)
        sink.send(b.key, b.value, b);
      } catch (EventSink.NotTakenException ex) {
        notTaken.incrementAndGet();
        logNotTaken(ex);
        if (!closing) {
          return;
        }
        LockSupport.parkNanos(this, CLOSING_RETRY_NANOS);
        continue;
      } catch (RuntimeException ex) {
        held.removeFirst();
        completed(b.count, b.carried, ex);
        continue;
      }
      if (refusedSinceNanos != 0) {
        LOG.info("telemetry: Kafka takes request events again after {} s; handing over the {} "
            + "events held", (nanoTime.getAsLong() - refusedSinceNanos) / 1_000_000_000,
            heldEvents());
        refusedSinceNanos = 0;
      }
      held.removeFirst();
      b.handedOver();
    }
  }

  /** The sink did not take the oldest held record: said once, when it begins. */
  private void logNotTaken(EventSink.NotTakenException ex) {
    if (refusedSinceNanos != 0) {
      return;
    }
    refusedSinceNanos = nanoTime.getAsLong() | 1; // never 0
    LOG.warn("telemetry: Kafka does not take request events now ({}); holding them, up to the "
        + "buffer of {} events, and offering them again every drain", ex.getMessage(),
        ring.capacity());
  }

  private int heldEvents() {
    int n = 0;
    for (Batch b : held) {
      n += b.count;
    }
    return n;
  }

  private boolean pastCloseDeadline() {
    return closing && nanoTime.getAsLong() - closeDeadlineNanos > 0;
  }

  /** {@code n} taken events are dropped: counted, and reported later. */
  private void drop(int n) {
    ring.release(n);
    dropped.addAndGet(n);
    lose(n);
  }

  /** One edge's entries of a drain: a chain through {@link #next}. */
  private static final class Group {
    byte[] key;
    int first;
    int last;
  }

  /**
   * One record and its outcome: its {@code count} events, the first carrying {@code carried}
   * earlier losses, which are lost again (and move on) if it fails (a loss-only record: no
   * events, {@code carried} in its loss report).
   */
  private final class Batch implements EventSink.Outcome {
    private final int count;
    private final long carried;
    /** The topic key and the encoded value, until the sink took them. */
    private byte[] key;
    private byte[] value;

    Batch(byte[] key, byte[] value, int count, long carried) {
      this.key = key;
      this.value = value;
      this.count = count;
      this.carried = carried;
    }

    /** The sink took the record (and holds its bytes while it needs them). */
    void handedOver() {
      key = null;
      value = null;
    }

    @Override
    public void completed(Exception failure) {
      TelemetryEmitter.this.completed(count, carried, failure);
    }
  }

  private void completed(int count, long carried, Exception failure) {
    ring.release(count);
    if (failure == null) {
      sent.addAndGet(count);
    } else {
      failed.addAndGet(count);
      unreported.addAndGet(carried + count);
    }
  }

  /** At most one warning per 10 s while events are being lost, and one when it stops. */
  private void logLoss() {
    long lost = dropped.get() + failed.get();
    if (lost == lossLogged) {
      return;
    }
    long now = nanoTime.getAsLong();
    if (lossLoggedAtNanos != 0 && now - lossLoggedAtNanos < LOSS_LOG_INTERVAL_NANOS) {
      return;
    }
    LOG.warn("telemetry: {} request events lost since the proxy started ({} dropped with the "
        + "buffer of {} full, {} refused or timed out by Kafka); {} sent; the loss is reported "
        + "on the topic (droppedBefore, or a loss-only record) once Kafka takes records again", lost, dropped.get(),
        ring.capacity(), failed.get(), sent.get());
    lossLogged = lost;
    lossLoggedAtNanos = now;
  }

  /**
   * Sends what is queued, waits up to the close timeout for Kafka to acknowledge it, and stops;
   * call it after the listeners stopped, so every request's event is in. What cannot be handed
   * to Kafka within the close timeout is dropped and counted.
   */
  @Override
  public void close() {
    closeDeadlineNanos = nanoTime.getAsLong() + closeTimeout.toNanos();
    closing = true;
    // one send may still block for max.block.ms after the deadline
    ring.stop(closeTimeout.plusSeconds(5));
    sink.close(closeTimeout);
    lossLoggedAtNanos = 0;
    logLoss();
  }
}
