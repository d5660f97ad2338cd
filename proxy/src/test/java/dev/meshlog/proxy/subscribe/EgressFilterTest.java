package dev.meshlog.proxy.subscribe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class EgressFilterTest {

  @Test
  void wantsEveryHostWithoutPatterns() {
    assertThat(new EgressFilter(List.of(), "default").wants("a.b.svc.cluster.local", "b")).isTrue();
  }

  @Test
  void matchesOwnNamespaceAnyNamespaceAndSuffixes() {
    EgressFilter f = new EgressFilter(List.of("./*", "istio-system/*",
        "*/*.googleapis.com"), "shop");

    assertThat(f.wants("cart.shop.svc.cluster.local", "shop")).isTrue();
    assertThat(f.wants("istiod.istio-system.svc.cluster.local", "istio-system")).isTrue();
    assertThat(f.wants("storage.googleapis.com", "external")).isTrue();
    assertThat(f.wants("cart.other.svc.cluster.local", "other")).isFalse();
  }
}
