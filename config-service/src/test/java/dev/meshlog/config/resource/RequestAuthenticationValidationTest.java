package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.specProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Kind;

class RequestAuthenticationValidationTest {

  private static List<String> problems(String spec) {
    return specProblems(Kind.REQUEST_AUTHENTICATION, spec);
  }

  @Test
  void requiresIssuer() {
    assertThat(problems("""
        jwtRules:
        - audiences: [bookinfo]
        - issuer: ""
        """)).containsExactly(
        "spec.jwtRules[0].issuer: required",
        "spec.jwtRules[1].issuer: \"\" (expected: a non-empty string)");
  }

  @Test
  void checksKeySources() {
    assertThat(problems("""
        jwtRules:
        - issuer: https://accounts.example.com
          jwksUri: accounts.example.com/jwks
          jwks: '{"keys": []}'
          fromHeaders:
          - prefix: "Bearer "
        - issuer: https://accounts.example.com
          jwks_uri: https://accounts.example.com/jwks
        """)).containsExactly(
        "spec.jwtRules[0].jwksUri: accounts.example.com/jwks (expected: an http or https URL)",
        "spec.jwtRules[0].fromHeaders[0].name: required",
        "spec.jwtRules[0]: jwksUri and jwks set (expected: at most one of jwksUri, jwks)",
        "spec.jwtRules[1].jwks_uri: not supported (use jwksUri)");
  }

  @Test
  void rejectsUnsupportedFields() {
    assertThat(problems("""
        targetRef: {kind: Gateway, name: bookinfo}
        jwtRules:
        - issuer: https://accounts.example.com
          outputPayloadToHeader: x-jwt-payload
          timeout: 5s
          forwardOriginalToken: "yes"
        """)).containsExactly(
        "spec.targetRef: not supported",
        "spec.jwtRules[0].outputPayloadToHeader: not supported",
        "spec.jwtRules[0].timeout: not supported",
        "spec.jwtRules[0].forwardOriginalToken: yes (expected: true or false)");
  }
}
