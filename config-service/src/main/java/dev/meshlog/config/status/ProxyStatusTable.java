package dev.meshlog.config.status;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.events.status.ViewAck;

/**
 * Compares what each proxy reports with the latest views: one {@link ProxyRow} per proxy, each
 * view SYNCED (acknowledged the latest version), STALE (a newer version exists, not
 * acknowledged) or NACK (rejected, with the proxy's error). Pure.
 */
public final class ProxyStatusTable {

  private ProxyStatusTable() {}

  /**
   * The rows, sorted by proxy id.
   *
   * @param views the latest view per host
   * @param statuses the latest status per proxy
   */
  public static List<ProxyRow> rows(Map<String, ServiceView> views,
                                    Collection<ProxyStatus> statuses) {
    List<ProxyRow> rows = new ArrayList<>();
    for (ProxyStatus status : statuses) {
      List<ViewSync> syncs = new ArrayList<>();
      for (ViewAck ack : status.getViews()) {
        ServiceView latest = views.get(ack.getHost());
        syncs.add(sync(ack, latest == null ? null : latest.getVersion()));
      }
      syncs.sort(Comparator.comparing(ViewSync::host));
      rows.add(new ProxyRow(status.getProxyId(), status.getService(), status.getNamespace(),
          status.getWorkloadVersion(), status.getCluster(), status.getKind(), status.getState(),
          status.getReportedAt(), syncs));
    }
    rows.sort(Comparator.comparing(ProxyRow::proxyId));
    return rows;
  }

  /** The state of one ACK or NACK against the latest version ({@code null} = none known). */
  static ViewSync sync(ViewAck ack, Long latestVersion) {
    SyncState state;
    if (ack.getAck() == AckState.NACK) {
      state = SyncState.NACK;
    } else if (latestVersion == null) {
      state = SyncState.UNKNOWN;
    } else if (ack.getAck() == AckState.ACK && ack.getVersion() >= latestVersion) {
      state = SyncState.SYNCED;
    } else {
      state = SyncState.STALE;
    }
    return new ViewSync(ack.getHost(), state, latestVersion, ack.getVersion(),
        ack.getAppliedVersion(), state == SyncState.NACK ? ack.getErrorDetail() : null,
        ack.getUpdatedAt());
  }
}
