package dev.meshlog.config.discovery;

import static dev.meshlog.config.discovery.Bookinfo.DETAILS;
import static dev.meshlog.config.discovery.Bookinfo.RATINGS;
import static dev.meshlog.config.discovery.Bookinfo.REVIEWS;
import static dev.meshlog.config.discovery.Bookinfo.REVIEWS_CANARY;
import static dev.meshlog.config.discovery.Bookinfo.REVIEWS_DESTINATION_RULE;
import static dev.meshlog.config.discovery.Bookinfo.config;
import static dev.meshlog.config.discovery.Bookinfo.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import org.junit.jupiter.api.Test;

import dev.meshlog.events.discovery.CorsPolicy;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.events.discovery.RouteDestination;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.StringMatch;
import dev.meshlog.events.discovery.UnmatchedPreflights;
import dev.meshlog.events.discovery.ViewProblem;

class RoutesTest {

  @Test
  void compilesWeightedCanaryRouteToSubsets() {
    ServiceView view = view(REVIEWS, config(REVIEWS_DESTINATION_RULE, REVIEWS_CANARY));

    assertThat(view.getHttpRoutes()).extracting(HttpRoute::getName).containsExactly("jason", "canary");
    HttpRoute canary = view.getHttpRoutes().get(1);
    assertThat(canary.getMatches()).isEmpty();
    assertThat(canary.getDestinations())
        .extracting(d -> d.getDestination().getHost(), d -> d.getDestination().getSubset(), RouteDestination::getWeight)
        .containsExactly(tuple(REVIEWS, "v1", 90), tuple(REVIEWS, "v3", 10));
    assertThat(canary.getVirtualService()).isEqualTo("default/reviews");
    assertThat(canary.getHosts()).containsExactly(REVIEWS);
    assertThat(view.getProblems()).isEmpty();
  }

  @Test
  void lowerCasesHeaderNamesOfMatches() {
    ServiceView view = view(REVIEWS, config(REVIEWS_DESTINATION_RULE, REVIEWS_CANARY));

    assertThat(view.getHttpRoutes().get(0).getMatches().get(0).getHeaders())
        .containsOnlyKeys("end-user")
        .containsEntry("end-user", StringMatch.newBuilder().setType(MatchType.EXACT).setValue("jason").build());
  }

