package dev.meshlog.proxy.cluster;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import dev.meshlog.proxy.config.ClusterKey;
import dev.meshlog.proxy.config.DestinationConfig;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.RouteConfig;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.config.TcpRouteConfig;
import dev.meshlog.proxy.config.TrafficPolicyConfig;
import dev.meshlog.proxy.lb.EndpointStats;
import dev.meshlog.proxy.lb.Upstream;
import dev.meshlog.proxy.resilience.CircuitBreaker;

/**
 * One generation of the proxy's running config: a snapshot and the clusters and split cursors
 * built for it. A request reads one generation and uses it throughout, so it sees the old config
 * or the new, never a mix. Runtime state (requests in flight, ejections, breaker counts) carries
 * over from the previous generation for clusters and endpoints that remain.
 */
public final class Dataplane {

  private final ProxySnapshot snapshot;
  private final ProxyIdentity identity;
  private final Map<ClusterKey, Cluster> clusters;
  private final Map<RouteConfig, AtomicLong> splitCursors;
  private final Map<TcpRouteConfig, AtomicLong> tcpCursors;
  /** The cluster of each http route destination of the snapshot, found without building a key. */
  private final Map<DestinationConfig, Cluster> byDestination;
  private final LoopGuard guard;
  private final List<LoopGuard.Loop> loops;

  private Dataplane(ProxySnapshot snapshot, ProxyIdentity identity,
                    Map<ClusterKey, Cluster> clusters, Map<RouteConfig, AtomicLong> cursors,
                    Map<TcpRouteConfig, AtomicLong> tcpCursors, LoopGuard guard,
                    List<LoopGuard.Loop> loops) {
    this.snapshot = snapshot;
    this.guard = guard;
    this.loops = List.copyOf(loops);
    this.identity = identity;
    this.clusters = clusters;
    this.splitCursors = cursors;
    this.tcpCursors = tcpCursors;
    this.byDestination = new IdentityHashMap<>();
    for (ServiceConfig s : snapshot.services().values()) {
      for (RouteConfig r : s.effectiveRoutes()) {
        for (DestinationConfig d : r.destinations()) {
          Cluster c = clusters.get(d.cluster());
          if (c != null) {
            byDestination.put(d, c);
          }
        }
      }
    }
  }

  /**
   * The generation for {@code snapshot}, reusing {@code previous}'s runtime state where the same
   * cluster and endpoint remain.
   *
   * @param previous the generation being replaced, or {@code null}
   */
  public static Dataplane build(ProxySnapshot snapshot, Dataplane previous, ProxyIdentity me,
                                Clock clock) {
    return build(snapshot, previous, me, clock, LoopGuard.NONE);
  }

  /**
   * The generation for {@code snapshot}, as {@link #build(ProxySnapshot, Dataplane,
   * ProxyIdentity, Clock)}, leaving out of every cluster the endpoints that are one of
   * {@code guard}'s listeners (see {@link #loops()}).
   */
  public static Dataplane build(ProxySnapshot snapshot, Dataplane previous, ProxyIdentity me,
                                Clock clock, LoopGuard guard) {
    Map<ClusterKey, Cluster> clusters = new LinkedHashMap<>();
    Map<RouteConfig, AtomicLong> cursors = new IdentityHashMap<>();
    Map<TcpRouteConfig, AtomicLong> tcpCursors = new IdentityHashMap<>();
    List<LoopGuard.Loop> loops = new ArrayList<>();
    for (ServiceConfig s : snapshot.services().values()) {
      List<LoopGuard.Loop> hostLoops = new ArrayList<>();
      for (EndpointConfig e : s.endpoints()) {
        guard.loopsInto(e).ifPresent(l -> hostLoops.add(new LoopGuard.Loop(s.host(), e, l)));
      }
      loops.addAll(hostLoops);
      List<String> subsets = new ArrayList<>();
      subsets.add(null);
      subsets.addAll(s.subsets().keySet());
      for (String subset : subsets) {
        ClusterKey key = new ClusterKey(s.host(), subset);
        Cluster old = previous == null ? null : previous.clusters.get(key);
        List<EndpointConfig> all = s.endpointsOf(subset);
        List<EndpointConfig> endpoints = all;
        List<LoopGuard.Loop> left = List.of();
        if (!hostLoops.isEmpty()) {
          left = hostLoops.stream().filter(l -> all.contains(l.endpoint())).toList();
          endpoints = all.stream()
              .filter(e -> hostLoops.stream().noneMatch(l -> l.endpoint().equals(e))).toList();
        }
        clusters.put(key, cluster(key, s.policyOf(subset), endpoints, left, old, me, clock));
      }
      for (RouteConfig r : s.routes()) {
        if (r.destinations().size() > 1) {
          cursors.put(r, new AtomicLong());
        }
      }
      for (TcpRouteConfig r : s.tcpRoutes()) {
        if (r.destinations().size() > 1) {
          tcpCursors.put(r, new AtomicLong());
        }
      }
    }
    return new Dataplane(snapshot, me, Map.copyOf(clusters), cursors, tcpCursors, guard, loops);
  }

