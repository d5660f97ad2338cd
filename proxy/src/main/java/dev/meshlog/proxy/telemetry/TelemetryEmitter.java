package dev.meshlog.proxy.telemetry;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
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
 * Emits one {@link RequestEvent} per finished HTTP request, without ever making a request wait.
 *
 * <p>The event loop only puts the (immutable) access-log entry in a preallocated ring
 * ({@link Handoff}): one compare-and-set and one store, no allocation, no lock, no thread
 * wake-up, no Avro, no Kafka. A thread of its own encodes the events and hands them to the
 * {@link EventSink} every {@code interval} (sooner when a quarter of the buffer was queued since
 * the last time). The buffer is bounded by events, not bytes: at most {@code capacity} events
 * may be queued or handed to Kafka and not yet acknowledged. When Kafka is unreachable that
 * fills up, and from then on new events are <b>dropped and counted</b> at once; the requests
 * do not notice.
 *
 * <p>Counts are exact when nothing is lost: no sampling, an idempotent producer, and
 * {@link #close} sends what is queued before it returns. A loss (dropped at the buffer, or
 * refused or timed out by Kafka) is counted in the metrics and carried on the next event that is
 * handed over as {@code RequestEvent.droppedBefore}; if that one fails too, the loss moves on to
 * the next, so the sum of {@code droppedBefore} over a proxy's delivered events is what it lost,
 * reported once Kafka is back.
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

  private static final Logger LOG = LoggerFactory.getLogger(TelemetryEmitter.class);
  private static final long LOSS_LOG_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

  private final RequestEvents events;
  private final LongSupplier nanoTime;
  private final EventSink sink;
  /** Used by the emitting thread only. */
  private final RequestEventEncoder encoder = new RequestEventEncoder();
  private final Duration closeTimeout;
  /** Capacity in use: queued plus handed over and not completed. */
  private final Handoff<AccessLogEntry> ring;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  /** Lost since the last event handed over; goes on that event's {@code droppedBefore}. */
  private final AtomicLong unreported = new AtomicLong();
  /** When closing, the {@link System#nanoTime()} after which what is still queued is dropped. */
  private volatile long closeDeadlineNanos;
  private volatile boolean closing;
  /**
   * The outcome of every event that carries no earlier loss, i.e. nearly all of them: one object
   * for all, so that handing an event to the sink allocates nothing of ours (the sink keeps the
   * callback it made for it, see {@link KafkaEventSink}).
   */
  private final EventSink.Outcome plain = failure -> completed(0, failure);
  private long lossLogged;
  private long lossLoggedAtNanos;

  /**
   * Starts the emitting thread.
   *
   * @param events builds the events of this proxy
   * @param sink where encoded events go
   * @param capacity events that may wait, queued or unacknowledged
   * @param interval how often queued events are handed to the sink
   * @param closeTimeout how long {@link #close} waits for Kafka to acknowledge what is left
   */
  public TelemetryEmitter(RequestEvents events, EventSink sink, int capacity, Duration interval,
                          Duration closeTimeout) {
    this(events, sink, capacity, interval, closeTimeout, System::nanoTime);
  }

  /** As above, reading time (for the close deadline and log pacing) from {@code nanoTime}. */
  TelemetryEmitter(RequestEvents events, EventSink sink, int capacity, Duration interval,
                   Duration closeTimeout, LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    if (capacity < 1) {
      throw new IllegalArgumentException("telemetry buffer: " + capacity
          + " events (expected: at least 1)");
    }
    this.events = events;
    this.sink = sink;
    this.closeTimeout = closeTimeout;
    this.ring = new Handoff<AccessLogEntry>("meshlog-telemetry", capacity, interval,
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
    Gauge.builder("meshlog.telemetry.events.buffered", ring, Handoff::inUse)
        .description("Request events queued or awaiting Kafka's acknowledgement")
        .register(registry);
    Gauge.builder("meshlog.telemetry.events.unreported", unreported, AtomicLong::get)
        .description("Lost request events not yet reported on the topic (droppedBefore)")
        .register(registry);
    return this;
  }

  @Override
  public void log(AccessLogEntry entry) {
    if ("TCP".equals(entry.protocol())) {
      return;
    }
    if (!ring.offer(entry)) {
      // The buffer is full (Kafka slow or gone) or the proxy is closing: dropped, counted.
      dropped.incrementAndGet();
      lose(1);
    }
  }

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

  /** Events queued or awaiting acknowledgement. */
  public int buffered() {
    return ring.inUse();
  }

  /** Whether {@link #close} has begun. */
  boolean closing() {
    return closing;
  }

  /** Lost events not yet carried by an event handed to Kafka. */
  public long unreported() {
    return unreported.get();
  }

  private void lose(long n) {
    unreported.addAndGet(n);
  }

  private void drain() {
    AccessLogEntry e;
    while ((e = ring.poll()) != null) {
      if (closing && nanoTime.getAsLong() - closeDeadlineNanos > 0) {
        // Closing and Kafka is too slow (e.g. each send waits for metadata): stop, counted.
        ring.release();
        dropped.incrementAndGet();
        lose(1);
        continue;
      }
      emit(e);
    }
    logLoss();
  }

  private void emit(AccessLogEntry entry) {
    byte[] key;
    byte[] value;
    long carried = unreported.getAndSet(0);
    try {
      // straight from the entry into the encoder's buffer: no RequestEvent, no boxed numbers
      key = events.encode(entry, carried, encoder);
      value = encoder.bytes();
    } catch (RuntimeException ex) {
      LOG.warn("telemetry: an event could not be built from {}: {}", entry.line(), ex.toString());
      completed(carried, ex);
      return;
    }
    try {
      // a sink that throws has not told the outcome (EventSink's contract, Kafka's send's too)
      sink.send(key, value, carried == 0 ? plain : new Carrying(carried));
    } catch (RuntimeException ex) {
      completed(carried, ex);
    }
  }

  /** The outcome of an event that carries earlier losses: they are lost again if it fails. */
  private final class Carrying implements EventSink.Outcome {
    private final long carried;

    Carrying(long carried) {
      this.carried = carried;
    }

    @Override
    public void completed(Exception failure) {
      TelemetryEmitter.this.completed(carried, failure);
    }
  }

  private void completed(long carried, Exception failure) {
    ring.release();
    if (failure == null) {
      sent.incrementAndGet();
    } else {
      failed.incrementAndGet();
      unreported.addAndGet(carried + 1);
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
        + "on the topic as droppedBefore once Kafka takes events again", lost, dropped.get(),
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
