package dev.meshlog.config.discovery;

import static dev.meshlog.config.discovery.Bookinfo.RATINGS;
import static dev.meshlog.config.discovery.Bookinfo.REVIEWS;
import static dev.meshlog.config.discovery.Bookinfo.config;
import static dev.meshlog.config.discovery.Bookinfo.view;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.meshlog.events.discovery.AuthorizationPolicy;
import dev.meshlog.events.discovery.AuthzAction;
import dev.meshlog.events.discovery.InboundPolicy;
import dev.meshlog.events.discovery.MtlsMode;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewProblem;

class InboundPolicyTest {

  private static final String MESH_STRICT = """
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: default, namespace: meshlog-system}
      spec:
        mtls: {mode: STRICT}
      """;

  private static final String NAMESPACE_PERMISSIVE = """
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: default, namespace: default}
      spec:
        mtls: {mode: PERMISSIVE}
      """;

  private static final String RATINGS_STRICT_BUT_METRICS = """
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: ratings, namespace: default}
      spec:
        selector:
          matchLabels: {app: ratings}
        mtls: {mode: STRICT}
        portLevelMtls:
          "15090": {mode: DISABLE}
      """;

  @Test
  void isPermissiveWithoutPeerAuthentication() {
    InboundPolicy inbound = view(RATINGS, ConfigSnapshot.EMPTY).getInbound();

    assertThat(inbound.getMtlsMode()).isEqualTo(MtlsMode.PERMISSIVE);
    assertThat(inbound.getAuthorizationPolicies()).isEmpty();
  }

  @Test
  void appliesTheMeshWidePeerAuthenticationOfTheRootNamespace() {
    assertThat(view(RATINGS, config(MESH_STRICT)).getInbound().getMtlsMode()).isEqualTo(MtlsMode.STRICT);
  }

  @Test
  void namespacePeerAuthenticationOverridesTheMeshDefault() {
    assertThat(view(RATINGS, config(MESH_STRICT, NAMESPACE_PERMISSIVE)).getInbound().getMtlsMode())
        .isEqualTo(MtlsMode.PERMISSIVE);
  }

  @Test
  void workloadPeerAuthenticationOverridesNamespaceDefault() {
    ServiceView ratings = view(RATINGS, config(MESH_STRICT, NAMESPACE_PERMISSIVE, RATINGS_STRICT_BUT_METRICS));
    ServiceView reviews = view(REVIEWS, config(MESH_STRICT, NAMESPACE_PERMISSIVE, RATINGS_STRICT_BUT_METRICS));

    assertThat(ratings.getInbound().getMtlsMode()).isEqualTo(MtlsMode.STRICT);
    assertThat(ratings.getInbound().getPortMtlsModes()).containsEntry("15090", MtlsMode.DISABLE);
    assertThat(reviews.getInbound().getMtlsMode()).isEqualTo(MtlsMode.PERMISSIVE);
    assertThat(reviews.getInbound().getPortMtlsModes()).isEmpty();
  }

  @Test
  void unsetModeInheritsFromTheNextLevelUp() {
    ServiceView view = view(RATINGS, config(MESH_STRICT, """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: ratings, namespace: default}
        spec:
          selector:
            matchLabels: {app: ratings}
          mtls: {mode: UNSET}
          portLevelMtls:
            "9080": {mode: PERMISSIVE}
        """));

    assertThat(view.getInbound().getMtlsMode()).isEqualTo(MtlsMode.STRICT);
    assertThat(view.getInbound().getPortMtlsModes()).containsEntry("9080", MtlsMode.PERMISSIVE);
  }

