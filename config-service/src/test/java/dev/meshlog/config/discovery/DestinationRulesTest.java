package dev.meshlog.config.discovery;

import static dev.meshlog.config.discovery.Bookinfo.COMPILER;
import static dev.meshlog.config.discovery.Bookinfo.NOW;
import static dev.meshlog.config.discovery.Bookinfo.RATINGS;
import static dev.meshlog.config.discovery.Bookinfo.REVIEWS;
import static dev.meshlog.config.discovery.Bookinfo.REVIEWS_DESTINATION_RULE;
import static dev.meshlog.config.discovery.Bookinfo.config;
import static dev.meshlog.config.discovery.Bookinfo.instancesWithout;
import static dev.meshlog.config.discovery.Bookinfo.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import org.junit.jupiter.api.Test;

import dev.meshlog.events.discovery.LbPolicy;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.Subset;
import dev.meshlog.events.discovery.TlsMode;
import dev.meshlog.events.discovery.TrafficPolicy;
import dev.meshlog.events.discovery.ViewProblem;

class DestinationRulesTest {

  @Test
  void compilesTrafficPolicyWithDurationsInMillis() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings, namespace: default}
        spec:
          host: ratings
          trafficPolicy:
            loadBalancer:
              consistentHash:
                httpCookie: {name: user, ttl: 60s}
              localityLbSetting:
                enabled: true
                failoverPriority: [topology.kubernetes.io/region, topology.kubernetes.io/zone]
            connectionPool:
              tcp: {maxConnections: 100, connectTimeout: 2s}
              http: {http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 1,
                     maxRetries: 3, idleTimeout: 1m}
            outlierDetection:
              consecutive5xxErrors: 5
              interval: 1s
              baseEjectionTime: 3m
              maxEjectionPercent: 100
            tls: {mode: ISTIO_MUTUAL}
        """));

    TrafficPolicy policy = view.getTrafficPolicy();
    assertThat(policy.getLoadBalancer().getConsistentHash().getHttpCookieName()).isEqualTo("user");
    assertThat(policy.getLoadBalancer().getConsistentHash().getHttpCookieTtlMillis()).isEqualTo(60_000L);
    assertThat(policy.getLoadBalancer().getLocalityEnabled()).isTrue();
    assertThat(policy.getLoadBalancer().getFailoverPriorities())
        .containsExactly("topology.kubernetes.io/region", "topology.kubernetes.io/zone");
    assertThat(policy.getConnectionPool().getMaxConnections()).isEqualTo(100);
    assertThat(policy.getConnectionPool().getConnectTimeoutMillis()).isEqualTo(2000L);
    assertThat(policy.getConnectionPool().getMaxPendingRequests()).isEqualTo(10);
    assertThat(policy.getConnectionPool().getMaxRequests()).isEqualTo(1000);
    assertThat(policy.getConnectionPool().getMaxRequestsPerConnection()).isEqualTo(1);
    assertThat(policy.getConnectionPool().getMaxRetries()).isEqualTo(3);
    assertThat(policy.getConnectionPool().getIdleTimeoutMillis()).isEqualTo(60_000L);
    assertThat(policy.getOutlierDetection().getConsecutive5xxErrors()).isEqualTo(5);
    assertThat(policy.getOutlierDetection().getIntervalMillis()).isEqualTo(1000L);
    assertThat(policy.getOutlierDetection().getBaseEjectionTimeMillis()).isEqualTo(180_000L);
    assertThat(policy.getOutlierDetection().getMaxEjectionPercent()).isEqualTo(100);
    assertThat(policy.getTlsMode()).isEqualTo(TlsMode.ISTIO_MUTUAL);
  }

  @Test
  void fillsIstioOutlierDetectionDefaults() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings, namespace: default}
        spec:
          host: ratings
          trafficPolicy:
            outlierDetection:
              consecutiveGatewayErrors: 3
        """));

    var outlier = view.getTrafficPolicy().getOutlierDetection();
    assertThat(outlier.getConsecutiveGatewayErrors()).isEqualTo(3);
    assertThat(outlier.getConsecutive5xxErrors()).isNull();
    assertThat(outlier.getIntervalMillis()).isEqualTo(10_000L);
    assertThat(outlier.getBaseEjectionTimeMillis()).isEqualTo(30_000L);
    assertThat(outlier.getMaxEjectionPercent()).isEqualTo(10);
  }

  @Test
  void compilesLeastConnAsLeastRequestAndAQueryParameterHashOnMaglevAsARing() {
    ServiceView view = view(REVIEWS, config("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            loadBalancer: {simple: LEAST_CONN}
          subsets:
          - name: v1
            labels: {version: v1}
            trafficPolicy:
              loadBalancer:
                consistentHash: {httpQueryParameterName: user, maglev: {tableSize: 65537}}
          - name: v2
            labels: {version: v2}
            trafficPolicy:
              loadBalancer:
                consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 0}}
        """));

    assertThat(view.getTrafficPolicy().getLoadBalancer().getSimple()).isEqualTo(LbPolicy.LEAST_REQUEST);
    var maglev = view.getSubsets().get(0).getTrafficPolicy().getLoadBalancer().getConsistentHash();
    assertThat(maglev.getHttpQueryParameterName()).isEqualTo("user");
    assertThat(maglev.getMinimumRingSize()).isEqualTo(65_537L);
    var ring = view.getSubsets().get(1).getTrafficPolicy().getLoadBalancer().getConsistentHash();
    assertThat(ring.getHttpQueryParameterName()).isNull();
    assertThat(ring.getMinimumRingSize()).isNull();
  }

  @Test
  void mergesASubsetPolicyOverTheHostPolicySettingBySetting() {
    ServiceView view = view(REVIEWS, config("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            loadBalancer: {simple: LEAST_REQUEST}
            tls: {mode: ISTIO_MUTUAL}
          subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
            trafficPolicy:
              loadBalancer: {simple: ROUND_ROBIN}
        """));

    assertThat(view.getSubsets()).extracting(Subset::getName).containsExactly("v1", "v2");
    assertThat(view.getSubsets().get(0).getLabels()).containsEntry("version", "v1");
    assertThat(view.getSubsets().get(0).getTrafficPolicy()).isNull();
    TrafficPolicy v2 = view.getSubsets().get(1).getTrafficPolicy();
    assertThat(v2.getLoadBalancer().getSimple()).isEqualTo(LbPolicy.ROUND_ROBIN);
    assertThat(v2.getTlsMode()).isEqualTo(TlsMode.ISTIO_MUTUAL);
  }

  @Test
  void prefersTheDestinationRuleInTheHostNamespaceAndReportsTheOthers() {
    ServiceView view = view(REVIEWS, config(REVIEWS_DESTINATION_RULE, """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: a-reviews, namespace: ops}
        spec:
          host: reviews.default.svc.cluster.local
          subsets:
          - name: blue
            labels: {version: v1}
        """));

    assertThat(view.getSubsets()).extracting(Subset::getName).containsExactly("v1", "v2", "v3");
    assertThat(view.getProblems()).extracting(ViewProblem::getResource, ViewProblem::getPath)
        .containsExactly(tuple("DestinationRule/ops/a-reviews", "spec.host"));
    assertThat(view.getProblems().get(0).getMessage()).startsWith("ignored for " + REVIEWS
        + ": DestinationRule/default/reviews applies");
  }

  @Test
  void letsAnExactHostRuleOverrideAWildcardOneSilently() {
    ServiceView view = view(REVIEWS, config(REVIEWS_DESTINATION_RULE, """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: mesh-mtls, namespace: meshlog-system}
        spec:
          host: "*.local"
          trafficPolicy:
            tls: {mode: ISTIO_MUTUAL}
        """));

    assertThat(view.getSubsets()).hasSize(3);
    assertThat(view.getTrafficPolicy()).isNull();
    assertThat(view.getProblems()).isEmpty();
    assertThat(view(RATINGS, config(REVIEWS_DESTINATION_RULE, """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: mesh-mtls, namespace: meshlog-system}
        spec:
          host: "*.local"
          trafficPolicy:
            tls: {mode: ISTIO_MUTUAL}
        """)).getTrafficPolicy().getTlsMode()).isEqualTo(TlsMode.ISTIO_MUTUAL);
  }

  @Test
  void warnsAboutASubsetNoEndpointHasButKeepsIt() {
    ServiceView view = COMPILER.compile(REVIEWS, config(REVIEWS_DESTINATION_RULE), instancesWithout("reviews-v3"),
        NOW).view();

    assertThat(view.getSubsets()).extracting(Subset::getName).containsExactly("v1", "v2", "v3");
    assertThat(view.getProblems()).singleElement().satisfies(p -> {
      assertThat(p.getResource()).isEqualTo("DestinationRule/default/reviews");
      assertThat(p.getPath()).isEqualTo("spec.subsets[2].labels");
      assertThat(p.getMessage()).startsWith("warning: subset v3 of " + REVIEWS + " matches no endpoint");
    });
  }

  @Test
  void carriesSimpleTlsSettingsAndLetsASubsetReplaceThemWhole() {
    ServiceView view = view(REVIEWS, config("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            loadBalancer: {simple: RANDOM}
            tls:
              mode: SIMPLE
              caCertificates: /etc/certs/ca.pem
              sni: reviews.example.com
              subjectAltNames: [reviews.example.com, spiffe://example.com/reviews]
          subsets:
          - name: v1
            labels: {version: v1}
            trafficPolicy:
              loadBalancer: {simple: ROUND_ROBIN}
          - name: v2
            labels: {version: v2}
            trafficPolicy:
              tls: {mode: MUTUAL, clientCertificate: /etc/certs/c.pem, privateKey: /etc/certs/k.pem}
        """));

    TrafficPolicy host = view.getTrafficPolicy();
    assertThat(host.getTlsMode()).isEqualTo(TlsMode.SIMPLE);
    assertThat(host.getTls().getCaCertificates()).isEqualTo("/etc/certs/ca.pem");
    assertThat(host.getTls().getSni()).isEqualTo("reviews.example.com");
    assertThat(host.getTls().getSubjectAltNames())
        .containsExactly("reviews.example.com", "spiffe://example.com/reviews");
    assertThat(host.getTls().getInsecureSkipVerify()).isFalse();
    TrafficPolicy v1 = view.getSubsets().get(0).getTrafficPolicy();
    assertThat(v1.getTlsMode()).isEqualTo(TlsMode.SIMPLE);
    assertThat(v1.getTls()).isEqualTo(host.getTls());
    TrafficPolicy v2 = view.getSubsets().get(1).getTrafficPolicy();
    assertThat(v2.getTlsMode()).isEqualTo(TlsMode.MUTUAL);
    assertThat(v2.getTls().getClientCertificate()).isEqualTo("/etc/certs/c.pem");
    assertThat(v2.getTls().getPrivateKey()).isEqualTo("/etc/certs/k.pem");
    assertThat(v2.getTls().getCaCertificates()).isEmpty();
    assertThat(v2.getLoadBalancer().getSimple()).isEqualTo(LbPolicy.RANDOM);
    assertThat(view.getProblems()).isEmpty();
  }

  @Test
  void warnsThatIstioMutualIsNotEnforcedYetWhereverItIsSet() {
    ServiceView view = view(REVIEWS, config("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            tls: {mode: ISTIO_MUTUAL}
          subsets:
          - name: v1
            labels: {version: v1}
            trafficPolicy:
              tls: {mode: ISTIO_MUTUAL}
          - name: v2
            labels: {version: v2}
            trafficPolicy:
              tls: {mode: DISABLE}
        """));

    assertThat(view.getTrafficPolicy().getTlsMode()).isEqualTo(TlsMode.ISTIO_MUTUAL);
    assertThat(view.getProblems()).extracting(ViewProblem::getResource, ViewProblem::getPath)
        .containsExactly(tuple("DestinationRule/default/reviews", "spec.trafficPolicy.tls.mode"),
            tuple("DestinationRule/default/reviews", "spec.subsets[0].trafficPolicy.tls.mode"));
    assertThat(view.getProblems()).allSatisfy(p -> assertThat(p.getMessage())
        .startsWith("warning: ISTIO_MUTUAL is not enforced yet: Meshlog has no mesh CA"));
  }

  @Test
  void doesNotWarnAboutSimpleTlsOnTcpPortsNowThatProxiesOriginateItThere() {
    String dr = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: api, namespace: default}
        spec:
          host: api.example.com
          trafficPolicy:
            tls: {mode: SIMPLE}
        """;
    ServiceView tcp = view("api.example.com", config("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: api, namespace: default}
        spec:
          hosts: [api.example.com]
          resolution: DNS
          ports:
          - {name: http, number: 80, protocol: HTTP}
          - {name: tls, number: 443, protocol: TLS}
        """, dr));
    ServiceView http = view("api.example.com", config("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: api, namespace: default}
        spec:
          hosts: [api.example.com]
          resolution: DNS
          ports:
          - {name: http, number: 80, protocol: HTTP, targetPort: 443}
        """, dr));

    assertThat(tcp.getTrafficPolicy().getTlsMode()).isEqualTo(TlsMode.SIMPLE);
    assertThat(tcp.getProblems()).isEmpty();
    assertThat(http.getTrafficPolicy().getTlsMode()).isEqualTo(TlsMode.SIMPLE);
    assertThat(http.getProblems()).isEmpty();
  }

  @Test
  void compilesIstiosEgressTlsOriginationTaskWithPortLevelTlsOnTheHttpsPort() {
    ServiceView view = view("edition.cnn.com", config("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: edition-cnn-com, namespace: default}
        spec:
          hosts: [edition.cnn.com]
          resolution: DNS
          ports:
          - {name: http-port, number: 80, protocol: HTTP}
          - {name: https-port, number: 443, protocol: HTTPS}
        """, """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: edition-cnn-com, namespace: default}
        spec:
          host: edition.cnn.com
          trafficPolicy:
            portLevelSettings:
            - port: {number: 443}
              tls: {mode: SIMPLE}
        """));

    TrafficPolicy policy = view.getTrafficPolicy();
    assertThat(policy.getTlsMode()).isEqualTo(TlsMode.UNSPECIFIED);
    assertThat(policy.getPortLevelSettings()).singleElement().satisfies(p -> {
      assertThat(p.getPort()).isEqualTo(443);
      assertThat(p.getTlsMode()).isEqualTo(TlsMode.SIMPLE);
      assertThat(p.getTls().getCaCertificates()).isEmpty();
    });
    // HTTP routed to the TLS port is what a port-level tls is for: no "HTTP only" warning.
    assertThat(view.getProblems()).isEmpty();
  }

  @Test
  void mergesPortLevelTlsIntoSubsetsInIstiosOrder() {
    ServiceView view = view(REVIEWS, config("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            tls: {mode: DISABLE}
            portLevelSettings:
            - port: {number: 443}
              tls: {mode: SIMPLE, sni: host.example.com}
            - port: {number: 8443}
              tls: {mode: SIMPLE}
          subsets:
          - name: v1
            labels: {version: v1}
            trafficPolicy:
              portLevelSettings:
              - port: {number: 8443}
                tls: {mode: DISABLE}
          - name: v2
            labels: {version: v2}
            trafficPolicy:
              tls: {mode: SIMPLE, sni: v2.example.com}
              portLevelSettings:
              - port: {number: 9443}
                tls: {mode: ISTIO_MUTUAL}
          - name: v3
            labels: {version: v3}
        """));

    assertThat(view.getTrafficPolicy().getPortLevelSettings())
        .extracting(p -> p.getPort(), p -> p.getTlsMode())
        .containsExactly(tuple(443, TlsMode.SIMPLE), tuple(8443, TlsMode.SIMPLE));
    // v1 has no tls of its own: the host's port-level entries, its own replacing 8443's.
    assertThat(view.getSubsets().get(0).getTrafficPolicy().getPortLevelSettings())
        .extracting(p -> p.getPort(), p -> p.getTlsMode())
        .containsExactlyInAnyOrder(tuple(8443, TlsMode.DISABLE), tuple(443, TlsMode.SIMPLE));
    // v2's own tls overrides the host's port-level ones: only its own port-level entry stays.
    TrafficPolicy v2 = view.getSubsets().get(1).getTrafficPolicy();
    assertThat(v2.getTls().getSni()).isEqualTo("v2.example.com");
    assertThat(v2.getPortLevelSettings()).extracting(p -> p.getPort(), p -> p.getTlsMode())
        .containsExactly(tuple(9443, TlsMode.ISTIO_MUTUAL));
    // v3 has no policy: the proxy uses the host's, port-level entries included.
    assertThat(view.getSubsets().get(2).getTrafficPolicy()).isNull();
    assertThat(view.getProblems()).extracting(ViewProblem::getPath).containsExactly(
        "spec.subsets[1].trafficPolicy.portLevelSettings[0].tls.mode");
  }
}
