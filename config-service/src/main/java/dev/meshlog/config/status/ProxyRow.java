package dev.meshlog.config.status;

import java.time.Instant;
import java.util.List;

import dev.meshlog.events.status.ProxyKind;
import dev.meshlog.events.status.ProxyState;

/**
 * One proxy in {@code proxy-status}: who it is and how each view it tracks stands.
 *
 * @param proxyId the proxy id
 * @param service the service it fronts
 * @param namespace the service's namespace
 * @param workloadVersion the workload's version label
 * @param cluster its cluster
 * @param kind SIDECAR or GATEWAY
 * @param proxyState STARTING, RUNNING, DRAINING or STOPPED
 * @param reportedAt when it last reported
 * @param views its state per view host, sorted by host
 */
public record ProxyRow(String proxyId, String service, String namespace, String workloadVersion,
                       String cluster, ProxyKind kind, ProxyState proxyState, Instant reportedAt,
                       List<ViewSync> views) {

  public ProxyRow {
    views = List.copyOf(views);
  }

  /** How many of its views are in {@code state}. */
  public long count(SyncState state) {
    return views.stream().filter(v -> v.state() == state).count();
  }

  /** The worst state among its views (NACK, then STALE, then UNKNOWN); SYNCED when all are. */
  public SyncState overall() {
    for (SyncState worst : List.of(SyncState.NACK, SyncState.STALE, SyncState.UNKNOWN)) {
      if (count(worst) > 0) {
        return worst;
      }
    }
    return SyncState.SYNCED;
  }
}
