package dev.meshlog.proxy.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.meshlog.proxy.config.DestinationConfig;
import dev.meshlog.proxy.config.MatchConfig;
import dev.meshlog.proxy.config.RouteConfig;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.config.StringMatcher;
import org.junit.jupiter.api.Test;

class RouterTest {

  private static final String HOST = "reviews.default.svc.cluster.local";
  private final Router router = new Router(Map.of("app", "productpage", "version", "v1"));

  private static MatchConfig m(StringMatcher uri, Map<String, StringMatcher> headers) {
    return new MatchConfig("", uri, null, null, null, headers, Map.of(), Map.of(), Map.of(), null,
        false, List.of());
  }

  private static RouteConfig route(String name, MatchConfig... matches) {
    return new RouteConfig(name, List.of(matches), List.of(DestinationConfig.to(HOST, null)), null,
        null, null, null, null, null, null, null, 0, null, null);
  }

  private static ServiceConfig service(RouteConfig... routes) {
    return new ServiceConfig(HOST, "reviews", "default", 1, List.of(dev.meshlog.proxy.config.PortConfig.of(9080,
        dev.meshlog.proxy.config.PortConfig.Protocol.HTTP)), List.of(), null,
        Map.of(), List.of(routes), List.of());
  }

  private Optional<String> routeOf(ServiceConfig s, SimpleRequest r) {
    return router.route(s, r, 9080).map(x -> x.route().name());
  }

  @Test
  void firstMatchingRouteWins() {
    ServiceConfig s = service(route("api", m(StringMatcher.prefix("/api"), Map.of())),
        route("api-v1", m(StringMatcher.prefix("/api/v1"), Map.of())), route("rest"));

    assertThat(routeOf(s, SimpleRequest.get("reviews", "/api/v1/x"))).contains("api");
    assertThat(routeOf(s, SimpleRequest.get("reviews", "/other"))).contains("rest");
  }

  @Test
  void matchesUriExactlyByPrefixAndByWholeStringRegex() {
    ServiceConfig s = service(route("exact", m(StringMatcher.exact("/login"), Map.of())),
        route("regex", m(StringMatcher.regex("/reviews/[0-9]+"), Map.of())));

    assertThat(routeOf(s, SimpleRequest.get("reviews", "/login?next=/"))).contains("exact");
    assertThat(routeOf(s, SimpleRequest.get("reviews", "/login/x"))).isEmpty();
    assertThat(routeOf(s, SimpleRequest.get("reviews", "/reviews/42"))).contains("regex");
    assertThat(routeOf(s, SimpleRequest.get("reviews", "/reviews/42/x"))).isEmpty();
  }

  @Test
  void ignoresUriCaseOnlyWhenAsked() {
    MatchConfig caseless = new MatchConfig("", StringMatcher.prefix("/API"), null, null, null,
        Map.of(), Map.of(), Map.of(), Map.of(), null, true, List.of());
    ServiceConfig s = service(route("api", caseless));

    assertThat(routeOf(s, SimpleRequest.get("reviews", "/api/x"))).contains("api");
  }

  @Test
  void routesAFirefoxUserAgentByRegexOnTheHeader() {
    ServiceConfig s = service(
        route("firefox", m(null, Map.of("user-agent", StringMatcher.regex(".*Firefox.*")))),
        route("rest"));

    assertThat(routeOf(s, SimpleRequest.get("reviews", "/", "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")))
        .contains("firefox");
    assertThat(routeOf(s, SimpleRequest.get("reviews", "/", "User-Agent", "curl/8.0")))
        .contains("rest");
  }

  @Test
  void requiresEveryConditionOfOneMatchAndAnyMatchOfARoute() {
    MatchConfig both = m(StringMatcher.prefix("/api"),
        Map.of("end-user", StringMatcher.exact("jason"), "x-tier", StringMatcher.prefix("gold")));
    ServiceConfig s = service(route("r", both, m(StringMatcher.exact("/other"), Map.of())));

    assertThat(routeOf(s, SimpleRequest.get("reviews", "/api", "end-user", "jason", "x-tier",
        "gold-plus"))).contains("r");
    assertThat(routeOf(s, SimpleRequest.get("reviews", "/api", "end-user", "jason"))).isEmpty();
    assertThat(routeOf(s, SimpleRequest.get("reviews", "/other"))).contains("r");
  }

