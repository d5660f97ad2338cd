package dev.meshlog.proxy.config;

import java.util.List;
import java.util.Objects;

/**
 * How a cluster spreads requests over its endpoints.
 *
 * @param policy the balancing algorithm
 * @param hashKey what a {@link Policy#RING_HASH} hashes, else {@code null}
 * @param minimumRingSize virtual nodes on the hash ring, in total
 * @param localityEnabled prefer endpoints close to the proxy, failing over by distance
 * @param failoverPriorities labels compared in order to rank endpoints; empty = zone, then cluster
 */
public record LbConfig(Policy policy, HashKey hashKey, long minimumRingSize,
                       boolean localityEnabled, List<String> failoverPriorities) {

  /** Round robin, locality-aware: the default. */
  public static final LbConfig DEFAULT =
      new LbConfig(Policy.ROUND_ROBIN, null, 1024, true, List.of());

  /** A load-balancing algorithm. */
  public enum Policy {
    /** Each endpoint in turn. */
    ROUND_ROBIN,
    /** The less busy of two random endpoints. */
    LEAST_REQUEST,
    /** A uniformly random endpoint. */
    RANDOM,
    /** Consistent hashing of a request attribute on a ring. */
    RING_HASH
  }

  public LbConfig {
    Objects.requireNonNull(policy, "policy");
    failoverPriorities = List.copyOf(failoverPriorities);
    if (policy == Policy.RING_HASH) {
      Objects.requireNonNull(hashKey, "hashKey");
    }
  }

  /**
   * What a consistent-hash balancer hashes; exactly one of the fields is set.
   *
   * @param header a request header name (lower case), or {@code null}
   * @param cookie a cookie name, or {@code null}
   * @param cookieTtlMillis when set, a missing cookie is generated and set with this lifetime
   * @param sourceIp hash the caller's IP address
   * @param queryParameter a query parameter's name: its first value is hashed, or {@code null}
   */
  public record HashKey(String header, String cookie, Long cookieTtlMillis, boolean sourceIp,
                        String queryParameter) {

    /** A key that is not a query parameter. */
    public HashKey(String header, String cookie, Long cookieTtlMillis, boolean sourceIp) {
      this(header, cookie, cookieTtlMillis, sourceIp, null);
    }
  }
}
