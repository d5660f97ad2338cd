package dev.meshlog.proxy.cluster;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.meshlog.proxy.config.ClusterKey;
import dev.meshlog.proxy.config.LbConfig;
import dev.meshlog.proxy.config.TrafficPolicyConfig;
import dev.meshlog.proxy.lb.LeastRequest;
import dev.meshlog.proxy.lb.LoadBalancer;
import dev.meshlog.proxy.lb.PickContext;
import dev.meshlog.proxy.lb.RandomChoice;
import dev.meshlog.proxy.lb.RingHash;
import dev.meshlog.proxy.lb.RoundRobin;
import dev.meshlog.proxy.lb.Upstream;
import dev.meshlog.proxy.resilience.AttemptOutcome;
import dev.meshlog.proxy.resilience.CircuitBreaker;
import dev.meshlog.proxy.resilience.OutlierDetector;
import dev.meshlog.proxy.resilience.OutlierState;

/**
 * The endpoints behind one host or subset with everything that decides which one serves a
 * request: registry health, outlier ejection, locality ranks and the load balancer; plus the
 * circuit breaker guarding them.
 */
public final class Cluster {

  /** The name of the cluster of requests passed through to a host outside the mesh (Istio's). */
  public static final String PASSTHROUGH = "PassthroughCluster";

  private final ClusterKey key;
  private final TrafficPolicyConfig policy;
  private final List<Upstream> members;
  private final List<OutlierState> outlierStates;
  private final LoadBalancer balancer;
  private final CircuitBreaker breaker;
  private final OutlierDetector outlier;
  private final Clock clock;
  private final int maxRank;
  /** Whether every member has the same locality rank (no failover order among them). */
  private final boolean oneRank;
  /** The name the access log prints for every request: built once. */
  private final String name;
  /** Endpoints of the config left out because they are this proxy's own listeners. */
  private final List<LoopGuard.Loop> loops;

  Cluster(ClusterKey key, TrafficPolicyConfig policy, List<Upstream> members,
          CircuitBreaker breaker, Clock clock) {
    this(key, policy, members, List.of(), breaker, clock);
  }

  Cluster(ClusterKey key, TrafficPolicyConfig policy, List<Upstream> members,
          List<LoopGuard.Loop> loops, CircuitBreaker breaker, Clock clock) {
    this(key, key.toString(), policy, members, loops, breaker, clock);
  }

  private Cluster(ClusterKey key, String name, TrafficPolicyConfig policy, List<Upstream> members,
                  List<LoopGuard.Loop> loops, CircuitBreaker breaker, Clock clock) {
    this.key = key;
    this.loops = List.copyOf(loops);
    this.policy = policy;
    this.members = List.copyOf(members);
    this.outlierStates = members.stream().map(u -> u.stats().outlier()).toList();
    this.breaker = breaker;
    this.clock = clock;
    this.outlier = new OutlierDetector(policy.outlierDetection(), clock);
    this.balancer = balancerFor(policy.loadBalancer(), this.members);
    this.maxRank = members.stream().mapToInt(Upstream::rank).max().orElse(0);
    this.oneRank = members.stream().mapToInt(Upstream::rank).distinct().count() <= 1;
    this.name = name;
  }

  /**
   * A cluster of one fixed endpoint with the default policy: the local app behind the inbound
   * listener.
   */
  public static Cluster fixed(ClusterKey key, dev.meshlog.proxy.config.EndpointConfig endpoint,
                              Clock clock) {
    Upstream u = new Upstream(endpoint, 0, 0, new dev.meshlog.proxy.lb.EndpointStats());
    return new Cluster(key, TrafficPolicyConfig.DEFAULT, List.of(u),
        new CircuitBreaker(TrafficPolicyConfig.DEFAULT.limits()), clock);
  }

  /**
   * Istio's {@code PassthroughCluster} for one request: the one endpoint a host outside the mesh
   * resolved to, with the default policy (no outlier detection, the default limits), named
   * {@code PassthroughCluster} in the access log as Envoy names it.
   */
  public static Cluster passthrough(dev.meshlog.proxy.config.EndpointConfig endpoint,
                                    Clock clock) {
    Upstream u = new Upstream(endpoint, 0, 0, new dev.meshlog.proxy.lb.EndpointStats());
    return new Cluster(new ClusterKey(PASSTHROUGH, null), PASSTHROUGH,
        TrafficPolicyConfig.DEFAULT, List.of(u), List.of(),
        new CircuitBreaker(TrafficPolicyConfig.DEFAULT.limits()), clock);
  }

  /**
   * A load balancer for {@code lb} over {@code members}; round robin and random honour endpoint
   * weights when the members' weights differ.
   */
  public static LoadBalancer balancerFor(LbConfig lb, List<Upstream> members) {
    boolean weighted = members.stream().mapToInt(u -> u.endpoint().weight()).distinct()
        .count() > 1;
    return switch (lb.policy()) {
      case ROUND_ROBIN -> new RoundRobin(weighted);
      case LEAST_REQUEST -> new LeastRequest();
      case RANDOM -> new RandomChoice(weighted);
      case RING_HASH -> new RingHash(members, lb.minimumRingSize());
    };
  }

