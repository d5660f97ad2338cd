package dev.meshlog.config.status;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import dev.meshlog.events.discovery.ChangeTrigger;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.events.status.ViewAck;

/**
 * Convergence of config changes, from the latest views (each names the change that produced it,
 * {@code triggeredBy}) and the latest proxy statuses: per change, the time from its command's
 * {@code requestedAt} to the last ACK of the views it changed by the proxies that track those
 * hosts. Only changes that are still the latest of some view can be measured. Pure.
 */
public final class Convergence {

  private Convergence() {}

  /**
   * One entry per change, most recent first.
   *
   * @param views the latest view per host
   * @param statuses the latest status per proxy
   */
  public static List<ChangeConvergence> of(Map<String, ServiceView> views,
                                           Collection<ProxyStatus> statuses) {
    Map<String, List<ServiceView>> byChange = new LinkedHashMap<>();
    for (ServiceView view : views.values()) {
      if (view.getTriggeredBy() != null) {
        byChange.computeIfAbsent(view.getTriggeredBy().getCommandId(), k -> new ArrayList<>())
            .add(view);
      }
    }
    List<ChangeConvergence> changes = new ArrayList<>();
    for (List<ServiceView> changed : byChange.values()) {
      changes.add(measure(changed, statuses));
    }
    changes.sort(Comparator.comparing(ChangeConvergence::requestedAt).reversed()
        .thenComparing(ChangeConvergence::commandId));
    return changes;
  }

  private static ChangeConvergence measure(List<ServiceView> changed,
                                           Collection<ProxyStatus> statuses) {
    ChangeTrigger trigger = changed.get(0).getTriggeredBy();
    TreeSet<String> hosts = new TreeSet<>();
    int expected = 0;
    int acked = 0;
    int nacked = 0;
    TreeSet<String> pending = new TreeSet<>();
    Instant lastAck = null;
    for (ServiceView view : changed) {
      hosts.add(view.getHost());
      for (ProxyStatus status : statuses) {
        for (ViewAck ack : status.getViews()) {
          if (!ack.getHost().equals(view.getHost())) {
            continue;
          }
          expected++;
          if (ack.getAck() == AckState.ACK && ack.getVersion() >= view.getVersion()) {
            acked++;
            if (lastAck == null || ack.getUpdatedAt().isAfter(lastAck)) {
              lastAck = ack.getUpdatedAt();
            }
          } else {
            if (ack.getAck() == AckState.NACK && ack.getVersion() >= view.getVersion()) {
              nacked++;
            }
            pending.add(status.getProxyId());
          }
        }
      }
    }
    return new ChangeConvergence(trigger.getCommandId(), trigger.getResource(),
        trigger.getRevision(), trigger.getRequestedAt(), List.copyOf(hosts), expected, acked,
        nacked, List.copyOf(pending), lastAck);
  }
}
