package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import dev.meshlog.proxy.config.CorsConfig;
import dev.meshlog.proxy.config.StringMatcher;
import dev.meshlog.proxy.http.Cors.Outcome;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.Test;

class CorsTest {

  private static CorsConfig policy(boolean forwardUnmatched, StringMatcher... origins) {
    return new CorsConfig(List.of(origins), "POST,GET", "X-Foo-Bar", "x-request-id", "86400",
        true, forwardUnmatched);
  }

  private static final CorsConfig EXAMPLE = policy(true,
      StringMatcher.exact("https://example.com"), StringMatcher.prefix("https://app."),
      StringMatcher.regex("https://[a-z]+[.]example[.]org"));

  @Test
  void allowsOriginsThatAnExactPrefixOrRegexMatcherMatches() {
    assertThat(EXAMPLE.allows("https://example.com")).isTrue();
    assertThat(EXAMPLE.allows("https://app.shop.io")).isTrue();
    assertThat(EXAMPLE.allows("https://docs.example.org")).isTrue();
    assertThat(EXAMPLE.allows("http://example.com")).isFalse();
    assertThat(EXAMPLE.allows("https://example.com.evil.io")).isFalse();
    assertThat(EXAMPLE.allows("https://docs.example.org.evil.io")).isFalse();
  }

  @Test
  void aMatcherThatMatchesTheWildcardAllowsEveryOriginAsInEnvoy() {
    assertThat(policy(true, StringMatcher.exact("*")).allows("https://anyone.io")).isTrue();
    assertThat(policy(true, StringMatcher.prefix("*")).allows("https://anyone.io")).isTrue();
    assertThat(policy(true, StringMatcher.regex(".*")).allows("https://anyone.io")).isTrue();
    assertThat(policy(true).allows("https://anyone.io")).isFalse();
  }

  @Test
  void aPreflightIsOptionsWithAnOriginAndARequestedMethod() {
    assertThat(Cors.decide(EXAMPLE, HttpMethod.OPTIONS, "https://example.com", "PUT"))
        .isEqualTo(Outcome.ANSWER_PREFLIGHT);
    assertThat(Cors.decide(EXAMPLE, HttpMethod.OPTIONS, "https://example.com", null))
        .isEqualTo(Outcome.MARK_RESPONSE);
    assertThat(Cors.decide(EXAMPLE, HttpMethod.OPTIONS, "https://example.com", ""))
        .isEqualTo(Outcome.MARK_RESPONSE);
    assertThat(Cors.decide(EXAMPLE, HttpMethod.OPTIONS, null, "PUT")).isEqualTo(Outcome.PASS);
    assertThat(Cors.decide(EXAMPLE, HttpMethod.OPTIONS, "", "PUT")).isEqualTo(Outcome.PASS);
  }

  @Test
  void anActualRequestIsMarkedOnlyFromAnAllowedOrigin() {
    assertThat(Cors.decide(EXAMPLE, HttpMethod.GET, "https://example.com", null))
        .isEqualTo(Outcome.MARK_RESPONSE);
    assertThat(Cors.decide(EXAMPLE, HttpMethod.GET, "https://evil.io", null))
        .isEqualTo(Outcome.PASS);
    assertThat(Cors.decide(EXAMPLE, HttpMethod.GET, null, null)).isEqualTo(Outcome.PASS);
  }

  @Test
  void anUnmatchedPreflightIsForwardedUnlessThePolicySaysIgnore() {
    assertThat(Cors.decide(EXAMPLE, HttpMethod.OPTIONS, "https://evil.io", "PUT"))
        .isEqualTo(Outcome.PASS);
    CorsConfig ignore = policy(false, StringMatcher.exact("https://example.com"));
    assertThat(Cors.decide(ignore, HttpMethod.OPTIONS, "https://evil.io", "PUT"))
        .isEqualTo(Outcome.ANSWER_PREFLIGHT);
  }

  @Test
  void answersAnAllowedPreflightWithTheOriginMethodsHeadersMaxAgeAndCredentials() {
    MultiMap request = HttpHeaders.headers().add("Origin", "https://example.com")
        .add("Access-Control-Request-Method", "POST");

    MultiMap answer = Cors.preflightResponse(EXAMPLE, request, true);

    assertThat(answer.get("access-control-allow-origin")).isEqualTo("https://example.com");
    assertThat(answer.get("access-control-allow-methods")).isEqualTo("POST,GET");
    assertThat(answer.get("access-control-allow-headers")).isEqualTo("X-Foo-Bar");
    assertThat(answer.get("access-control-max-age")).isEqualTo("86400");
    assertThat(answer.get("access-control-allow-credentials")).isEqualTo("true");
    assertThat(answer.get("access-control-expose-headers")).isNull();
  }

  @Test
  void anIgnoredPreflightGetsNoAllowedOrigin() {
    MultiMap request = HttpHeaders.headers().add("Origin", "https://evil.io")
        .add("Access-Control-Request-Method", "POST");

    MultiMap answer = Cors.preflightResponse(EXAMPLE, request, false);

    assertThat(answer.get("access-control-allow-origin")).isNull();
  }

  @Test
  void aWildcardInAllowHeadersEchoesWhatThePreflightAsksAndEmptyValuesAreNotSent() {
    CorsConfig wildcard = new CorsConfig(List.of(StringMatcher.exact("https://a.io")), "", "*",
        "", "", false, true);
    MultiMap request = HttpHeaders.headers().add("Origin", "https://a.io")
        .add("Access-Control-Request-Method", "PUT")
        .add("Access-Control-Request-Headers", "content-type,x-token");

    MultiMap answer = Cors.preflightResponse(wildcard, request, true);

    assertThat(answer.get("access-control-allow-headers")).isEqualTo("content-type,x-token");
    assertThat(answer.names()).containsExactlyInAnyOrder("access-control-allow-origin",
        "access-control-allow-headers");
  }

  @Test
  void marksAnActualResponseWithTheRequestsOriginExposedHeadersAndCredentials() {
    MultiMap response = HttpHeaders.headers().add("access-control-allow-origin", "*")
        .add("content-type", "text/plain");

    Cors.markResponse(EXAMPLE, "https://example.com", response);

    assertThat(response.getAll("access-control-allow-origin")).containsExactly("https://example.com");
    assertThat(response.get("access-control-expose-headers")).isEqualTo("x-request-id");
    assertThat(response.get("access-control-allow-credentials")).isEqualTo("true");
    assertThat(response.get("access-control-allow-methods")).isNull();
  }
}
