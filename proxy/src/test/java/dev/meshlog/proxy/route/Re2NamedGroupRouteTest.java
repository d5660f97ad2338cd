package dev.meshlog.proxy.route;

import static dev.meshlog.proxy.support.Views.match;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.config.ViewTranslator;
import org.junit.jupiter.api.Test;

/** A view's regexes are RE2: a named group {@code (?P<name>…)}, as Envoy takes it, routes. */
class Re2NamedGroupRouteTest {

  private final Router router = new Router(Map.of("app", "productpage"));

  private Optional<String> routeOf(ServiceConfig s, String path) {
    return router.route(s, SimpleRequest.get("reviews", path), 9080).map(x -> x.route().name());
  }

  @Test
  void aRouteWithAnRe2NamedGroupInItsUriRegexMatches() {
    ServiceConfig s = ViewTranslator.translate(view("reviews").setHttpRoutes(List.of(
        route("versioned", List.of(HttpMatch.newBuilder()
            .setUri(match(MatchType.REGEX, "/api/v(?P<v>\\d+)/(?P<rest_of>.*)")).build()),
            to("reviews", null, 100)).build(),
        route("rest", List.of(), to("reviews", null, 100)).build())).build());

    assertThat(routeOf(s, "/api/v2/reviews/1")).contains("versioned");
    assertThat(routeOf(s, "/api/vx/reviews/1")).contains("rest");
  }
}
