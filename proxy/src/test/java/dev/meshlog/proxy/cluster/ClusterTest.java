package dev.meshlog.proxy.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import dev.meshlog.proxy.config.ClusterKey;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.LbConfig;
import dev.meshlog.proxy.config.OutlierConfig;
import dev.meshlog.proxy.config.PoolLimits;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.config.TrafficPolicyConfig;
import dev.meshlog.proxy.lb.PickContext;
import dev.meshlog.proxy.lb.Upstream;
import dev.meshlog.proxy.resilience.AttemptOutcome;
import dev.meshlog.proxy.support.MutableClock;
import org.junit.jupiter.api.Test;

class ClusterTest {

  private static final String HOST = "reviews.default.svc.cluster.local";
  private static final ClusterKey ALL = new ClusterKey(HOST, null);
  private static final ProxyIdentity ME =
      ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1");
  private static final OutlierConfig EJECT_AFTER_2 = new OutlierConfig(2, 0,
      Duration.ofSeconds(10), Duration.ofSeconds(30), 100, 0);

  private final MutableClock clock = new MutableClock();
  private final PickContext ctx = new PickContext(null, new Random(1));

  private static EndpointConfig ep(int port, String zone, String cluster, boolean healthy) {
    return new EndpointConfig(null, "127.0.0.1", port, Map.of(), "", zone, cluster, healthy, 1);
  }

  private Dataplane dataplane(TrafficPolicyConfig policy, EndpointConfig... endpoints) {
    ServiceConfig s = new ServiceConfig(HOST, null, null, 1, List.of(), List.of(endpoints),
        policy, Map.of(), List.of(), List.of());
    return Dataplane.build(ProxySnapshot.of(s), null, ME, clock);
  }

  private static TrafficPolicyConfig policy(OutlierConfig outlier) {
    return new TrafficPolicyConfig(LbConfig.DEFAULT, PoolLimits.UNLIMITED, outlier);
  }

  private Set<Integer> portsPicked(Cluster c, int n) {
    return IntStream.range(0, n).mapToObj(i -> c.pick(ctx).orElseThrow())
        .map(u -> u.endpoint().port()).collect(Collectors.toSet());
  }

  private void fail(Cluster c, int port, int times) {
    Upstream u = c.members().stream().filter(x -> x.endpoint().port() == port).findFirst()
        .orElseThrow();
    for (int i = 0; i < times; i++) {
      c.record(u, AttemptOutcome.response(503));
    }
  }

  @Test
  void aRetryGoesToAnUntriedEndpointAndLeavesTheLocalityOnlyWhenAllowed() {
    Cluster c = dataplane(TrafficPolicyConfig.DEFAULT, ep(1, "zone-a", "c1", true),
        ep(2, "zone-a", "c1", true), ep(3, "zone-b", "c1", true)).cluster(ALL);
    Upstream one = c.members().stream().filter(u -> u.endpoint().port() == 1).findFirst()
        .orElseThrow();
    Upstream two = c.members().stream().filter(u -> u.endpoint().port() == 2).findFirst()
        .orElseThrow();

    for (int i = 0; i < 20; i++) {
      assertThat(c.pickAvoiding(ctx, List.of(one), false).orElseThrow()).isSameAs(two);
    }
    // Both of zone-a tried: the closest locality again, unless the policy lets retries leave it.
    assertThat(Set.of(c.pickAvoiding(ctx, List.of(one, two), false).orElseThrow().endpoint()
        .port())).isSubsetOf(1, 2);
    assertThat(c.pickAvoiding(ctx, List.of(one, two), true).orElseThrow().endpoint().port())
        .isEqualTo(3);
  }

  @Test
  void prefersEndpointsInTheProxysZone() {
    Cluster c = dataplane(TrafficPolicyConfig.DEFAULT, ep(1, "zone-a", "c1", true),
        ep(2, "zone-b", "c1", true), ep(3, "zone-a", "c2", true)).cluster(ALL);

    assertThat(portsPicked(c, 10)).containsExactly(1);
  }

  @Test
  void failsOverToTheClusterThenElsewhereAsCloserEndpointsAreEjected() {
    Cluster c = dataplane(policy(EJECT_AFTER_2), ep(1, "zone-a", "c1", true),
        ep(2, "zone-b", "c1", true), ep(3, "zone-a", "c2", true),
        ep(4, "zone-b", "c2", true)).cluster(ALL);

    fail(c, 1, 2);
    assertThat(portsPicked(c, 10)).containsExactly(2);
    fail(c, 2, 2);
    assertThat(portsPicked(c, 10)).containsExactly(3);
  }

