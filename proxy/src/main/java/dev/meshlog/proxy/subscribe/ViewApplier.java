package dev.meshlog.proxy.subscribe;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TcpRoute;
import dev.meshlog.events.discovery.TlsRoute;
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
 * host was missing are retried when the rest changes. Only hosts the proxy needs enter the
 * snapshot: a sidecar's own host and its egress hosts (every host without a Sidecar resource);
 * a gateway's own view and the hosts its routes lead to, transitively. Not thread-safe: one
 * subscriber thread owns it.
 */
public final class ViewApplier {

  private final SnapshotHolder holder;
  private final String ownHost;
  private final String ownNamespace;
  private final boolean gateway;
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
    this(holder, ownHost, ownNamespace, false, clock);
  }

  private ViewApplier(SnapshotHolder holder, String ownHost, String ownNamespace,
                      boolean gateway, Clock clock) {
    this.holder = holder;
    this.ownHost = ownHost;
    this.ownNamespace = ownNamespace;
    this.gateway = gateway;
    this.clock = clock;
  }

  /**
   * An applier for a gateway whose view is {@code gatewayHost}
   * ({@code gateway.<name>.<namespace>}): it needs that view and the hosts its routes lead to.
   */
  public static ViewApplier forGateway(SnapshotHolder holder, String gatewayHost,
                                       String namespace, Clock clock) {
    return new ViewApplier(holder, gatewayHost, namespace, true, clock);
  }

  /** The host of the proxy's own view (its service's, or its gateway's). */
  public String ownHost() {
    return ownHost;
  }

  /**
   * The hosts whose views the proxy needs, as far as the views seen so far tell: empty when it
   * needs every host (a sidecar without egress hosts, or with wildcard ones), else its own host
   * and the exact hosts it calls. The subscriber reads only the partitions these live on.
   */
  public Optional<Set<String>> neededHosts() {
    if (gateway) {
      return Optional.of(closure());
    }
    ServiceView own = latest.get(ownHost);
    if (own == null) {
      return Optional.empty();
    }
    Optional<Set<String>> exact = egress().exactHosts();
    if (exact.isEmpty()) {
      return Optional.empty();
    }
    Set<String> hosts = new TreeSet<>(exact.get());
    hosts.add(ownHost);
    return Optional.of(hosts);
  }

  /**
   * Forgets the latest views of {@code hosts} (the subscriber stopped reading their partitions)
   * and drops them from the snapshot and the ACK list.
   */
  public boolean forget(Set<String> hosts) {
    Set<String> gone = new TreeSet<>(hosts);
    gone.remove(ownHost);
    gone.retainAll(latest.keySet());
    if (gone.isEmpty()) {
      return false;
    }
    gone.forEach(latest::remove);
    boolean changed = apply(List.of());
    acks.keySet().removeIf(h -> gone.contains(h) && !applied.containsKey(h));
    return changed;
  }

  /** The hosts whose latest views were seen (and not forgotten). */
  public Set<String> knownHosts() {
    return new TreeSet<>(latest.keySet());
  }

  /** The gateway's view and every host reachable from it by route destinations and mirrors. */
  private Set<String> closure() {
    Set<String> seen = new TreeSet<>();
    java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>();
    todo.add(ownHost);
    while (!todo.isEmpty()) {
      String host = todo.poll();
      if (!seen.add(host)) {
        continue;
      }
      ServiceView v = latest.get(host);
      if (v == null) {
        continue;
      }
      for (HttpRoute r : v.getHttpRoutes()) {
        r.getDestinations().forEach(d -> todo.add(d.getDestination().getHost()));
        if (r.getMirror() != null) {
          todo.add(r.getMirror().getHost());
        }
      }
      for (TcpRoute r : v.getTcpRoutes()) {
        r.getDestinations().forEach(d -> todo.add(d.getDestination().getHost()));
      }
      for (TlsRoute r : v.getTlsRoutes()) {
        r.getDestinations().forEach(d -> todo.add(d.getDestination().getHost()));
      }
    }
    return seen;
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
    Predicate<ServiceView> wants = wants();
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
      if (!latest.containsKey(host) || !wants.test(applied.get(host))) {
        pending.add(host);
      }
    }
    while (progress && !pending.isEmpty()) {
      progress = false;
      for (String host : new ArrayList<>(pending)) {
        if (tryOne(host, accepted, wants)) {
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

  /** Which views the proxy wants in its snapshot (its own view is always wanted). */
  private Predicate<ServiceView> wants() {
    if (gateway) {
      Set<String> needed = closure();
      return v -> needed.contains(v.getHost());
    }
    EgressFilter egress = egress();
    return v -> egress.wants(v.getHost(), v.getNamespace());
  }

  /** Tries to bring {@code host} in line with its latest view; false when it must wait. */
  private boolean tryOne(String host, Map<String, ServiceConfig> accepted,
                         Predicate<ServiceView> wants) {
    ServiceView view = latest.get(host);
    boolean wanted = view != null && (host.equals(ownHost) || wants.test(view));
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

  /**
   * Records that a view of {@code host} arrived but was refused before decoding (too large for
   * this proxy), with the reason; the host's last good version keeps serving.
   */
  public void refused(String host, String reason) {
    nack(host, 0, reason);
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
