package dev.meshlog.config.controlplane;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Times each user command's way through the control plane's stream thread, stage by stage: the
 * command's record timestamp → the poll that returned it → processing (validation, views) → the
 * commit (the producer's flush, the offsets' {@code TxnOffsetCommit}, {@code EndTxn}). One
 * {@link Timing} per command once its transaction is committed, logged at DEBUG by this class's
 * logger. All calls come from the single stream thread (the main consumer's interceptor, the
 * processor, the producer's commit calls), so nothing is synchronized; when off (the logger not at
 * DEBUG and no listener), every hook returns at once.
 */
public final class CommandStages {

  private static final Logger LOG = LoggerFactory.getLogger(CommandStages.class);
  /** Commands held for a commit that never comes (a test without a producer) are dropped past this. */
  private static final int MAX_PENDING = 10_000;

  /**
   * One command's stages, in ms (from {@link System#nanoTime()} differences, so sub-millisecond),
   * except {@code queuedMs}, which compares the record's timestamp (ms) with the poll's wall clock.
   *
   * @param polledAtMicros wall clock (epoch µs) when the poll that returned the command returned,
   *     or 0 if no poll was seen (it came in an earlier poll's leftovers)
   * @param committedAtMicros wall clock (epoch µs) when {@code EndTxn} was answered
   * @param waitMs poll returned → processing started (other records, punctuations)
   * @param checkMs validation: parse, field checks, canonical JSON and its SHA-256
   * @param viewsMs the model's update, compiling the touched views, hashing them, sending them
   * @param processMs the whole of processing (check and views included: the rest is store reads
   *     and writes, the event's encoding and send)
   * @param toCommitMs processing ended → the commit began (the rest of the loop's work)
   * @param flushMs the producer's flush: every send of the transaction acknowledged
   * @param offsetsMs {@code sendOffsetsToTransaction}: the {@code TxnOffsetCommit} round trip
   * @param endTxnMs {@code commitTransaction}: the {@code EndTxn} round trip
   * @param views how many views the command published
   */
  public record Timing(String commandId, long offset, long timestampMs, long polledAtMicros,
                       long committedAtMicros, double queuedMs, double waitMs, double checkMs,
                       double viewsMs, double processMs, double toCommitMs, double flushMs,
                       double offsetsMs, double endTxnMs, int views) {

    /**
     * One line, {@code key=value} pairs: what the DEBUG log prints and the benchmark parses. Built
     * by hand, not with {@code String.format} (which parses its pattern and formats each number
     * through {@code Formatter}: about 2% of the stream thread's CPU in the benchmark, where the
     * line is written once per command); the durations have three decimals, rounded half up,
     * as {@code %.3f} would print them.
     */
    public String line() {
      StringBuilder b = new StringBuilder(256).append("stages command=").append(commandId)
          .append(" offset=").append(offset).append(" timestamp=").append(timestampMs)
          .append(" polledAt=").append(polledAtMicros).append(" committedAt=")
          .append(committedAtMicros);
      millis(b.append(" queued="), queuedMs);
      millis(b.append(" wait="), waitMs);
      millis(b.append(" check="), checkMs);
      millis(b.append(" views="), viewsMs);
      millis(b.append(" process="), processMs);
      millis(b.append(" toCommit="), toCommitMs);
      millis(b.append(" flush="), flushMs);
      millis(b.append(" offsets="), offsetsMs);
      millis(b.append(" endTxn="), endTxnMs);
      return b.append(" viewCount=").append(views).toString();
    }

    /**
     * Appends {@code ms} as {@code %.3f} prints it: three decimals, half up ({@code NaN} and
     * {@code Infinity} as Java prints them).
     */
    static void millis(StringBuilder b, double ms) {
      if (Double.isNaN(ms) || Double.isInfinite(ms) || Math.abs(ms) >= 9e15) {
        b.append(ms); // not a duration this class produces; Double.toString keeps it parseable
        return;
      }
      double scaled = Math.abs(ms) * 1000;
      long thousandths = Math.round(scaled);
      if (Math.abs(scaled - Math.floor(scaled) - 0.5) < Math.max(1e-6, 4 * Math.ulp(scaled))) {
        // At (or a rounding error from) a tie, e.g. 0.5005, whose product is 500.49999...:
        // round the decimal Java prints, half up, as Formatter does (1 in 1,000 µs-values).
        thousandths = new java.math.BigDecimal(Double.toString(Math.abs(ms))).movePointRight(3)
            .setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
      }
      if (ms < 0 || (ms == 0 && 1 / ms < 0)) {
        b.append('-');
      }
      b.append(thousandths / 1000).append('.');
      long frac = thousandths % 1000;
      if (frac < 100) {
        b.append('0');
      }
      if (frac < 10) {
        b.append('0');
      }
      b.append(frac);
    }

    /**
     * The timing in a log line that contains a {@link #line()}, or empty if it has none.
     *
     * @throws IllegalArgumentException a stages line with a field missing or malformed
     */
    public static java.util.Optional<Timing> parse(String logLine) {
      int at = logLine.indexOf("stages command=");
      if (at < 0) {
        return java.util.Optional.empty();
      }
      Map<String, String> f = new HashMap<>();
      for (String pair : logLine.substring(at + "stages ".length()).strip().split(" ")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          f.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
      }
      try {
        return java.util.Optional.of(new Timing(field(f, "command"), Long.parseLong(field(f, "offset")),
            Long.parseLong(field(f, "timestamp")), Long.parseLong(field(f, "polledAt")),
            Long.parseLong(field(f, "committedAt")), Double.parseDouble(field(f, "queued")),
            Double.parseDouble(field(f, "wait")), Double.parseDouble(field(f, "check")),
            Double.parseDouble(field(f, "views")), Double.parseDouble(field(f, "process")),
            Double.parseDouble(field(f, "toCommit")), Double.parseDouble(field(f, "flush")),
            Double.parseDouble(field(f, "offsets")), Double.parseDouble(field(f, "endTxn")),
            Integer.parseInt(field(f, "viewCount"))));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("stages line: " + e.getMessage() + " in: " + logLine, e);
      }
    }

    private static String field(Map<String, String> fields, String name) {
      String value = fields.get(name);
      if (value == null) {
        throw new IllegalArgumentException("stages line: no " + name + "= (expected the fields of"
            + " CommandStages.Timing.line())");
      }
      return value;
    }
  }

