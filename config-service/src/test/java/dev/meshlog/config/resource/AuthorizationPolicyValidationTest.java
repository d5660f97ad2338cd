package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.specProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Kind;

class AuthorizationPolicyValidationTest {

  private static List<String> problems(String spec) {
    return specProblems(Kind.AUTHORIZATION_POLICY, spec);
  }

  @Test
  void acceptsAnEmptyPolicyThatAllowsNothing() {
    assertThat(problems("{}\n")).isEmpty();
  }

  @Test
  void rejectsCustomAction() {
    assertThat(problems("""
        action: CUSTOM
        provider: {name: opa}
        rules: [{}]
        """)).containsExactly(
        "spec.action: CUSTOM not supported (expected one of: ALLOW, DENY, AUDIT)",
        "spec.provider: not supported");
  }

  @Test
  void requiresIpBlocksToBeAddressesOrCidrs() {
    assertThat(problems("""
        rules:
        - from:
          - source:
              ipBlocks: [10.0.0.0/8, 192.168.0.1, "2001:db8::/32", 10.0.0.0/33, example.com]
              notIpBlocks: [10.1.0.0/16]
              remoteIpBlocks: [1.2.3.4]
        """)).containsExactly(
        "spec.rules[0].from[0].source.ipBlocks[3]: 10.0.0.0/33 (expected: an IP address or CIDR block such as 10.0.0.0/16)",
        "spec.rules[0].from[0].source.ipBlocks[4]: example.com (expected: an IP address or CIDR block such as 10.0.0.0/16)",
        "spec.rules[0].from[0].source.remoteIpBlocks: not supported");
  }

  @Test
  void checksOperations() {
    assertThat(problems("""
        rules:
        - to:
          - operation:
              ports: ["8080", 9090, "99999"]
              methods: [GET]
              path: [/admin]
          - {}
        """)).containsExactly(
        "spec.rules[0].to[0].operation.ports[1]: 9090 (expected: a port number 1..65535 as a string, such as \"8080\")",
        "spec.rules[0].to[0].operation.ports[2]: 99999 (expected: a port number 1..65535 as a string, such as \"8080\")",
        "spec.rules[0].to[0].operation.path: unknown field "
            + "(expected one of: hosts, notHosts, ports, notPorts, methods, notMethods, paths, notPaths)",
        "spec.rules[0].to[1].operation: required");
  }

  @Test
  void requiresConditionKey() {
    assertThat(problems("""
        rules:
        - when:
          - values: [v1]
          - key: request.auth.claims[iss]
            notValues: ["https://evil.example.com"]
        """)).containsExactly("spec.rules[0].when[0].key: required");
  }

  @Test
  void rejectsTargetRefs() {
    assertThat(problems("""
        targetRefs:
        - {kind: Gateway, group: gateway.networking.k8s.io, name: bookinfo}
        """)).containsExactly("spec.targetRefs: not supported");
  }
}
