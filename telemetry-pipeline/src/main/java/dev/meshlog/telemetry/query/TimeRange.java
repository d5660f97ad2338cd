package dev.meshlog.telemetry.query;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The time range of a query: {@code window=1m} (the last minute up to now), or
 * {@code from}/{@code to} (ISO-8601 instants or epoch milliseconds; {@code to} defaults to now).
 *
 * @param from start (inclusive)
 * @param to end
 */
public record TimeRange(Instant from, Instant to) {

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
  /** Ranges up to this long are answered from the 10-second windows, longer ones from the 1-minute windows. */
  static final Duration FINE_UP_TO = Duration.ofMinutes(15);
  /**
   * How long the 10-second and the 1-minute windows are kept (the pipeline's retention, {@code
   * TelemetryTopology.Settings.defaults}): a range reaching further back would be answered
   * from nothing, and rates divided by its length would be wrong, not missing.
   */
  static final Duration KEPT_10S = Duration.ofHours(1);
  static final Duration KEPT_1M = Duration.ofHours(24);

  public TimeRange {
    if (!from.isBefore(to)) {
      throw new IllegalArgumentException("from: " + from + " (expected: before to, " + to + ")");
    }
  }

  /** Reads {@code window}, {@code from} and {@code to} (any may be null); the default is the last minute. */
  public static TimeRange parse(String window, String from, String to, Instant now) {
    if (from != null && window != null) {
      throw new IllegalArgumentException("window: " + window + " (expected: either window or from/to, not both)");
    }
    if (from == null && to != null) {
      throw new IllegalArgumentException("to: " + to + " (expected: with from; or window alone)");
    }
    if (from != null) {
      Instant end = to == null ? now : instant("to", to);
      Instant start = instant("from", from);
      if (start.isBefore(now.minus(KEPT_1M))) {
        throw new IllegalArgumentException("from: " + from + " (expected: at most " + human(KEPT_1M)
            + " before now, " + now + ", how long the 1-minute windows are kept)");
      }
      return new TimeRange(start, end);
    }
    Duration length = window == null ? Duration.ofMinutes(1) : duration("window", window);
    if (length.compareTo(KEPT_1M) > 0) {
      throw new IllegalArgumentException("window: " + window + " (expected: at most " + human(KEPT_1M)
          + ", how long the 1-minute windows are kept)");
    }
    return new TimeRange(now.minus(length), now);
  }

  /**
   * The window size to read at {@code now}: 10 s for ranges up to 15 min that start within the
   * hour the 10-second windows are kept, else 1 min.
   */
  public Duration windowSize(Instant now) {
    return from.isBefore(now.minus(KEPT_10S)) ? Duration.ofMinutes(1) : windowSize();
  }

  /** Refuses a series' {@code step} of 10 s for a range the 10-second windows no longer hold. */
  public void checkStep(Duration step, Instant now) {
    if (step.equals(Duration.ofSeconds(10)) && from.isBefore(now.minus(KEPT_10S))) {
      throw new IllegalArgumentException("step: 10s (expected: 1m for a range starting more than "
          + human(KEPT_10S) + " ago, how long the 10-second windows are kept)");
    }
  }

  private static String human(Duration d) {
    return d.toHours() + "h";
  }

  /** The length of the range. */
  public Duration length() {
    return Duration.between(from, to);
  }

  /** The window size to read: 10 s for ranges up to 15 min, else 1 min. */
  public Duration windowSize() {
    return length().compareTo(FINE_UP_TO) <= 0 ? Duration.ofSeconds(10) : Duration.ofMinutes(1);
  }

  /** {@code 10s}, {@code 1m}, {@code 500ms}, {@code 2h}, {@code 1d}. */
  public static Duration duration(String name, String text) {
    Matcher m = DURATION.matcher(text.strip());
    String expected = name + ": " + text + " (expected: a number and ms, s, m, h or d, e.g. 1m)";
    if (!m.matches()) {
      throw new IllegalArgumentException(expected);
    }
    Duration d;
    try {
      long n = Long.parseLong(m.group(1));
      d = switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    } catch (ArithmeticException | NumberFormatException e) { // too large for a long or a Duration
      throw new IllegalArgumentException(expected, e);
    }
    if (d.isZero()) {
      throw new IllegalArgumentException(name + ": " + text + " (expected: more than 0)");
    }
    return d;
  }

  private static Instant instant(String name, String text) {
    try {
      return text.chars().allMatch(Character::isDigit)
          ? Instant.ofEpochMilli(Long.parseLong(text)) : Instant.parse(text);
    } catch (DateTimeParseException | NumberFormatException e) {
      throw new IllegalArgumentException(name + ": " + text
          + " (expected: an ISO-8601 instant like 2026-11-24T12:00:00Z or epoch milliseconds)");
    }
  }
}
