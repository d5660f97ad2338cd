package dev.meshlog.config.status;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * How far one config change has spread: the views it changed, the proxies tracking them, and the
 * time from the command to the last ACK once every proxy has acknowledged.
 *
 * @param commandId the command that made the change
 * @param resource the resource changed, {@code Kind/namespace/name}
 * @param revision the resource's revision after the change
 * @param requestedAt when the command was sent
 * @param hosts the view hosts whose latest version this change produced, sorted
 * @param expected how many (proxy, host) pairs must acknowledge
 * @param acked how many have acknowledged the change's version (or a newer one)
 * @param nacked how many rejected it
 * @param pendingProxies the proxies still to acknowledge (NACKs included), sorted
 * @param lastAckAt the latest acknowledgement so far, or null
 */
public record ChangeConvergence(String commandId, String resource, long revision,
                                Instant requestedAt, List<String> hosts, int expected, int acked,
                                int nacked, List<String> pendingProxies, Instant lastAckAt) {

  public ChangeConvergence {
    hosts = List.copyOf(hosts);
    pendingProxies = List.copyOf(pendingProxies);
  }

  /** Whether every proxy that tracks the changed views acknowledged (and at least one does). */
  public boolean converged() {
    return expected > 0 && acked == expected;
  }

  /** Whether some proxy tracking the changed views has not acknowledged yet. */
  public boolean pending() {
    return acked < expected;
  }

  /** Command to last ACK, once converged; null while pending or when no proxy tracks the views. */
  public Duration convergenceTime() {
    return converged() && lastAckAt != null ? Duration.between(requestedAt, lastAckAt) : null;
  }
}