  private static Cluster cluster(ClusterKey key, TrafficPolicyConfig policy,
                                 List<EndpointConfig> endpoints, List<LoopGuard.Loop> loops,
                                 Cluster old, ProxyIdentity me, Clock clock) {
    Map<String, EndpointStats> oldStats = new HashMap<>();
    if (old != null) {
      old.members().forEach(u -> oldStats.put(u.endpoint().hostPort(), u.stats()));
    }
    List<Upstream> members = new ArrayList<>(endpoints.size());
    for (EndpointConfig e : endpoints) {
      EndpointStats stats = oldStats.getOrDefault(e.hostPort(), new EndpointStats());
      members.add(new Upstream(e, members.size(), Locality.rank(e, me, policy.loadBalancer()),
          stats));
    }
    CircuitBreaker breaker;
    if (old != null) {
      breaker = old.breaker();
      breaker.limits(policy.limits());
    } else {
      breaker = new CircuitBreaker(policy.limits());
    }
    return new Cluster(key, policy, members, loops, breaker, clock);
  }

  /** The snapshot this generation runs. */
  public ProxySnapshot snapshot() {
    return snapshot;
  }

  /** The proxy's own listeners this generation's clusters were checked against. */
  public LoopGuard guard() {
    return guard;
  }

  /**
   * Each endpoint of the snapshot left out of its host's clusters because it is one of this
   * proxy's own listeners that route by Host: a request sent there would come back to this
   * proxy, be routed there again, and so on. Empty in a sound config.
   */
  public List<LoopGuard.Loop> loops() {
    return loops;
  }

  /** The proxy this generation runs in. */
  public ProxyIdentity identity() {
    return identity;
  }

  /** The cluster for {@code key}; every host and subset of the snapshot has one. */
  public Cluster cluster(ClusterKey key) {
    return clusters.get(key);
  }

  /**
   * The cluster {@code destination} sends to (of a route of this generation's snapshot, or any
   * other naming a host and subset the snapshot has), or {@code null}.
   */
  public Cluster cluster(DestinationConfig destination) {
    Cluster c = byDestination.get(destination);
    return c != null ? c : clusters.get(destination.cluster());
  }

  /** Every cluster, by name. */
  public Map<ClusterKey, Cluster> clusters() {
    return clusters;
  }

  /**
   * The destination taking the next request of {@code route}, following its weighted split
   * exactly: over each period of the split, each destination gets its weight's share.
   */
  public DestinationConfig nextDestination(RouteConfig route) {
    List<DestinationConfig> d = route.destinations();
    if (d.size() == 1) {
      return d.get(0);
    }
    AtomicLong cursor = splitCursors.get(route);
    long n = cursor == null ? 0 : cursor.getAndIncrement();
    return d.get(route.split().pick(n));
  }

  /** The destination taking the next connection of {@code route}, split like http routes. */
  public DestinationConfig nextDestination(TcpRouteConfig route) {
    List<DestinationConfig> d = route.destinations();
    if (d.size() == 1) {
      return d.get(0);
    }
    AtomicLong cursor = tcpCursors.get(route);
    long n = cursor == null ? 0 : cursor.getAndIncrement();
    return d.get(route.split().pick(n));
  }
}
