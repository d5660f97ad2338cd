package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.specProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Kind;

class PeerAuthenticationValidationTest {

  private static List<String> problems(String spec) {
    return specProblems(Kind.PEER_AUTHENTICATION, spec);
  }

  @Test
  void checksMode() {
    assertThat(problems("mtls: {mode: STRICTEST}\n"))
        .containsExactly("spec.mtls.mode: STRICTEST (expected one of: UNSET, DISABLE, PERMISSIVE, STRICT)");
  }

  @Test
  void checksPortLevelPorts() {
    assertThat(problems("""
        selector:
          matchLabels: {app: details}
        portLevelMtls:
          8080: {mode: DISABLE}
          "0": {mode: DISABLE}
          http: {mode: DISABLE}
          9090: {mode: OFF}
        """)).containsExactly(
        "spec.portLevelMtls[0]: 0 (expected: a port number 1..65535)",
        "spec.portLevelMtls[http]: http (expected: a port number 1..65535)",
        "spec.portLevelMtls[9090].mode: OFF (expected one of: UNSET, DISABLE, PERMISSIVE, STRICT)");
  }

  @Test
  void requiresSelectorForPortLevelMtls() {
    assertThat(problems("""
        mtls: {mode: STRICT}
        portLevelMtls:
          8080: {mode: DISABLE}
        """)).containsExactly("spec.portLevelMtls: not allowed without selector.matchLabels "
        + "(expected: a selector naming the workloads whose ports these are)");
  }

  @Test
  void rejectsUnknownFields() {
    assertThat(problems("mode: STRICT\n"))
        .containsExactly("spec.mode: unknown field (expected one of: selector, mtls, portLevelMtls)");
  }
}
