package dev.meshlog.config.discovery;

import static dev.meshlog.config.discovery.Bookinfo.DETAILS;
import static dev.meshlog.config.discovery.Bookinfo.PRODUCTPAGE;
import static dev.meshlog.config.discovery.Bookinfo.RATINGS;
import static dev.meshlog.config.discovery.Bookinfo.config;
import static dev.meshlog.config.discovery.Bookinfo.view;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.events.discovery.OutboundTrafficMode;
import dev.meshlog.events.discovery.RateUnit;
import dev.meshlog.events.discovery.ServiceView;

class QuotaAndSidecarTest {

  private static final String RATINGS_LIMIT = """
      apiVersion: policy.meshlog.dev/v1
      kind: RateLimit
      metadata: {name: ratings-reads, namespace: default}
      spec:
        host: ratings
        match:
        - method: {exact: GET}
          headers:
            X-Tenant: {exact: acme}
        requestsPerUnit: 100
        unit: SECOND
        burst: 20
      """;

  private static final String NAMESPACE_SIDECAR = """
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: default, namespace: default}
      spec:
        egress:
        - hosts: ["./*", "meshlog-system/*"]
      """;

  private static final String PRODUCTPAGE_SIDECAR = """
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: productpage, namespace: default}
      spec:
        workloadSelector:
          labels: {app: productpage}
        egress:
        - hosts: ["./details.default.svc.cluster.local", "./reviews.default.svc.cluster.local"]
        - port: {number: 443, protocol: TLS, name: external}
          hosts: ["istio-egress/*.googleapis.com", "./reviews.default.svc.cluster.local"]
      """;

  @Test
  void compilesARateLimitIntoAQuotaOfItsHost() {
    ServiceView view = view(RATINGS, config(RATINGS_LIMIT));

    assertThat(view.getQuotas()).singleElement().satisfies(quota -> {
      assertThat(quota.getName()).isEqualTo("default/ratings-reads");
      assertThat(quota.getQuotaKey()).isEqualTo("default/ratings-reads");
      assertThat(quota.getRequestsPerUnit()).isEqualTo(100L);
      assertThat(quota.getUnit()).isEqualTo(RateUnit.SECOND);
      assertThat(quota.getBurst()).isEqualTo(20L);
      assertThat(quota.getShadow()).isFalse();
      assertThat(quota.getMatches()).singleElement().satisfies(m -> {
        assertThat(m.getMethod().getType()).isEqualTo(MatchType.EXACT);
        assertThat(m.getHeaders()).containsOnlyKeys("x-tenant");
      });
    });
    assertThat(view.getSourceRevisions()).extracting(r -> r.getKind() + "/" + r.getName())
        .containsExactly("RateLimit/ratings-reads");
  }

  @Test
  void leavesOtherHostsWithoutTheQuota() {
    assertThat(view(DETAILS, config(RATINGS_LIMIT)).getQuotas()).isEmpty();
  }

  @Test
  void takesEgressHostsFromTheNamespaceSidecar() {
    assertThat(view(DETAILS, config(NAMESPACE_SIDECAR)).getEgressHosts()).containsExactly("./*", "meshlog-system/*");
  }

  @Test
  void workloadSidecarOverridesTheNamespaceDefault() {
    ServiceView view = view(PRODUCTPAGE, config(NAMESPACE_SIDECAR, PRODUCTPAGE_SIDECAR));

    assertThat(view.getEgressHosts()).containsExactly("./details.default.svc.cluster.local",
        "./reviews.default.svc.cluster.local", "istio-egress/*.googleapis.com");
    assertThat(view.getSourceRevisions()).extracting(r -> r.getKind() + "/" + r.getName())
        .containsExactly("Sidecar/productpage");
  }

  @Test
  void fallsBackToTheMeshSidecarOfTheRootNamespace() {
    ServiceView view = view(DETAILS, config("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: meshlog-system}
        spec:
          egress:
          - hosts: ["./*"]
        """));

    assertThat(view.getEgressHosts()).containsExactly("./*");
  }

  @Test
  void allowsEveryHostWithoutSidecar() {
    assertThat(view(DETAILS, ConfigSnapshot.EMPTY).getEgressHosts()).isEmpty();
  }
  @Test
  void takesTheOutboundTrafficPolicyFromTheSidecarThatApplies() {
    ServiceView view = view(PRODUCTPAGE, config(NAMESPACE_SIDECAR, """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: productpage, namespace: default}
        spec:
          workloadSelector:
            labels: {app: productpage}
          outboundTrafficPolicy: {mode: ALLOW_ANY}
        """));

    assertThat(view.getOutboundTrafficPolicy()).isEqualTo(OutboundTrafficMode.ALLOW_ANY);
    assertThat(view.getEgressHosts()).isEmpty();
  }

  @Test
  void aNamespaceSidecarsModeReachesEveryServiceItAppliesTo() {
    String sidecar = """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: default}
        spec:
          egress:
          - hosts: ["./*"]
          outboundTrafficPolicy: {mode: REGISTRY_ONLY}
        """;

    assertThat(view(DETAILS, config(sidecar)).getOutboundTrafficPolicy())
        .isEqualTo(OutboundTrafficMode.REGISTRY_ONLY);
    assertThat(view(PRODUCTPAGE, config(sidecar)).getOutboundTrafficPolicy())
        .isEqualTo(OutboundTrafficMode.REGISTRY_ONLY);
  }

  @Test
  void aWorkloadSidecarWithoutAModeLeavesItUnspecifiedOverTheNamespaceOne() {
    String namespaceAllowAny = """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: default}
        spec:
          outboundTrafficPolicy: {mode: ALLOW_ANY}
        """;

    // One Sidecar applies, as for egress hosts: the workload's, which sets no mode.
    assertThat(view(PRODUCTPAGE, config(namespaceAllowAny, PRODUCTPAGE_SIDECAR)).getOutboundTrafficPolicy())
        .isEqualTo(OutboundTrafficMode.UNSPECIFIED);
    assertThat(view(DETAILS, config(namespaceAllowAny, PRODUCTPAGE_SIDECAR)).getOutboundTrafficPolicy())
        .isEqualTo(OutboundTrafficMode.ALLOW_ANY);
  }

  @Test
  void leavesTheModeUnspecifiedWithoutSidecar() {
    assertThat(view(DETAILS, ConfigSnapshot.EMPTY).getOutboundTrafficPolicy())
        .isEqualTo(OutboundTrafficMode.UNSPECIFIED);
  }
}
