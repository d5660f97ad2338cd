package dev.meshlog.config.model;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as Istio writes them (protobuf JSON / Go syntax): {@code 10s}, {@code 0.5s},
 * {@code 250ms}, {@code 1m30s}, {@code 2h}, {@code 100us}.
 */
public final class Durations {

  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|us|µs|ns|h|m|s)");

  private Durations() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming the text and the expected form
   */
  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("duration: empty (expected e.g. 10s, 250ms, 1m30s)");
    }
    Matcher m = PART.matcher(text);
    int at = 0;
    BigDecimal nanos = BigDecimal.ZERO;
    while (at < text.length()) {
      if (!m.find(at) || m.start() != at) {
        throw new IllegalArgumentException("duration: " + text + " (expected e.g. 10s, 250ms, 1m30s)");
      }
      BigDecimal amount = new BigDecimal(m.group(1));
      long unitNanos = switch (m.group(2)) {
        case "h" -> 3_600_000_000_000L;
        case "m" -> 60_000_000_000L;
        case "s" -> 1_000_000_000L;
        case "ms" -> 1_000_000L;
        case "us", "µs" -> 1_000L;
        default -> 1L;
      };
      nanos = nanos.add(amount.multiply(BigDecimal.valueOf(unitNanos)));
      at = m.end();
    }
    return Duration.ofNanos(nanos.longValueExact());
  }
}
