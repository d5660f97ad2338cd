package dev.meshlog.proxy.subscribe;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ViewAck;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.InconsistentSnapshotException;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.config.ViewRejectedException;
import dev.meshlog.proxy.config.ViewTranslator;

/**
 * Turns discovery views, as they arrive, into snapshots: each view is translated and checked
 * against the others; a consistent one is applied (ACK), an inconsistent one is refused with the
 * reason (NACK) and the last good version of its host keeps serving. Views NACKed because another
 * host was missing are retried when the rest changes. Only hosts the proxy needs (its own and its
 * egress hosts) enter the snapshot. Not thread-safe: one subscriber thread owns it.
 */
public final class ViewApplier {

  private final SnapshotHolder holder;
  private final String ownHost;
  private final String ownNamespace;
  private final Clock clock;
  private final Map<String, ServiceView> latest = new TreeMap<>();
  private final Map<String, ServiceView> applied = new TreeMap<>();
  private final Map<String, ViewAck> acks = new TreeMap<>();

  /**
   * An applier swapping snapshots into {@code holder}.
   *
   * @param ownHost the fully qualified host of the proxy's own service (its egress list is read
   *     from that view)
   */
  public ViewApplier(SnapshotHolder holder, String ownHost, String ownNamespace, Clock clock) {
    this.holder = holder;
    this.ownHost = ownHost;
    this.ownNamespace = ownNamespace;
    this.clock = clock;
  }

  /** The views of the snapshot in force, by host: what {@link SnapshotStore} saves. */
  public Map<String, ServiceView> appliedViews() {
    return Map.copyOf(applied);
  }

  /** The latest ACK or NACK of every host seen. */
  public List<ViewAck> acks() {
    return List.copyOf(acks.values());
  }

  /**
   * Applies a batch of views in order ({@code null} value = the host was deleted) and swaps in
   * the resulting snapshot if it changed.
   *
   * @return whether the snapshot changed
   */
  public boolean apply(List<Map.Entry<String, ServiceView>> batch) {
    Set<String> touched = new TreeSet<>();
    for (Map.Entry<String, ServiceView> e : batch) {
      ServiceView v = e.getValue();
      if (v == null || v.getRemoved()) {
        latest.remove(e.getKey());
      } else {
        latest.put(e.getKey(), v);
      }
      touched.add(e.getKey());
    }
    ProxySnapshot before = holder.snapshot();
    Map<String, ServiceConfig> accepted = new LinkedHashMap<>(before.services());
    EgressFilter egress = egress();
    boolean progress = true;
    Set<String> pending = new TreeSet<>(touched);
    // Hosts that are wanted but not applied (NACKed earlier or filtered out) get another chance.
    for (Map.Entry<String, ServiceView> e : latest.entrySet()) {
      ServiceView current = applied.get(e.getKey());
      if (current == null || current.getVersion() != e.getValue().getVersion()) {
        pending.add(e.getKey());
      }
    }
    for (String host : applied.keySet()) {
      if (!latest.containsKey(host) || !egress.wants(host, applied.get(host).getNamespace())) {
        pending.add(host);
      }
    }
    while (progress && !pending.isEmpty()) {
      progress = false;
      for (String host : new ArrayList<>(pending)) {
        if (tryOne(host, accepted, egress)) {
          pending.remove(host);
          progress = true;
        }
      }
    }
    if (accepted.equals(before.services())) {
      return false;
    }
    holder.apply(ProxySnapshot.of(accepted.values()));
    return true;
  }

  private EgressFilter egress() {
    ServiceView own = latest.get(ownHost);
    return new EgressFilter(own == null ? List.of() : own.getEgressHosts(), ownNamespace);
  }

  /** Tries to bring {@code host} in line with its latest view; false when it must wait. */
  private boolean tryOne(String host, Map<String, ServiceConfig> accepted, EgressFilter egress) {
    ServiceView view = latest.get(host);
    boolean wanted = view != null && (host.equals(ownHost)
        || egress.wants(host, view.getNamespace()));
    Map<String, ServiceConfig> candidate = new LinkedHashMap<>(accepted);
    if (!wanted) {
      if (!accepted.containsKey(host)) {
        if (view == null) {
          acks.remove(host);
        }
        return true;
      }
      candidate.remove(host);
      try {
        ProxySnapshot.of(candidate.values());
      } catch (InconsistentSnapshotException e) {
        if (view == null) {
          nack(host, deletedVersion(host), "still a destination of: " + e.problemsByHost()
              .keySet() + " (" + e.getMessage() + ")");
        }
        return false;
      }
      accepted.remove(host);
      ServiceView gone = applied.remove(host);
      if (view == null && gone != null) {
        ack(host, gone.getVersion(), null);
      }
      return true;
    }
    ServiceView current = applied.get(host);
    if (current != null && current.getVersion() == view.getVersion() && current.equals(view)) {
      return true;
    }
    ServiceConfig config;
    try {
      config = ViewTranslator.translate(view);
    } catch (ViewRejectedException e) {
      nack(host, view.getVersion(), e.getMessage());
      return true;
    }
    candidate.put(host, config);
    try {
      ProxySnapshot.of(candidate.values());
    } catch (InconsistentSnapshotException e) {
      String own = e.reasonFor(host);
      nack(host, view.getVersion(), own != null ? own
          : "would break " + e.problemsByHost().keySet() + ": " + e.getMessage());
      return false;
    }
    accepted.put(host, config);
    applied.put(host, view);
    ack(host, view.getVersion(), view.getVersion());
    return true;
  }

  /** Records that a view of {@code host} arrived but could not be decoded at all. */
  public void undecodable(String host, String reason) {
    nack(host, 0, "undecodable view: " + reason);
  }

  private long deletedVersion(String host) {
    ServiceView v = applied.get(host);
    return v == null ? 0 : v.getVersion();
  }

  private void ack(String host, long version, Long appliedVersion) {
    acks.put(host, ViewAck.newBuilder().setHost(host).setVersion(version).setAck(AckState.ACK)
        .setAppliedVersion(appliedVersion).setErrorDetail(null).setUpdatedAt(now()).build());
  }

  private void nack(String host, long version, String reason) {
    ServiceView good = applied.get(host);
    ViewAck previous = acks.get(host);
    if (previous != null && previous.getAck() == AckState.NACK && previous.getVersion() == version
        && reason.equals(previous.getErrorDetail())) {
      return;
    }
    acks.put(host, ViewAck.newBuilder().setHost(host).setVersion(version).setAck(AckState.NACK)
        .setAppliedVersion(good == null ? null : good.getVersion()).setErrorDetail(reason)
        .setUpdatedAt(now()).build());
  }

  private Instant now() {
    return Instant.ofEpochMilli(clock.millis());
  }
}
