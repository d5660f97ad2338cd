package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.specProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Kind;

class RateLimitValidationTest {

  private static List<String> problems(String spec) {
    return specProblems(Kind.RATE_LIMIT, spec);
  }

  @Test
  void requiresHostRateAndUnit() {
    assertThat(problems("burst: 5\n")).containsExactly(
        "spec.host: required",
        "spec.requestsPerUnit: required",
        "spec.unit: required");
  }

  @Test
  void checksRateUnitAndBurst() {
    assertThat(problems("""
        host: "*.bookinfo"
        requestsPerUnit: 0
        unit: WEEK
        burst: -1
        shadow: maybe
        """)).containsExactly(
        "spec.host: *.bookinfo (expected: a DNS name such as reviews or reviews.prod.svc.cluster.local)",
        "spec.requestsPerUnit: 0 (expected: 1 or more)",
        "spec.unit: WEEK (expected one of: SECOND, MINUTE, HOUR, DAY)",
        "spec.burst: -1 (expected: 0 or more)",
        "spec.shadow: maybe (expected: true or false)");
  }

  @Test
  void checksMatchesLikeVirtualServiceMatches() {
    assertThat(problems("""
        host: ratings
        requestsPerUnit: 100
        unit: MINUTE
        match:
        - uri: {prefix: /ratings, regex: "^/ratings"}
          statPrefix: ratings
          path: /ratings
        """)).containsExactly(
        "spec.match[0].uri: prefix and regex set (expected: exactly one of exact, prefix, regex)",
        "spec.match[0].statPrefix: not supported",
        "spec.match[0].path: unknown field (expected one of: name, uri, scheme, method, authority, headers, "
            + "withoutHeaders, queryParams, sourceLabels, port, gateways, ignoreUriCase)");
  }
}