  @Test
  void withoutHeadersMatchesWhenTheHeaderIsAbsentOrDifferent() {
    MatchConfig noCanary = new MatchConfig("", null, null, null, null, Map.of(),
        Map.of("x-canary", StringMatcher.exact("true")), Map.of(), Map.of(), null, false,
        List.of());
    ServiceConfig s = service(route("stable", noCanary));

    assertThat(routeOf(s, SimpleRequest.get("reviews", "/"))).contains("stable");
    assertThat(routeOf(s, SimpleRequest.get("reviews", "/", "x-canary", "false")))
        .contains("stable");
    assertThat(routeOf(s, SimpleRequest.get("reviews", "/", "x-canary", "true"))).isEmpty();
  }

  @Test
  void matchesMethodAuthorityAndQueryParams() {
    MatchConfig m = new MatchConfig("", null, StringMatcher.exact("POST"),
        StringMatcher.exact("reviews"), null, Map.of(), Map.of(),
        Map.of("debug", StringMatcher.exact("1")), Map.of(), null, false, List.of());
    ServiceConfig s = service(route("r", m));
    SimpleRequest post = new SimpleRequest("POST", "/x?debug=1&y=2", "reviews:9080", Map.of(),
        "10.0.0.1");
    SimpleRequest get = new SimpleRequest("GET", "/x?debug=1", "reviews:9080", Map.of(),
        "10.0.0.1");
    SimpleRequest noDebug = new SimpleRequest("POST", "/x?debug=0", "reviews", Map.of(),
        "10.0.0.1");

    assertThat(routeOf(s, post)).contains("r");
    assertThat(routeOf(s, get)).isEmpty();
    assertThat(routeOf(s, noDebug)).isEmpty();
  }

  @Test
  void matchesTheCallingWorkloadsSourceLabels() {
    MatchConfig fromV1 = new MatchConfig("", null, null, null, null, Map.of(), Map.of(), Map.of(),
        Map.of("app", "productpage", "version", "v1"), null, false, List.of());
    MatchConfig fromV2 = new MatchConfig("", null, null, null, null, Map.of(), Map.of(), Map.of(),
        Map.of("version", "v2"), null, false, List.of());
    ServiceConfig s = service(route("v2", fromV2), route("v1", fromV1));

    assertThat(routeOf(s, SimpleRequest.get("reviews", "/"))).contains("v1");
  }

  @Test
  void skipsMatchesMeantOnlyForGatewaysAndOtherPorts() {
    MatchConfig gatewayOnly = new MatchConfig("", null, null, null, null, Map.of(), Map.of(),
        Map.of(), Map.of(), null, false, List.of("istio-system/ingress"));
    MatchConfig otherPort = new MatchConfig("", null, null, null, null, Map.of(), Map.of(),
        Map.of(), Map.of(), 9443, false, List.of());
    ServiceConfig s = service(route("gw", gatewayOnly), route("tls", otherPort), route("rest"));

    assertThat(routeOf(s, SimpleRequest.get("reviews", "/"))).contains("rest");
  }

  @Test
  void aServiceWithoutRoutesSendsEverythingToAllItsEndpoints() {
    ServiceConfig s = service();

    Optional<RouteMatch> m = router.route(s, SimpleRequest.get("reviews", "/anything"), 9080);

    assertThat(m).get().extracting(x -> x.route().destinations().get(0).cluster().subset())
        .isNull();
  }

  @Test
  void aGatewayRouterTakesRoutesForTheHostWithMatchesBoundToItsGateway() {
    Router gateway = new Router(Map.of(), "default/gw");
    MatchConfig otherGateway = new MatchConfig("", null, null, null, null, Map.of(), Map.of(),
        Map.of(), Map.of(), null, false, List.of("ops/other"));
    RouteConfig forOther = new RouteConfig("other", List.of(otherGateway),
        List.of(DestinationConfig.to(HOST, null)), null, null, null, null, null, null, null,
        null, 0, null, null, List.of("shop.example.com"));
    RouteConfig api = new RouteConfig("api", List.of(), List.of(DestinationConfig.to(HOST, null)),
        null, null, null, null, null, null, null, null, 0, null, null, List.of("api.example.com"));
    RouteConfig shop = new RouteConfig("shop", List.of(), List.of(DestinationConfig.to(HOST,
        null)), null, null, null, null, null, null, null, null, 0, null, null,
        List.of("*.example.com"));
    ServiceConfig view = service(forOther, api, shop);

    assertThat(gateway.route(view, SimpleRequest.get("shop.example.com:8080", "/"),
        80).map(x -> x.route().name())).contains("shop");
    assertThat(gateway.route(view, SimpleRequest.get("api.example.com", "/"), 80)
        .map(x -> x.route().name())).contains("api");
    assertThat(gateway.route(view, SimpleRequest.get("example.org", "/"), 80))
        .isEmpty();
  }
}