  /** The cluster's name. */
  public ClusterKey key() {
    return key;
  }

  /** Its traffic policy. */
  public TrafficPolicyConfig policy() {
    return policy;
  }

  /** Every endpoint of the cluster, usable or not. */
  public List<Upstream> members() {
    return members;
  }

  /**
   * The endpoints the config names that are not among {@link #members()} because each is one of
   * this proxy's own listeners that route by Host (a request loop), with that listener.
   */
  public List<LoopGuard.Loop> loops() {
    return loops;
  }

  /** Its circuit breaker. */
  public CircuitBreaker breaker() {
    return breaker;
  }

  /** Whether {@code u} may take requests now: healthy in the registry and not ejected. */
  public boolean usable(Upstream u) {
    return u.endpoint().healthy() && !outlier.isEjected(u.stats().outlier());
  }

  /** Whether outlier detection has {@code u} ejected now. */
  public boolean ejected(Upstream u) {
    return outlier.isEjected(u.stats().outlier());
  }

  /**
   * The endpoints a request may go to now: the usable ones of the closest locality rank that has
   * any; every endpoint when fewer than {@code minHealthPercent} are usable (panic mode).
   */
  public List<Upstream> candidates() {
    if (members.isEmpty()) {
      return List.of();
    }
    long now = clock.millis();
    // The common case, every member usable and none closer than another, allocates nothing.
    if (oneRank && allUsable(now)) {
      return members;
    }
    List<Upstream> usable = new ArrayList<>(members.size());
    int bestRank = Integer.MAX_VALUE;
    for (Upstream u : members) {
      if (u.endpoint().healthy() && !u.stats().outlier().ejectedAt(now)) {
        usable.add(u);
        bestRank = Math.min(bestRank, u.rank());
      }
    }
    int minHealth = policy.outlierDetection().minHealthPercent();
    if (minHealth > 0 && 100.0 * usable.size() / members.size() < minHealth) {
      return members;
    }
    if (usable.isEmpty() || maxRank == 0) {
      return usable;
    }
    List<Upstream> closest = new ArrayList<>(usable.size());
    for (Upstream u : usable) {
      if (u.rank() == bestRank) {
        closest.add(u);
      }
    }
    return closest;
  }

  private boolean allUsable(long now) {
    for (int i = 0; i < members.size(); i++) {
      Upstream u = members.get(i);
      if (!u.endpoint().healthy() || u.stats().outlier().ejectedAt(now)) {
        return false;
      }
    }
    return true;
  }

  /** The endpoint for a request, or empty when none is usable (a 503 with flag UH). */
  public Optional<Upstream> pick(PickContext context) {
    List<Upstream> candidates = candidates();
    return candidates.isEmpty() ? Optional.empty()
        : Optional.of(balancer.choose(candidates, context));
  }

  /**
   * A retry's endpoint: as {@link #pick}, among the candidates no earlier try of the request
   * went to while any is left (Istio's retry policy carries Envoy's {@code previous_hosts}
   * predicate; choosing among the others outright, instead of re-picking a few times, never
   * lands on a tried endpoint by chance). When every candidate was tried and {@code
   * remoteLocalities} allows it (Istio's {@code retryRemoteLocalities}), the usable endpoints of
   * farther localities that no try went to are the candidates. A hash key keeps its endpoint.
   */
  public Optional<Upstream> pickAvoiding(PickContext context, List<Upstream> tried,
                                         boolean remoteLocalities) {
    List<Upstream> candidates = candidates();
    if (candidates.isEmpty()) {
      return Optional.empty();
    }
    if (context.hashKey() == null) {
      List<Upstream> untried = untried(candidates, tried);
      if (untried.isEmpty() && remoteLocalities) {
        long now = clock.millis();
        List<Upstream> usable = new ArrayList<>(members.size());
        for (Upstream u : members) {
          if (u.endpoint().healthy() && !u.stats().outlier().ejectedAt(now)) {
            usable.add(u);
          }
        }
        untried = untried(usable, tried);
      }
      if (!untried.isEmpty()) {
        candidates = untried;
      }
    }
    return Optional.of(balancer.choose(candidates, context));
  }

  private static List<Upstream> untried(List<Upstream> candidates, List<Upstream> tried) {
    List<Upstream> untried = new ArrayList<>(candidates.size());
    for (Upstream u : candidates) {
      if (!tried.contains(u)) {
        untried.add(u);
      }
    }
    return untried;
  }

  /** Records how a try at {@code u} ended; returns true when that ejected it. */
  public boolean record(Upstream u, AttemptOutcome outcome) {
    return outlier.record(u.stats().outlier(), outcome, outlierStates);
  }

  @Override
  public String toString() {
    return name;
  }
}
