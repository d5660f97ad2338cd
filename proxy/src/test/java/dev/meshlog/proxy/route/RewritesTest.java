package dev.meshlog.proxy.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import dev.meshlog.proxy.config.MatchConfig;
import dev.meshlog.proxy.config.RouteConfig;
import dev.meshlog.proxy.config.StringMatcher;
import org.junit.jupiter.api.Test;

class RewritesTest {

  private static MatchConfig uri(StringMatcher m) {
    return new MatchConfig("", m, null, null, null, Map.of(), Map.of(), Map.of(), Map.of(), null,
        false, List.of());
  }

  @Test
  void replacesTheMatchedPrefixAndKeepsTheRestAndTheQuery() {
    RouteConfig.Rewrite rw = new RouteConfig.Rewrite("/v2/", null, null, null);

    assertThat(Rewrites.rewritePath(rw, uri(StringMatcher.prefix("/v1/")), "/v1/reviews/1",
        "a=b")).isEqualTo("/v2/reviews/1?a=b");
  }

  @Test
  void replacesTheWholePathWhenTheMatchWasNotAPrefix() {
    RouteConfig.Rewrite rw = new RouteConfig.Rewrite("/health", null, null, null);

    assertThat(Rewrites.rewritePath(rw, uri(StringMatcher.exact("/healthz")), "/healthz", null))
        .isEqualTo("/health");
  }

  @Test
  void rewritesByRegexWithGroups() {
    RouteConfig.Rewrite rw = new RouteConfig.Rewrite(null,
        Pattern.compile("^/service/([^/]+)(/.*)$"), "$2/instance/$1", null);

    assertThat(Rewrites.rewritePath(rw, MatchConfig.ANY, "/service/foo/v1/api", null))
        .isEqualTo("/v1/api/instance/foo");
  }

  @Test
  void redirectsToANewPathAndHostKeepingTheScheme() {
    RouteConfig.Redirect r = new RouteConfig.Redirect("/v1/bookRatings", "newratings.default",
        null, null, 301);

    assertThat(Rewrites.location(r, "http", "ratings:9080", "/v1/ratings", "x=1"))
        .isEqualTo("http://newratings.default:9080/v1/bookRatings");
  }

  @Test
  void redirectsToHttpsOnItsDefaultPortKeepingPathAndQuery() {
    RouteConfig.Redirect r = new RouteConfig.Redirect(null, null, "https", 443, 308);

    assertThat(Rewrites.location(r, "http", "reviews:80", "/a", "b=c"))
        .isEqualTo("https://reviews/a?b=c");
  }
}
