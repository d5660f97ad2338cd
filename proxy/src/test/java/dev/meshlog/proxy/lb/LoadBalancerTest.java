package dev.meshlog.proxy.lb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import dev.meshlog.proxy.config.EndpointConfig;
import org.junit.jupiter.api.Test;

class LoadBalancerTest {

  private static List<Upstream> upstreams(int n) {
    List<Upstream> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(new Upstream(EndpointConfig.of("10.0.0." + (i + 1), 8080, Map.of(), "", ""), i, 0,
          new EndpointStats()));
    }
    return list;
  }

  private static PickContext ctx(String key) {
    return new PickContext(key, new Random(42));
  }

  @Test
  void roundRobinVisitsEveryCandidateInTurn() {
    List<Upstream> u = upstreams(3);
    RoundRobin rr = new RoundRobin();

    List<Upstream> picks = IntStream.range(0, 6).mapToObj(i -> rr.choose(u, ctx(null))).toList();

    assertThat(picks).containsExactly(u.get(0), u.get(1), u.get(2), u.get(0), u.get(1), u.get(2));
  }

  private static List<Upstream> weighted(int... weights) {
    List<Upstream> list = new ArrayList<>();
    for (int i = 0; i < weights.length; i++) {
      list.add(new Upstream(new EndpointConfig(null, "10.0.0." + (i + 1), 8080, Map.of(), "", "",
          "", true, weights[i]), i, 0, new EndpointStats()));
    }
    return list;
  }

  @Test
  void roundRobinGivesEachEndpointItsWeightsShareInterleaved() {
    List<Upstream> u = weighted(3, 1);
    RoundRobin rr = new RoundRobin(true);

    List<Upstream> picks = IntStream.range(0, 400).mapToObj(i -> rr.choose(u, ctx(null))).toList();

    assertThat(picks.stream().filter(p -> p == u.get(0)).count()).isEqualTo(300);
    assertThat(picks.subList(0, 4)).containsExactly(u.get(0), u.get(0), u.get(1), u.get(0));
  }

  @Test
  void weightedRoundRobinSharesAmongTheUsableCandidatesOnly() {
    List<Upstream> u = weighted(1, 2, 5);
    RoundRobin rr = new RoundRobin(true);
    List<Upstream> usable = List.of(u.get(0), u.get(1));

    List<Upstream> picks = IntStream.range(0, 30).mapToObj(i -> rr.choose(usable, ctx(null)))
        .toList();

    assertThat(picks.stream().filter(p -> p == u.get(1)).count()).isEqualTo(20);
    assertThat(picks).doesNotContain(u.get(2));
  }

  @Test
  void randomPicksInProportionToEndpointWeights() {
    List<Upstream> u = weighted(1, 9);
    RandomChoice random = new RandomChoice(true);
    PickContext c = ctx(null);

    long heavy = IntStream.range(0, 10_000).filter(i -> random.choose(u, c) == u.get(1)).count();

    assertThat(heavy).isBetween(8_800L, 9_200L);
  }

  @Test
  void leastRequestNeverPicksTheBusierOfTwo() {
    List<Upstream> u = upstreams(2);
    u.get(0).stats().begin();
    u.get(0).stats().begin();
    LeastRequest lr = new LeastRequest();
    PickContext c = ctx(null);

    for (int i = 0; i < 100; i++) {
      assertThat(lr.choose(u, c)).isSameAs(u.get(1));
    }
  }

  @Test
  void leastRequestAvoidsTheBusiestOfManyMostOfTheTime() {
    List<Upstream> u = upstreams(4);
    for (int i = 0; i < 10; i++) {
      u.get(3).stats().begin();
    }
    LeastRequest lr = new LeastRequest();
    PickContext c = ctx(null);

    long busiest = IntStream.range(0, 1000).mapToObj(i -> lr.choose(u, c))
        .filter(x -> x == u.get(3)).count();

    // Only chosen when both random choices are it, which P2C's distinct choices forbid.
    assertThat(busiest).isZero();
  }

  @Test
  void randomSpreadsRequestsRoughlyEvenly() {
    List<Upstream> u = upstreams(4);
    RandomChoice r = new RandomChoice();
    PickContext c = ctx(null);
    Map<Upstream, Integer> counts = new HashMap<>();

    for (int i = 0; i < 4000; i++) {
      counts.merge(r.choose(u, c), 1, Integer::sum);
    }

    assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(850, 1150));
  }

  @Test
  void ringHashSendsTheSameKeyToTheSameEndpoint() {
    List<Upstream> u = upstreams(5);
    RingHash ring = new RingHash(u, 1024);

    Upstream first = ring.choose(u, ctx("user-17"));

    for (int i = 0; i < 20; i++) {
      assertThat(ring.choose(u, ctx("user-17"))).isSameAs(first);
    }
    assertThat(new RingHash(u, 1024).choose(u, ctx("user-17"))).isSameAs(first);
  }

  @Test
  void ringHashSpreadsKeysAcrossEndpoints() {
    List<Upstream> u = upstreams(4);
    RingHash ring = new RingHash(u, 1024);
    Map<Upstream, Integer> counts = new HashMap<>();

    for (int i = 0; i < 4000; i++) {
      counts.merge(ring.choose(u, ctx("k" + i)), 1, Integer::sum);
    }

    assertThat(counts).hasSize(4);
    assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(600, 1400));
  }

  @Test
  void ringHashMovesOnlyTheKeysOfAnEndpointThatLeaves() {
    List<Upstream> all = upstreams(4);
    RingHash ring = new RingHash(all, 1024);
    List<Upstream> withoutThird = List.of(all.get(0), all.get(1), all.get(3));

    int moved = 0;
    for (int i = 0; i < 2000; i++) {
      Upstream before = ring.choose(all, ctx("k" + i));
      Upstream after = ring.choose(withoutThird, ctx("k" + i));
      if (before != all.get(2)) {
        assertThat(after).isSameAs(before);
      } else {
        assertThat(after).isNotSameAs(all.get(2));
        moved++;
      }
    }
    assertThat(moved).isPositive();
  }

  @Test
  void ringHashWithoutAKeyPicksAnyCandidate() {
    List<Upstream> u = upstreams(3);

    assertThat(new RingHash(u, 64).choose(u, ctx(null))).isIn(u);
  }
}