  /** A command processed, waiting for its transaction's commit. */
  private static final class Pending {
    final String commandId;
    final long offset;
    final long timestampMs;
    long polledNanos;
    long polledAtMicros;
    long startNanos;
    long checkNanos;
    long viewsNanos;
    long endNanos;
    int views;

    Pending(String commandId, long offset, long timestampMs) {
      this.commandId = commandId;
      this.offset = offset;
      this.timestampMs = timestampMs;
    }
  }

  /** A poll that returned commands: its last command offset, when it returned. */
  private record Poll(long lastOffset, long nanos, long wallMicros) {}

  private final boolean on;
  private final LongSupplier nanos;
  private final LongSupplier wallMicros;
  private final Consumer<Timing> listener;
  private final ArrayDeque<Poll> polls = new ArrayDeque<>();
  private final List<Pending> pending = new ArrayList<>();
  private Pending current;
  private long stageNanos;
  private long commitStartNanos;
  private long flushEndNanos;
  private long offsetsEndNanos;

  /**
   * @param nanos a monotonic clock in ns ({@code System::nanoTime})
   * @param wallMicros the wall clock in epoch µs
   * @param listener gets each command's timing once committed (besides the DEBUG log), or null
   */
  CommandStages(LongSupplier nanos, LongSupplier wallMicros, Consumer<Timing> listener) {
    this(nanos, wallMicros, listener, listener != null || LOG.isDebugEnabled());
  }

  private CommandStages(LongSupplier nanos, LongSupplier wallMicros, Consumer<Timing> listener,
                        boolean on) {
    this.nanos = Objects.requireNonNull(nanos, "nanos");
    this.wallMicros = Objects.requireNonNull(wallMicros, "wallMicros");
    this.listener = listener;
    this.on = on;
  }

  /** Stages on the system clocks, logged at DEBUG if this class's logger is (else off). */
  public static CommandStages system() {
    return withListener(null);
  }

