package dev.meshlog.proxy.lb;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.meshlog.proxy.resilience.OutlierState;

/**
 * Runtime state of one endpoint in one cluster, kept across config snapshots while the endpoint
 * stays: requests in flight and outlier-detection state.
 */
public final class EndpointStats {

  final AtomicInteger active = new AtomicInteger();
  final AtomicLong requests = new AtomicLong();
  final AtomicLong failures = new AtomicLong();

  private final OutlierState outlier = new OutlierState();

  /** Requests to the endpoint in flight now. */
  public int active() {
    return active.get();
  }

  /** Requests sent to the endpoint since it appeared. */
  public long requests() {
    return requests.get();
  }

  /** Tries that failed (5xx, connect failure, reset, timeout) since it appeared. */
  public long failures() {
    return failures.get();
  }

  /** Its outlier-detection state. */
  public OutlierState outlier() {
    return outlier;
  }

  /** Counts the start of a request to the endpoint. */
  public void begin() {
    active.incrementAndGet();
    requests.incrementAndGet();
  }

  /** Counts the end of a request to the endpoint. */
  public void end(boolean failed) {
    active.decrementAndGet();
    if (failed) {
      failures.incrementAndGet();
    }
  }
}
