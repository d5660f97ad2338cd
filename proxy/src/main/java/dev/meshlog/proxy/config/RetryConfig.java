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
 * @param retryRemoteLocalities whether a retry may go to an endpoint outside the closest
 *     locality once every endpoint there was tried (Istio's {@code retryRemoteLocalities})
 * @param ignorePreviousHosts whether each retry goes to an endpoint no earlier try went to, while
 *     there is one (Istio's {@code retryIgnorePreviousHosts}, true by default); false lets the
 *     balancer pick as for a first try
 */
public record RetryConfig(int attempts, Duration perTryTimeout, Set<RetryOn> retryOn,
                          Set<Integer> retriableStatusCodes, Duration backoffBase,
                          Duration backoffMax, boolean retryRemoteLocalities,
                          boolean ignorePreviousHosts) {

  /** A policy whose retries avoid the endpoints already tried. */
  public RetryConfig(int attempts, Duration perTryTimeout, Set<RetryOn> retryOn,
                     Set<Integer> retriableStatusCodes, Duration backoffBase,
                     Duration backoffMax, boolean retryRemoteLocalities) {
    this(attempts, perTryTimeout, retryOn, retriableStatusCodes, backoffBase, backoffMax,
        retryRemoteLocalities, true);
  }

  /** A policy whose retries stay in the closest locality that has endpoints. */
  public RetryConfig(int attempts, Duration perTryTimeout, Set<RetryOn> retryOn,
                     Set<Integer> retriableStatusCodes, Duration backoffBase,
                     Duration backoffMax) {
    this(attempts, perTryTimeout, retryOn, retriableStatusCodes, backoffBase, backoffMax, false);
  }

  /** No retries. */
  public static final RetryConfig NONE = new RetryConfig(0, Duration.ZERO, Set.of(), Set.of(),
      Duration.ofMillis(25), Duration.ofMillis(250));

  /**
   * Istio's retry policy for a route that sets no {@code retries} (its {@code DefaultPolicy}):
   * two retries on a failed connect, a refused stream, a 503, or gRPC CANCELLED / UNAVAILABLE —
   * answers where the app did not act on the request or said to try elsewhere — each to an
   * endpoint no earlier try went to when there is one. {@code retries: {attempts: 0}} turns it
   * off.
   */
  public static final RetryConfig ISTIO_DEFAULT = new RetryConfig(2, Duration.ZERO,
      EnumSet.of(RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM, RetryOn.RETRIABLE_STATUS_CODES,
          RetryOn.GRPC_CANCELLED, RetryOn.GRPC_UNAVAILABLE),
      Set.of(503), Duration.ofMillis(25), Duration.ofMillis(250));

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
    /**
     * The endpoint closed or reset the stream before responding, or timed out a try: the app may
     * have acted on the request already.
     */
    RESET("reset"),
    /**
     * The endpoint said it did not process the stream: HTTP/2 RST_STREAM REFUSED_STREAM, or a
     * stream above the last stream id of the GOAWAY that closed it (Envoy's
     * {@code refused-stream}; safe to retry whatever the method).
     */
    REFUSED_STREAM("refused-stream"),
    /** A 409 response. */
    RETRIABLE_4XX("retriable-4xx"),
    /** A status listed in {@code retriableStatusCodes}. */
    RETRIABLE_STATUS_CODES("retriable-status-codes"),
    /** A gRPC answer with grpc-status CANCELLED (1) in its headers. */
    GRPC_CANCELLED("cancelled", 1),
    /** A gRPC answer with grpc-status DEADLINE_EXCEEDED (4) in its headers. */
    GRPC_DEADLINE_EXCEEDED("deadline-exceeded", 4),
    /** A gRPC answer with grpc-status RESOURCE_EXHAUSTED (8) in its headers. */
    GRPC_RESOURCE_EXHAUSTED("resource-exhausted", 8),
    /** A gRPC answer with grpc-status INTERNAL (13) in its headers. */
    GRPC_INTERNAL("internal", 13),
    /** A gRPC answer with grpc-status UNAVAILABLE (14) in its headers. */
    GRPC_UNAVAILABLE("unavailable", 14);

    private final String token;
    private final int grpcStatus;

    RetryOn(String token) {
      this(token, -1);
    }

    RetryOn(String token, int grpcStatus) {
      this.token = token;
      this.grpcStatus = grpcStatus;
    }

    /**
     * The gRPC status this condition retries (Envoy looks at grpc-status in the response
     * headers, i.e. trailers-only answers), or -1 for an HTTP condition.
     */
    public int grpcStatus() {
      return grpcStatus;
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
