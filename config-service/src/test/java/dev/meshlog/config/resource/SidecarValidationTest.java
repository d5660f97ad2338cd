package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.specProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Kind;

class SidecarValidationTest {

  private static List<String> problems(String spec) {
    return specProblems(Kind.SIDECAR, spec);
  }

  @Test
  void requiresEgressHostsToNameTheirNamespace() {
    assertThat(problems("""
        egress:
        - hosts: ["./*", "*/*", "istio-system/*", "prod/*.example.com", "reviews", "./"]
        - port: {number: 9080, protocol: HTTP, name: http}
        """)).containsExactly(
        "spec.egress[0].hosts[4]: reviews (expected: namespace/host, where namespace is a name, "
            + ". or * and host is a DNS name, *.suffix or *)",
        "spec.egress[0].hosts[5]: ./ (expected: namespace/host, where namespace is a name, "
            + ". or * and host is a DNS name, *.suffix or *)",
        "spec.egress[1].port: not supported",
        "spec.egress[1].hosts: required");
  }

  @Test
  void checksOutboundTrafficPolicy() {
    assertThat(problems("""
        outboundTrafficPolicy:
          mode: DENY_ALL
          egressProxy: {host: egress.istio-system.svc.cluster.local}
        """)).containsExactly(
        "spec.outboundTrafficPolicy.mode: DENY_ALL (expected one of: REGISTRY_ONLY, ALLOW_ANY)",
        "spec.outboundTrafficPolicy.egressProxy: not supported");
  }

  @Test
  void rejectsIngressListeners() {
    assertThat(problems("""
        workloadSelector:
          labels: {app: reviews}
          matchLabels: {app: reviews}
        ingress:
        - port: {number: 9080, protocol: HTTP, name: http}
        """)).containsExactly(
        "spec.workloadSelector.matchLabels: unknown field (expected one of: labels)",
        "spec.ingress: not supported");
  }
}
