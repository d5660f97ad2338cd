package dev.meshlog.proxy.config;

import static dev.meshlog.proxy.support.Views.endpoint;
import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.match;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.discovery.ConnectionPool;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.LbPolicy;
import dev.meshlog.events.discovery.LoadBalancer;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.events.discovery.OutlierDetection;
import dev.meshlog.events.discovery.RetryPolicy;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.Subset;
import dev.meshlog.events.discovery.TrafficPolicy;
import dev.meshlog.proxy.config.RetryConfig.RetryOn;
import dev.meshlog.schemas.SampleEvents;
import dev.meshlog.schemas.Topics;
import org.junit.jupiter.api.Test;

class ProxySnapshotTest {

  private static ServiceView reviews() {
    return view("reviews")
        .setEndpoints(List.of(endpoint(9001, "v1", "z1"), endpoint(9002, "v2", "z1")))
        .setSubsets(List.of(subset("v1"), subset("v2")))
        .setHttpRoutes(List.of(
            route("jason", List.of(HttpMatch.newBuilder().setHeaders(Map.of("end-user",
                match(MatchType.EXACT, "jason"))).build()), to("reviews", "v2", 100)).build(),
            route("split", List.of(), to("reviews", "v1", 90), to("reviews", "v2", 10)).build()))
        .build();
  }

