package dev.meshlog.proxy.http;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log of a running proxy: event loops only queue finished requests (no lock, no
 * thread wake-up); one thread of its own formats them and hands them to the logger
 * {@code meshlog.access} a batch of newline-separated lines at a time, every {@code interval}
 * (or sooner when {@link #MAX_WAITING} entries, or a quarter of the queue, are waiting) — a
 * {@link Handoff}. A full queue drops
 * entries and says how many.
 *
 * <p>Why not one log event per request through an asynchronous appender: that wakes the
 * appender's thread for nearly every request, and on a sidecar's one or two cores the wake-up
 * preempts the event loop each time — under load it cost about a third of the proxy's CPU per
 * request. Batching is what Envoy does too (its access-log files are flushed on an interval).
 */
public final class BatchingAccessLog implements AccessLog, AutoCloseable {

  /** How often queued entries are written. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(100);
  /** Entries that may wait; beyond this they are dropped (and counted). */
  public static final int DEFAULT_CAPACITY = 16_384;
  /**
   * The thread is woken once this many entries were queued since its last drain (or the
   * capacity's quarter, if less), not only every {@code interval}. Under load the entries
   * waiting are what a young collection finds alive: each holds its request's strings (≈600
   * bytes in all), and the serial collector copies every one of them to a survivor space
   * while the event loop stands still. With a quarter of 16,384 as the mark, up to ≈4,000 waited
   * at saturation (≈2 MB of survivors, pauses of 2–10 ms instead of 0.6–1); with 256, at most
   * ≈150 KB. At 1,000 req/s a drain still comes every {@code interval} (100 entries), so the
   * thread wakes as often as before there; at saturation ≈200 times a second, each a batch of
   * ≈256 lines (about one batch of {@link #MAX_BATCH_CHARS} for Log4j, as before).
   */
  static final int MAX_WAITING = 256;
  /** A batch is handed over when it reaches this many characters. */
  static final int MAX_BATCH_CHARS = 64 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(BatchingAccessLog.class);

  private final Consumer<String> sink;
  private final BooleanSupplier enabled;
  private final Handoff<AccessLogEntry> handoff;
  private final AtomicLong dropped = new AtomicLong();
  /** The batch being written; the writing thread's only, reused so lines are not built twice. */
  private final StringBuilder batch = new StringBuilder(MAX_BATCH_CHARS + 1024);

  /**
   * Starts the writing thread.
   *
   * @param sink receives each batch: lines separated by {@code \n}, without a final one
   * @param enabled whether entries are wanted at all (checked per entry)
   */
  public BatchingAccessLog(Consumer<String> sink, BooleanSupplier enabled, Duration interval,
                           int capacity) {
    this.sink = sink;
    this.enabled = enabled;
    this.handoff = new Handoff<AccessLogEntry>("meshlog-access-log", capacity,
        Math.min(MAX_WAITING, Math.max(1, capacity / 4)), interval, this::drain).start();
  }

  /** Lines to the SLF4J logger {@code meshlog.access} at INFO, one event per batch. */
  public static BatchingAccessLog toLogger() {
    Logger logger = LoggerFactory.getLogger("meshlog.access");
    return new BatchingAccessLog(logger::info, logger::isInfoEnabled, DEFAULT_INTERVAL,
        DEFAULT_CAPACITY);
  }

  @Override
  public void log(AccessLogEntry entry) {
    if (handoff.stopped() || !enabled.getAsBoolean()) {
      return;
    }
    if (!handoff.offer(entry)) {
      dropped.incrementAndGet();
    }
  }

  /** Entries dropped because the queue was full, since the last batch reported them. */
  long dropped() {
    return dropped.get();
  }

  private void drain() {
    AccessLogEntry e;
    while ((e = handoff.poll()) != null) {
      handoff.release();
      if (!batch.isEmpty()) {
        batch.append('\n');
      }
      e.appendLine(batch);
      if (batch.length() >= MAX_BATCH_CHARS) {
        emit(batch);
      }
    }
    if (!batch.isEmpty()) {
      emit(batch);
    }
    long lost = dropped.getAndSet(0);
    if (lost > 0) {
      LOG.warn("access log: {} entries dropped (more than {} waiting to be written)", lost,
          handoff.capacity());
    }
  }

  private void emit(StringBuilder batch) {
    try {
      sink.accept(batch.toString());
    } catch (RuntimeException ex) {
      LOG.warn("access log: a batch was not written: {}", ex.toString());
    }
    batch.setLength(0);
  }

  /** Writes what is queued and stops the thread; entries logged afterwards are ignored. */
  @Override
  public void close() {
    handoff.stop(Duration.ofSeconds(5));
  }
}