  @Test
  void ignoresPeerAuthenticationOfAnotherNamespace() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: staging}
        spec:
          mtls: {mode: STRICT}
        """));

    assertThat(view.getInbound().getMtlsMode()).isEqualTo(MtlsMode.PERMISSIVE);
    assertThat(view.getSourceRevisions()).isEmpty();
  }

  @Test
  void reportsASecondNamespacePeerAuthenticationAsIgnored() {
    ServiceView view = view(RATINGS, config(NAMESPACE_PERMISSIVE, """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: strict, namespace: default}
        spec:
          mtls: {mode: STRICT}
        """));

    assertThat(view.getInbound().getMtlsMode()).isEqualTo(MtlsMode.PERMISSIVE);
    assertThat(view.getProblems()).extracting(ViewProblem::getResource)
        .containsExactly("PeerAuthentication/default/strict");
  }

  @Test
  void collectsEveryApplicableAuthorizationPolicy() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-blocked, namespace: meshlog-system}
        spec:
          action: DENY
          rules:
          - from:
            - source: {ipBlocks: [203.0.113.0/24]}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: ratings-viewer, namespace: default}
        spec:
          selector:
            matchLabels: {app: ratings}
          action: ALLOW
          rules:
          - from:
            - source:
                principals: [cluster.local/ns/default/sa/bookinfo-reviews]
            to:
            - operation:
                methods: [GET]
                paths: [/ratings/*]
            when:
            - key: request.headers[x-tenant]
              values: [acme]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: details-viewer, namespace: default}
        spec:
          selector:
            matchLabels: {app: details}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: allow-all, namespace: staging}
        spec:
          rules:
          - {}
        """));

    var policies = view.getInbound().getAuthorizationPolicies();
    assertThat(policies).extracting(AuthorizationPolicy::getName, AuthorizationPolicy::getAction)
        .containsExactly(
            org.assertj.core.api.Assertions.tuple("default/ratings-viewer", AuthzAction.ALLOW),
            org.assertj.core.api.Assertions.tuple("meshlog-system/deny-blocked", AuthzAction.DENY));
    var rule = policies.get(0).getRules().get(0);
    assertThat(rule.getFrom().get(0).getPrincipals()).containsExactly("cluster.local/ns/default/sa/bookinfo-reviews");
    assertThat(rule.getTo().get(0).getMethods()).containsExactly("GET");
    assertThat(rule.getTo().get(0).getPaths()).containsExactly("/ratings/*");
    assertThat(rule.getWhen().get(0).getKey()).isEqualTo("request.headers[x-tenant]");
    assertThat(rule.getWhen().get(0).getValues()).containsExactly("acme");
  }

  @Test
  void keepsAnEmptyAllowPolicyThatDeniesEverything() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-all, namespace: default}
        spec: {}
        """));

    assertThat(view.getInbound().getAuthorizationPolicies()).singleElement().satisfies(p -> {
      assertThat(p.getAction()).isEqualTo(AuthzAction.ALLOW);
      assertThat(p.getRules()).isEmpty();
    });
  }

  @Test
  void warnsWhenASelectorMatchesOnlySomeInstancesOfTheService() {
    ServiceView view = view(REVIEWS, config("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: reviews-v2-only, namespace: default}
        spec:
          selector:
            matchLabels: {app: reviews, version: v2}
          action: DENY
          rules:
          - to:
            - operation: {methods: [DELETE]}
        """));

    assertThat(view.getInbound().getAuthorizationPolicies()).hasSize(1);
    assertThat(view.getProblems()).singleElement().satisfies(p -> {
      assertThat(p.getPath()).isEqualTo("spec.selector.matchLabels");
      assertThat(p.getMessage()).startsWith("warning: selects 1 of 3 live instances of " + REVIEWS);
    });
  }

  @Test
  void compilesRequestAuthenticationIntoJwtRules() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata: {name: jwt, namespace: default}
        spec:
          selector:
            matchLabels: {app: ratings}
          jwtRules:
          - issuer: https://accounts.example.com
            jwksUri: https://accounts.example.com/.well-known/jwks.json
            audiences: [bookinfo]
            fromHeaders:
            - {name: x-jwt, prefix: "Bearer "}
            forwardOriginalToken: true
        """));

    assertThat(view.getInbound().getJwtRules()).singleElement().satisfies(rule -> {
      assertThat(rule.getIssuer()).isEqualTo("https://accounts.example.com");
      assertThat(rule.getJwksUri()).isEqualTo("https://accounts.example.com/.well-known/jwks.json");
      assertThat(rule.getAudiences()).containsExactly("bookinfo");
      assertThat(rule.getFromHeaders()).containsExactly("x-jwt");
      assertThat(rule.getForwardOriginalToken()).isTrue();
    });
  }

  @Test
  void givesServiceEntryHostsNoInboundPolicy() {
    ServiceView view = view("api.example.com", config(MESH_STRICT, """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: api, namespace: default}
        spec:
          hosts: [api.example.com]
          resolution: DNS
          ports:
          - {name: https, number: 443, protocol: TLS}
        """));

    assertThat(view.getInbound()).isNull();
  }
}