  @Test
  void translatesTheSampleViewOfTheSchemasModule() {
    ServiceView sample = (ServiceView) SampleEvents.oneOfEach().get(Topics.DISCOVERY_VIEWS)
        .getValue();

    ServiceConfig s = ViewTranslator.translate(sample);
    ProxySnapshot snapshot = ProxySnapshot.of(s);

    assertThat(snapshot.versions()).containsEntry("reviews.default.svc.cluster.local", 7L);
    RouteConfig canary = s.routes().get(0);
    assertThat(canary.fault().abortStatus()).isEqualTo(503);
    assertThat(canary.fault().abortPercent()).isEqualTo(10.0);
    assertThat(canary.timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(canary.matches().get(0).headers().get("end-user").matches("jason")).isTrue();
  }

  @Test
  void translatesRoutesSubsetsAndEndpointsIntoTheProxysOwnTypes() {
    ServiceConfig s = ViewTranslator.translate(reviews());

    assertThat(s.endpointsOf("v2")).extracting(EndpointConfig::port).containsExactly(9002);
    assertThat(s.routes()).extracting(RouteConfig::name).containsExactly("jason", "split");
    assertThat(s.routes().get(1).destinations()).extracting(DestinationConfig::weight)
        .containsExactly(90, 10);
  }

  @Test
  void refusesARouteToASubsetTheHostLacksAndSaysWhich() {
    ServiceView bad = view("reviews").setVersion(3)
        .setSubsets(List.of(subset("v1")))
        .setHttpRoutes(List.of(route("r", List.of(), to("reviews", "v9", 100)).build()))
        .build();

    assertThatThrownBy(() -> ProxySnapshot.of(ViewTranslator.translate(bad)))
        .isInstanceOf(InconsistentSnapshotException.class)
        .satisfies(e -> assertThat(((InconsistentSnapshotException) e).reasonFor(host("reviews")))
            .isEqualTo("httpRoutes[0] (r).destinations[0].subset: v9 not defined for "
                + host("reviews") + " (expected one of: [v1])"));
  }

  @Test
  void refusesARouteToAHostItDoesNotKnow() {
    ServiceView bad = view("productpage")
        .setHttpRoutes(List.of(route("r", List.of(), to("ratings", null, 100)).build()))
        .build();

    assertThatThrownBy(() -> ProxySnapshot.of(ViewTranslator.translate(bad)))
        .hasMessageContaining("destinations[0].host: " + host("ratings") + " not known");
  }

  @Test
  void refusesWeightsThatDoNotSumToOneHundred() {
    ServiceView bad = view("reviews").setSubsets(List.of(subset("v1"), subset("v2")))
        .setHttpRoutes(List.of(route("r", List.of(), to("reviews", "v1", 80),
            to("reviews", "v2", 10)).build()))
        .build();

    assertThatThrownBy(() -> ProxySnapshot.of(ViewTranslator.translate(bad)))
        .hasMessageContaining("httpRoutes[0] (r).destinations: weights sum to 90 (expected: 100)");
  }

  @Test
  void refusesABadRegexNamingTheField() {
    ServiceView bad = view("reviews")
        .setHttpRoutes(List.of(route("r", List.of(HttpMatch.newBuilder()
            .setUri(match(MatchType.REGEX, "/api/(v1")).build()), to("reviews", null, 100))
            .build()))
        .build();

    assertThatThrownBy(() -> ViewTranslator.translate(bad))
        .isInstanceOf(ViewRejectedException.class)
        .hasMessageStartingWith("httpRoutes[0] (r).matches[0].uri.regex: /api/(v1 is not a valid "
            + "regex");
  }

  @Test
  void refusesAnUnknownRetryCondition() {
    ServiceView bad = view("reviews")
        .setHttpRoutes(List.of(route("r", List.of(), to("reviews", null, 100))
            .setRetries(RetryPolicy.newBuilder().setAttempts(2)
                .setRetryOn(List.of("5xx,on-a-full-moon")).build()).build()))
        .build();

    assertThatThrownBy(() -> ViewTranslator.translate(bad))
        .hasMessageContaining("retries.retryOn: on-a-full-moon (expected: 5xx");
  }

  @Test
  void istiosDefaultRetriesRefusedStreamsNotEveryReset() {
    ServiceView v = view("reviews")
        .setHttpRoutes(List.of(route("r", List.of(), to("reviews", null, 100))
            .setRetries(RetryPolicy.newBuilder().setAttempts(2).build()).build()))
        .build();

    RetryConfig r = ViewTranslator.translate(v).routes().get(0).retries();

    assertThat(r.retryOn()).containsExactlyInAnyOrder(RetryOn.CONNECT_FAILURE,
        RetryOn.REFUSED_STREAM, RetryOn.RETRIABLE_STATUS_CODES, RetryOn.GRPC_CANCELLED,
        RetryOn.GRPC_UNAVAILABLE);
    assertThat(r.retriableStatusCodes()).containsExactly(503);
  }

  @Test
  void refusedStreamIsItsOwnConditionNotReset() {
    ServiceView v = view("reviews")
        .setHttpRoutes(List.of(route("r", List.of(), to("reviews", null, 100))
            .setRetries(RetryPolicy.newBuilder().setAttempts(2)
                .setRetryOn(List.of("refused-stream")).build()).build()))
        .build();

    assertThat(ViewTranslator.translate(v).routes().get(0).retries().retryOn())
        .containsExactly(RetryOn.REFUSED_STREAM);
  }

  @Test
  void aSubsetInheritsTheHostPolicyItDoesNotOverride() {
    TrafficPolicy hostPolicy = TrafficPolicy.newBuilder()
        .setLoadBalancer(LoadBalancer.newBuilder().setSimple(LbPolicy.LEAST_REQUEST).build())
        .setConnectionPool(ConnectionPool.newBuilder().setMaxConnections(7).build())
        .setOutlierDetection(OutlierDetection.newBuilder().setConsecutive5xxErrors(3).build())
        .build();
    TrafficPolicy subsetPolicy = TrafficPolicy.newBuilder()
        .setLoadBalancer(LoadBalancer.newBuilder().setSimple(LbPolicy.RANDOM).build()).build();
    ServiceView v = view("reviews").setTrafficPolicy(hostPolicy)
        .setSubsets(List.of(Subset.newBuilder().setName("v2").setLabels(Map.of("version", "v2"))
            .setTrafficPolicy(subsetPolicy).build()))
        .build();

    TrafficPolicyConfig p = ViewTranslator.translate(v).policyOf("v2");

    assertThat(p.loadBalancer().policy()).isEqualTo(LbConfig.Policy.RANDOM);
    assertThat(p.limits().maxConnections()).isEqualTo(7);
    assertThat(p.outlierDetection().consecutive5xx()).isEqualTo(3);
  }

  @Test
  void refusesToDropAHostAnotherHostStillRoutesTo() {
    ServiceConfig ratings = ViewTranslator.translate(view("ratings").build());
    ServiceConfig productpage = ViewTranslator.translate(view("productpage")
        .setHttpRoutes(List.of(route("r", List.of(), to("ratings", null, 100)).build())).build());
    ProxySnapshot snapshot = ProxySnapshot.of(ratings, productpage);

    assertThatThrownBy(() -> snapshot.without(host("ratings")))
        .isInstanceOf(InconsistentSnapshotException.class)
        .satisfies(e -> assertThat(((InconsistentSnapshotException) e).problemsByHost())
            .containsOnlyKeys(host("productpage")));
    assertThat(snapshot.services()).containsKey(host("ratings"));
  }

  @Test
  void translatesRe2StyleSubstitutionGroupsToJavas() {
    assertThat(ViewTranslator.re2Substitution("/v2/\\1/$x")).isEqualTo("/v2/$1/\\$x");
  }
}
