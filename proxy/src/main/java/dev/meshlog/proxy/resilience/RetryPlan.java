package dev.meshlog.proxy.resilience;

import java.time.Duration;
import java.util.random.RandomGenerator;

import dev.meshlog.proxy.config.RetryConfig;
import dev.meshlog.proxy.config.RetryConfig.RetryOn;

/** Retry decisions of a route, as Envoy makes them: which outcomes to retry, and how long to wait. */
public final class RetryPlan {

  private RetryPlan() {}

  /** Whether {@code outcome} is one {@code config}'s conditions retry. */
  public static boolean retriable(RetryConfig config, AttemptOutcome outcome) {
    var on = config.retryOn();
    if (outcome.noResponse()) {
      if (on.contains(RetryOn.FIVE_XX) || on.contains(RetryOn.GATEWAY_ERROR)
          || on.contains(RetryOn.RESET)) {
        return true;
      }
      return switch (outcome.kind()) {
        case CONNECT_FAILURE -> on.contains(RetryOn.CONNECT_FAILURE);
        // Envoy's refused-stream: the upstream said it did not process the request.
        case REFUSED_STREAM -> on.contains(RetryOn.REFUSED_STREAM);
        default -> false;
      };
    }
    int s = outcome.status();
    if (outcome.grpcStatus() > 0) {
      for (RetryOn r : on) {
        if (r.grpcStatus() == outcome.grpcStatus()) {
          return true;
        }
      }
    }
    return (on.contains(RetryOn.FIVE_XX) && s >= 500)
        || (on.contains(RetryOn.GATEWAY_ERROR) && (s == 502 || s == 503 || s == 504))
        || (on.contains(RetryOn.RETRIABLE_4XX) && s == 409)
        || (on.contains(RetryOn.RETRIABLE_STATUS_CODES) && config.retriableStatusCodes().contains(s));
  }

  /**
   * Whether to retry after try number {@code triesSoFar} (1 = the first try) ended in
   * {@code outcome}, given whether the request body can still be replayed.
   */
  public static boolean shouldRetry(RetryConfig config, AttemptOutcome outcome, int triesSoFar,
                                    boolean bodyReplayable) {
    return bodyReplayable && triesSoFar <= config.attempts() && retriable(config, outcome);
  }

  /**
   * The wait before retry number {@code retry} (1 = the first retry): fully jittered exponential
   * backoff, uniform in {@code [0, min(max, base * (2^retry - 1)))}.
   */
  public static Duration backoff(RetryConfig config, int retry, RandomGenerator random) {
    long base = config.backoffBase().toMillis();
    long max = config.backoffMax().toMillis();
    long multiplier = retry >= 62 ? Long.MAX_VALUE : (1L << Math.max(1, retry)) - 1;
    long ceiling = multiplier > max / Math.max(1, base) ? max : Math.min(max, base * multiplier);
    return Duration.ofMillis(ceiling <= 0 ? 0 : random.nextLong(ceiling));
  }
}