  @Test
  void failsOverWhenTheRegistryMarksLocalEndpointsUnhealthy() {
    Cluster c = dataplane(TrafficPolicyConfig.DEFAULT, ep(1, "zone-a", "c1", false),
        ep(2, "zone-b", "c1", true)).cluster(ALL);

    assertThat(portsPicked(c, 10)).containsExactly(2);
  }

  @Test
  void comesBackToTheLocalZoneWhenItsEjectionEnds() {
    Cluster c = dataplane(policy(EJECT_AFTER_2), ep(1, "zone-a", "c1", true),
        ep(2, "zone-b", "c1", true)).cluster(ALL);
    fail(c, 1, 2);
    assertThat(portsPicked(c, 5)).containsExactly(2);

    clock.advance(Duration.ofSeconds(30));

    assertThat(portsPicked(c, 5)).containsExactly(1);
  }

  @Test
  void spreadsOverAllEndpointsWhenLocalityIsDisabled() {
    TrafficPolicyConfig noLocality = new TrafficPolicyConfig(
        new LbConfig(LbConfig.Policy.ROUND_ROBIN, null, 1024, false, List.of()),
        PoolLimits.UNLIMITED, OutlierConfig.DISABLED);
    Cluster c = dataplane(noLocality, ep(1, "zone-a", "c1", true), ep(2, "zone-b", "c2", true))
        .cluster(ALL);

    assertThat(portsPicked(c, 4)).containsExactlyInAnyOrder(1, 2);
  }

  @Test
  void ranksByFailoverPriorityLabelsInOrder() {
    TrafficPolicyConfig byLabels = new TrafficPolicyConfig(
        new LbConfig(LbConfig.Policy.ROUND_ROBIN, null, 1024, true,
            List.of(ProxyIdentity.CLUSTER_LABEL, ProxyIdentity.ZONE_LABEL)),
        PoolLimits.UNLIMITED, OutlierConfig.DISABLED);
    Cluster c = dataplane(byLabels, ep(1, "zone-b", "c1", true), ep(2, "zone-a", "c2", true))
        .cluster(ALL);

    assertThat(portsPicked(c, 4)).containsExactly(1);
  }

  @Test
  void findsNoEndpointWhenNoneIsUsable() {
    Cluster c = dataplane(TrafficPolicyConfig.DEFAULT, ep(1, "zone-a", "c1", false)).cluster(ALL);

    assertThat(c.pick(ctx)).isEmpty();
  }

  @Test
  void usesEveryEndpointWhenTooFewAreHealthy() {
    OutlierConfig panicBelow50 = new OutlierConfig(0, 0, Duration.ofSeconds(10),
        Duration.ofSeconds(30), 0, 50);
    Cluster c = dataplane(policy(panicBelow50), ep(1, "zone-a", "c1", false),
        ep(2, "zone-a", "c1", false), ep(3, "zone-a", "c1", true)).cluster(ALL);

    assertThat(portsPicked(c, 30)).containsExactlyInAnyOrder(1, 2, 3);
  }

  @Test
  void keepsEjectionsAndLimitsStateAcrossASnapshotSwap() {
    SnapshotHolder holder = new SnapshotHolder(ProxySnapshot.empty(), ME, clock);
    ServiceConfig v1 = new ServiceConfig(HOST, null, null, 1, List.of(),
        List.of(ep(1, "zone-a", "c1", true), ep(2, "zone-a", "c1", true)), policy(EJECT_AFTER_2),
        Map.of(), List.of(), List.of());
    Dataplane first = holder.apply(ProxySnapshot.of(v1));
    fail(first.cluster(ALL), 1, 2);

    ServiceConfig v2 = new ServiceConfig(HOST, null, null, 2, List.of(),
        List.of(ep(1, "zone-a", "c1", true), ep(2, "zone-a", "c1", true),
            ep(3, "zone-a", "c1", true)), policy(EJECT_AFTER_2), Map.of(), List.of(), List.of());
    Dataplane second = holder.apply(ProxySnapshot.of(v2));

    assertThat(portsPicked(second.cluster(ALL), 10)).containsExactlyInAnyOrder(2, 3);
    assertThat(second.cluster(ALL).breaker()).isSameAs(first.cluster(ALL).breaker());
    assertThat(first.snapshot().versions()).containsEntry(HOST, 1L);
    assertThat(holder.current()).isSameAs(second);
  }
}
