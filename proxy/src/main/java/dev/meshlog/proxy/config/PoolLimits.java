package dev.meshlog.proxy.config;

import java.time.Duration;

/**
 * Circuit-breaking limits of one cluster (DestinationRule connectionPool); unset ones are
 * {@link Integer#MAX_VALUE}.
 *
 * @param maxConnections requests that may hold an upstream connection at once
 * @param maxPendingRequests requests that may wait for a connection
 * @param maxRequests requests in flight, waiting ones included
 * @param maxRetries retries in flight across the cluster
 * @param connectTimeout TCP connect timeout
 * @param idleTimeout close upstream connections idle this long; zero = the proxy's default
 * @param maxRequestsPerConnection requests one upstream connection carries before it is
 *     closed; 0 = unlimited
 */
public record PoolLimits(int maxConnections, int maxPendingRequests, int maxRequests,
                         int maxRetries, Duration connectTimeout, Duration idleTimeout,
                         int maxRequestsPerConnection) {

  /** No limits; Istio's defaults. */
  public static final PoolLimits UNLIMITED = new PoolLimits(Integer.MAX_VALUE, Integer.MAX_VALUE,
      Integer.MAX_VALUE, Integer.MAX_VALUE, Duration.ofSeconds(10), Duration.ZERO, 0);

  /** Limits without a cap on requests per connection. */
  public PoolLimits(int maxConnections, int maxPendingRequests, int maxRequests, int maxRetries,
                    Duration connectTimeout, Duration idleTimeout) {
    this(maxConnections, maxPendingRequests, maxRequests, maxRetries, connectTimeout,
        idleTimeout, 0);
  }
}