  /** Stages on the system clocks, each command's timing also handed to {@code listener}. */
  public static CommandStages withListener(Consumer<Timing> listener) {
    return new CommandStages(System::nanoTime, CommandStages::epochMicros, listener);
  }

  /** Off: every hook returns at once (topology tests). */
  static final CommandStages OFF = new CommandStages(System::nanoTime, () -> 0L, null, false);

  private static long epochMicros() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  boolean on() {
    return on;
  }

  /** The main consumer's poll returned records of the commands topic, up to {@code lastOffset}. */
  void polled(long lastOffset) {
    if (!on()) {
      return;
    }
    polls.addLast(new Poll(lastOffset, nanos.getAsLong(), wallMicros.getAsLong()));
    while (polls.size() > 64) {
      polls.removeFirst();
    }
  }

  /** Processing of a command record starts. */
  void started(String commandId, long offset, long timestampMs) {
    if (!on()) {
      return;
    }
    long now = nanos.getAsLong();
    Pending p = new Pending(commandId, offset, timestampMs);
    p.startNanos = now;
    while (!polls.isEmpty() && polls.peekFirst().lastOffset() < offset) {
      polls.removeFirst();
    }
    Poll poll = polls.peekFirst();
    if (poll != null) {
      p.polledNanos = poll.nanos();
      p.polledAtMicros = poll.wallMicros();
    }
    current = p;
  }

  /** A stage of the current command starts (validation, or the views). */
  void stageStarted() {
    if (current != null) {
      stageNanos = nanos.getAsLong();
    }
  }

  /** Validation of the current command ended. */
  void checked() {
    if (current != null) {
      current.checkNanos += nanos.getAsLong() - stageNanos;
    }
  }

  /** The current command's views were compiled and sent. */
  void viewsPublished(int count) {
    if (current != null) {
      current.viewsNanos += nanos.getAsLong() - stageNanos;
      current.views += count;
    }
  }

  /** Processing of the current command ended; it waits for its transaction's commit. */
  void processed() {
    if (current == null) {
      return;
    }
    current.endNanos = nanos.getAsLong();
    if (pending.size() >= MAX_PENDING) {
      pending.remove(0);
    }
    pending.add(current);
    current = null;
  }

  /** The producer's flush starts (the first step of a commit). */
  void flushStarted() {
    if (!pending.isEmpty()) {
      commitStartNanos = nanos.getAsLong();
      flushEndNanos = 0;
      offsetsEndNanos = 0;
    }
  }

  /** The producer's flush returned. */
  void flushed() {
    if (!pending.isEmpty() && commitStartNanos != 0) {
      flushEndNanos = nanos.getAsLong();
    }
  }

  /** {@code sendOffsetsToTransaction} returned. */
  void offsetsSent() {
    if (!pending.isEmpty() && commitStartNanos != 0) {
      offsetsEndNanos = nanos.getAsLong();
    }
  }

  /** {@code commitTransaction} returned: every pending command is committed. */
  void committed() {
    if (pending.isEmpty()) {
      return;
    }
    long end = nanos.getAsLong();
    long endWall = wallMicros.getAsLong();
    long start = commitStartNanos != 0 ? commitStartNanos : end;
    long flushed = flushEndNanos != 0 ? flushEndNanos : start;
    long offsets = offsetsEndNanos != 0 ? offsetsEndNanos : flushed;
    for (Pending p : pending) {
      Timing t = new Timing(p.commandId, p.offset, p.timestampMs, p.polledAtMicros, endWall,
          p.polledAtMicros == 0 ? Double.NaN : p.polledAtMicros / 1e3 - p.timestampMs,
          p.polledNanos == 0 ? Double.NaN : ms(p.startNanos - p.polledNanos),
          ms(p.checkNanos), ms(p.viewsNanos), ms(p.endNanos - p.startNanos),
          ms(start - p.endNanos), ms(flushed - start), ms(offsets - flushed), ms(end - offsets),
          p.views);
      if (listener != null) {
        listener.accept(t);
      }
      if (LOG.isDebugEnabled()) {
        LOG.debug(t.line()); // a listener alone does not pay for the line
      }
    }
    pending.clear();
    commitStartNanos = 0;
  }

  /** The transaction was aborted: its commands will be processed again. */
  void aborted() {
    pending.clear();
    current = null;
    commitStartNanos = 0;
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