  @Test
  void sendsAllTrafficToASingleDestinationWithoutWeight() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - route:
            - destination: {host: ratings, port: {number: 9080}}
        """));

    RouteDestination only = view.getHttpRoutes().get(0).getDestinations().get(0);
    assertThat(only.getWeight()).isEqualTo(100);
    assertThat(only.getDestination().getPort()).isEqualTo(9080);
    assertThat(only.getDestination().getSubset()).isNull();
  }

  @Test
  void compilesUriMethodAndQueryMatches() {
    ServiceView view = view(DETAILS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: details, namespace: default}
        spec:
          hosts: [details]
          http:
          - match:
            - uri: {prefix: /details/}
              method: {exact: GET}
              queryParams:
                debug: {regex: "^(1|true)$"}
              ignoreUriCase: true
              sourceLabels: {app: productpage}
            - uri: {exact: /health}
            route:
            - destination: {host: details}
        """));

    var matches = view.getHttpRoutes().get(0).getMatches();
    assertThat(matches).hasSize(2);
    assertThat(matches.get(0).getUri()).isEqualTo(StringMatch.newBuilder().setType(MatchType.PREFIX).setValue("/details/").build());
    assertThat(matches.get(0).getMethod().getValue()).isEqualTo("GET");
    assertThat(matches.get(0).getQueryParams().get("debug").getType()).isEqualTo(MatchType.REGEX);
    assertThat(matches.get(0).getIgnoreUriCase()).isTrue();
    assertThat(matches.get(0).getSourceLabels()).containsEntry("app", "productpage");
    assertThat(matches.get(1).getUri().getType()).isEqualTo(MatchType.EXACT);
  }

  @Test
  void splitsRetryStatusCodesFromRetryConditions() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - route:
            - destination: {host: ratings}
            timeout: 2s
            retries:
              attempts: 3
              perTryTimeout: 0.5s
              retryOn: gateway-error,connect-failure,503,504
        """));

    HttpRoute route = view.getHttpRoutes().get(0);
    assertThat(route.getTimeoutMillis()).isEqualTo(2000L);
    assertThat(route.getRetries().getAttempts()).isEqualTo(3);
    assertThat(route.getRetries().getPerTryTimeoutMillis()).isEqualTo(500L);
    assertThat(route.getRetries().getRetryOn())
        .containsExactly("gateway-error", "connect-failure", "retriable-status-codes");
    assertThat(route.getRetries().getRetriableStatusCodes()).containsExactly(503, 504);
  }

  @Test
  void compilesBackoffAsTheBaseIntervalCappedAtTenTimesItAndRetryIgnorePreviousHosts() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - route:
            - destination: {host: ratings}
            retries: {attempts: 3, backoff: 100ms, retryIgnorePreviousHosts: false}
          - route:
            - destination: {host: ratings}
            retries: {attempts: 3}
        """));

    var set = view.getHttpRoutes().get(0).getRetries();
    assertThat(set.getBackoffBaseMillis()).isEqualTo(100L);
    assertThat(set.getBackoffMaxMillis()).isEqualTo(1000L);
    assertThat(set.getRetryIgnorePreviousHosts()).isFalse();
    var unset = view.getHttpRoutes().get(1).getRetries();
    assertThat(unset.getBackoffBaseMillis()).isEqualTo(25L);
    assertThat(unset.getBackoffMaxMillis()).isEqualTo(250L);
    assertThat(unset.getRetryIgnorePreviousHosts()).isTrue();
  }

  @Test
  void usesIstioDefaultRetryConditionsWhenRetryOnIsAbsent() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - route:
            - destination: {host: ratings}
            retries: {attempts: 2}
        """));

    assertThat(view.getHttpRoutes().get(0).getRetries().getRetryOn())
        .containsExactly("connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes");
    assertThat(view.getHttpRoutes().get(0).getRetries().getRetriableStatusCodes()).containsExactly(503);
  }

  @Test
  void compilesCorsPolicyWithMaxAgeInSeconds() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - route:
            - destination: {host: ratings}
            corsPolicy:
              allowOrigins: [{exact: "https://example.com"}, {regex: "https://.*[.]example[.]org"}]
              allowMethods: [POST, GET]
              allowHeaders: [X-Foo-Bar]
              exposeHeaders: [x-request-id]
              maxAge: 24h
              allowCredentials: true
              unmatchedPreflights: IGNORE
          - route:
            - destination: {host: ratings}
            corsPolicy:
              allowOrigins: [{prefix: "https://"}]
        """));

    CorsPolicy cors = view.getHttpRoutes().get(0).getCorsPolicy();
    assertThat(cors.getAllowOrigins()).containsExactly(
        StringMatch.newBuilder().setType(MatchType.EXACT).setValue("https://example.com").build(),
        StringMatch.newBuilder().setType(MatchType.REGEX).setValue("https://.*[.]example[.]org").build());
    assertThat(cors.getAllowMethods()).containsExactly("POST", "GET");
    assertThat(cors.getAllowHeaders()).containsExactly("X-Foo-Bar");
    assertThat(cors.getExposeHeaders()).containsExactly("x-request-id");
    assertThat(cors.getMaxAgeSeconds()).isEqualTo(86_400L);
    assertThat(cors.getAllowCredentials()).isTrue();
    assertThat(cors.getUnmatchedPreflights()).isEqualTo(UnmatchedPreflights.IGNORE);
    CorsPolicy defaults = view.getHttpRoutes().get(1).getCorsPolicy();
    assertThat(defaults.getMaxAgeSeconds()).isNull();
    assertThat(defaults.getAllowCredentials()).isNull();
    assertThat(defaults.getUnmatchedPreflights()).isEqualTo(UnmatchedPreflights.UNSPECIFIED);
  }

  @Test
  void compilesAGrpcStatusAbortToItsCode() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - route:
            - destination: {host: ratings}
            fault:
              abort: {grpcStatus: UNAVAILABLE, percentage: {value: 25}}
        """));

    var abort = view.getHttpRoutes().get(0).getFault().getAbort();
    assertThat(abort.getGrpcStatus()).isEqualTo(14);
    assertThat(abort.getHttpStatus()).isZero();
    assertThat(abort.getPercentage()).isEqualTo(25.0);
  }

  @Test
  void compilesFaultInjectionWithPercentages() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - match:
            - headers:
                end-user: {exact: jason}
            fault:
              delay:
                fixedDelay: 7s
                percentage: {value: 12.5}
              abort:
                httpStatus: 500
            route:
            - destination: {host: ratings}
        """));

    var fault = view.getHttpRoutes().get(0).getFault();
    assertThat(fault.getDelay().getFixedDelayMillis()).isEqualTo(7000L);
    assertThat(fault.getDelay().getPercentage()).isEqualTo(12.5);
    assertThat(fault.getAbort().getHttpStatus()).isEqualTo(500);
    assertThat(fault.getAbort().getPercentage()).isEqualTo(100.0);
  }

  @Test
  void compilesMirrorRewriteAndHeaderOperations() {
    ServiceView view = view(REVIEWS, config(REVIEWS_DESTINATION_RULE, """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - rewrite:
              uriRegexRewrite: {match: "^/v1/(.*)", rewrite: "/\\\\1"}
              authority: reviews.internal
            headers:
              request:
                set: {x-canary: "false"}
                remove: [x-debug]
            route:
            - destination: {host: reviews, subset: v1}
              headers:
                response:
                  add: {x-served-by: v1}
            mirror: {host: reviews, subset: v3}
            mirrorPercentage: {value: 5.0}
        """));

    HttpRoute route = view.getHttpRoutes().get(0);
    assertThat(route.getRewrite().getUriRegex()).isEqualTo("^/v1/(.*)");
    assertThat(route.getRewrite().getUriRegexSubstitution()).isEqualTo("/\\1");
    assertThat(route.getRewrite().getAuthority()).isEqualTo("reviews.internal");
    assertThat(route.getHeaders().getRequest().getSet()).containsEntry("x-canary", "false");
    assertThat(route.getHeaders().getRequest().getRemove()).containsExactly("x-debug");
    assertThat(route.getDestinations().get(0).getHeaders().getResponse().getAdd()).containsEntry("x-served-by", "v1");
    assertThat(route.getMirror().getHost()).isEqualTo(REVIEWS);
    assertThat(route.getMirror().getSubset()).isEqualTo("v3");
    assertThat(route.getMirrorPercentage()).isEqualTo(5.0);
  }

  @Test
  void compilesRedirectAndDirectResponse() {
    ServiceView view = view(DETAILS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: details, namespace: default}
        spec:
          hosts: [details]
          http:
          - match:
            - uri: {exact: /old-details}
            redirect: {uri: /details, redirectCode: 308}
          - match:
            - uri: {prefix: /admin}
            directResponse:
              status: 403
              body: {string: "forbidden"}
          - route:
            - destination: {host: details}
        """));

    var routes = view.getHttpRoutes();
    assertThat(routes.get(0).getRedirect().getUri()).isEqualTo("/details");
    assertThat(routes.get(0).getRedirect().getResponseCode()).isEqualTo(308);
    assertThat(routes.get(0).getDestinations()).isEmpty();
    assertThat(routes.get(1).getDirectResponse().getStatus()).isEqualTo(403);
    assertThat(routes.get(1).getDirectResponse().getBody()).isEqualTo("forbidden");
  }

  @Test
  void appliesVirtualServicesOfOneHostInNamespaceThenNameOrder() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: zz-ratings-default, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - name: default
            route:
            - destination: {host: ratings}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: aa-ratings-test, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - name: test
            match:
            - headers: {x-test: {exact: "1"}}
            route:
            - destination: {host: ratings}
        """));

    assertThat(view.getHttpRoutes()).extracting(HttpRoute::getName, HttpRoute::getVirtualService)
        .containsExactly(tuple("test", "default/aa-ratings-test"), tuple("default", "default/zz-ratings-default"));
  }

  @Test
  void qualifiesHostsInTheVirtualServiceNamespace() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings-from-ops, namespace: ops}
        spec:
          hosts: [ratings.default]
          http:
          - route:
            - destination: {host: ratings.default.svc.cluster.local}
        """));

    assertThat(view.getHttpRoutes()).hasSize(1);
    assertThat(view.getHttpRoutes().get(0).getHosts()).containsExactly(RATINGS);
  }

  @Test
  void leavesOutVirtualServicesBoundOnlyToGateways() {
    ServiceView view = view(REVIEWS, config(REVIEWS_DESTINATION_RULE, """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews-edge, namespace: default}
        spec:
          hosts: [reviews]
          gateways: [bookinfo-gateway]
          http:
          - route:
            - destination: {host: reviews, subset: v1}
        """));

    assertThat(view.getHttpRoutes()).isEmpty();
  }

  @Test
  void keepsOnlyTheMatchesMeantForTheMesh() {
    ServiceView view = view(REVIEWS, config(REVIEWS_DESTINATION_RULE, """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          gateways: [mesh, bookinfo-gateway]
          http:
          - name: edge-only
            match:
            - gateways: [bookinfo-gateway]
              uri: {prefix: /edge}
            route:
            - destination: {host: reviews, subset: v3}
          - name: both
            match:
            - gateways: [bookinfo-gateway]
              uri: {prefix: /a}
            - gateways: [mesh]
              uri: {prefix: /b}
            route:
            - destination: {host: reviews, subset: v2}
          - name: default
            route:
            - destination: {host: reviews, subset: v1}
        """));

    assertThat(view.getHttpRoutes()).extracting(HttpRoute::getName).containsExactly("both", "default");
    assertThat(view.getHttpRoutes().get(0).getMatches()).singleElement()
        .satisfies(m -> assertThat(m.getUri().getValue()).isEqualTo("/b"));
  }

  @Test
  void compilesTcpRoutesWithTheirPorts() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings-db, namespace: default}
        spec:
          hosts: [ratings]
          tcp:
          - match:
            - port: 27017
            route:
            - destination: {host: ratings, port: {number: 27017}}
        """));

    assertThat(view.getTcpRoutes()).singleElement().satisfies(tcp -> {
      assertThat(tcp.getPorts()).containsExactly(27017);
      assertThat(tcp.getDestinations().get(0).getWeight()).isEqualTo(100);
    });
  }

  @Test
  void dropsVirtualServiceRoutingToUndefinedSubsetAndReportsIt() {
    ServiceView view = view(REVIEWS, config(REVIEWS_DESTINATION_RULE, """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v1}
              weight: 50
            - destination: {host: reviews, subset: v4}
              weight: 50
        """));

    assertThat(view.getHttpRoutes()).isEmpty();
    assertThat(view.getProblems()).singleElement().satisfies(p -> {
      assertThat(p.getResource()).isEqualTo("VirtualService/default/reviews");
      assertThat(p.getPath()).isEqualTo("spec.http[0].route[1].destination.subset");
      assertThat(p.getMessage()).isEqualTo("subset v4 of " + REVIEWS
          + " is not defined: DestinationRule/default/reviews defines v1, v2, v3");
    });
  }

  @Test
  void dropsVirtualServiceRoutingToSubsetOfHostWithoutDestinationRule() {
    ServiceView view = view(RATINGS, config("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - route:
            - destination: {host: ratings, subset: v2}
        """));

    assertThat(view.getHttpRoutes()).isEmpty();
    assertThat(view.getProblems()).extracting(ViewProblem::getMessage)
        .containsExactly("subset v2 of " + RATINGS + " is not defined: no DestinationRule for " + RATINGS
            + " defines subsets");
  }

  @Test
  void dropsVirtualServiceRoutingToHostWithoutViewAndReportsEachCause() {
    ServiceView view = view(REVIEWS, config(REVIEWS_DESTINATION_RULE, """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews-next}
            mirror: {host: shadow.example.com}
          - route:
            - destination: {host: reviews, subset: v9}
        """));

    assertThat(view.getHttpRoutes()).isEmpty();
    assertThat(view.getProblems()).extracting(ViewProblem::getPath, ViewProblem::getMessage).containsExactly(
        tuple("spec.http[0].route[0].destination.host", "host reviews-next.default.svc.cluster.local has no view:"
            + " no registered service instance and no ServiceEntry defines it"),
        tuple("spec.http[0].mirror.host", "host shadow.example.com has no view:"
            + " no registered service instance and no ServiceEntry defines it"),
        tuple("spec.http[1].route[0].destination.subset", "subset v9 of " + REVIEWS
            + " is not defined: DestinationRule/default/reviews defines v1, v2, v3"));
  }

  @Test
  void keepsConsistentVirtualServicesWhenAnotherIsDropped() {
    ServiceView view = view(REVIEWS, config(REVIEWS_DESTINATION_RULE, REVIEWS_CANARY, """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews-broken, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v4}
        """));

    assertThat(view.getHttpRoutes()).extracting(HttpRoute::getVirtualService).containsOnly("default/reviews");
    assertThat(view.getProblems()).extracting(ViewProblem::getResource)
        .containsExactly("VirtualService/default/reviews-broken");
  }
}
