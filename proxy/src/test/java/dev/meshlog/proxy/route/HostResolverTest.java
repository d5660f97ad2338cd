package dev.meshlog.proxy.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ServiceConfig;
import org.junit.jupiter.api.Test;

class HostResolverTest {

  private static ServiceConfig svc(String host) {
    return new ServiceConfig(host, null, null, 1, List.of(), List.of(), null, Map.of(), List.of(),
        List.of());
  }

  private final ProxySnapshot snapshot = ProxySnapshot.of(
      svc("reviews.default.svc.cluster.local"), svc("reviews.prod.svc.cluster.local"),
      svc("api.example.com"));
  private final HostResolver resolver = new HostResolver("default", "cluster.local");

  private String resolve(String authority) {
    return resolver.resolve(snapshot, authority).map(ServiceConfig::host).orElse(null);
  }

  @Test
  void resolvesAShortNameInTheProxysNamespace() {
    assertThat(resolve("reviews:9080")).isEqualTo("reviews.default.svc.cluster.local");
    assertThat(resolve("Reviews")).isEqualTo("reviews.default.svc.cluster.local");
  }

  @Test
  void resolvesNamespaceQualifiedAndFullNames() {
    assertThat(resolve("reviews.prod")).isEqualTo("reviews.prod.svc.cluster.local");
    assertThat(resolve("reviews.prod.svc:80")).isEqualTo("reviews.prod.svc.cluster.local");
    assertThat(resolve("reviews.prod.svc.cluster.local.")).isEqualTo(
        "reviews.prod.svc.cluster.local");
    assertThat(resolve("api.example.com:443")).isEqualTo("api.example.com");
  }

  @Test
  void resolvesNothingForAnUnknownHost() {
    assertThat(resolve("ratings")).isNull();
    assertThat(resolve("")).isNull();
  }

  @Test
  void readsPortsFromAuthorities() {
    assertThat(HostResolver.portOf("reviews:9080", 80)).isEqualTo(9080);
    assertThat(HostResolver.portOf("reviews", 80)).isEqualTo(80);
    assertThat(HostResolver.portOf("[::1]:8080", 80)).isEqualTo(8080);
    assertThat(HostResolver.hostOf("[::1]:8080")).isEqualTo("[::1]");
  }

  @Test
  void resolvesAgainstANewSnapshotNotTheAnswersOfTheOldOne() {
    assertThat(resolve("ratings")).isNull();
    ProxySnapshot next = ProxySnapshot.of(svc("ratings.default.svc.cluster.local"));

    assertThat(resolver.resolve(next, "ratings").map(ServiceConfig::host))
        .contains("ratings.default.svc.cluster.local");
    assertThat(resolver.resolve(next, "reviews")).isEmpty();
    assertThat(resolve("reviews")).isEqualTo("reviews.default.svc.cluster.local");
  }

  @Test
  void keepsResolvingBeyondTheRememberedAuthorities() {
    for (int i = 0; i < HostResolver.CACHED_AUTHORITIES + 10; i++) {
      assertThat(resolve("unknown-" + i)).isNull();
    }

    assertThat(resolve("reviews.prod:8080")).isEqualTo("reviews.prod.svc.cluster.local");
    assertThat(resolve("api.example.com")).isEqualTo("api.example.com");
  }
}
