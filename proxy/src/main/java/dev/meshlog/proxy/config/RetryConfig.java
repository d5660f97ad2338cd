package dev.meshlog.proxy.config;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A route's retry policy.
 *
 * @param attempts retries after the first try (Istio's {@code attempts}); 0 = none
 * @param perTryTimeout timeout of each try; zero = only the route timeout applies
 * @param retryOn the conditions that make a try worth retrying
 * @param retriableStatusCodes statuses retried under {@link RetryOn#RETRIABLE_STATUS_CODES}
 * @param backoffBase base of the exponential, fully jittered backoff
 * @param backoffMax upper bound of one backoff
 */
public record RetryConfig(int attempts, Duration perTryTimeout, Set<RetryOn> retryOn,
                          Set<Integer> retriableStatusCodes, Duration backoffBase,
                          Duration backoffMax) {

  /** No retries. */
  public static final RetryConfig NONE = new RetryConfig(0, Duration.ZERO, Set.of(), Set.of(),
      Duration.ofMillis(25), Duration.ofMillis(250));

  public RetryConfig {
    retryOn = retryOn.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(retryOn));
    retriableStatusCodes = Set.copyOf(retriableStatusCodes);
  }

  /** An Envoy retry condition. */
  public enum RetryOn {
    /** Any 5xx response, or no response at all (connect failure, reset, per-try timeout). */
    FIVE_XX("5xx"),
    /** 502, 503 or 504, or no response at all. */
    GATEWAY_ERROR("gateway-error"),
    /** The connection to the endpoint could not be made. */
    CONNECT_FAILURE("connect-failure"),
    /** The endpoint closed or reset the stream before responding, or timed out a try. */
    RESET("reset"),
    /** A 409 response. */
    RETRIABLE_4XX("retriable-4xx"),
    /** A status listed in {@code retriableStatusCodes}. */
    RETRIABLE_STATUS_CODES("retriable-status-codes");

    private final String token;

    RetryOn(String token) {
      this.token = token;
    }

    /** The condition's name in Envoy's {@code retry_on}. */
    public String token() {
      return token;
    }

    /** The condition named {@code token}, if this proxy knows it. */
    public static Optional<RetryOn> parse(String token) {
      String t = token.trim().toLowerCase(Locale.ROOT);
      for (RetryOn r : values()) {
        if (r.token.equals(t)) {
          return Optional.of(r);
        }
      }
      return Optional.empty();
    }
  }
}
