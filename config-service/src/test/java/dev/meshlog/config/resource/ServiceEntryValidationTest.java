package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.specProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Kind;

class ServiceEntryValidationTest {

  private static List<String> problems(String spec) {
    return specProblems(Kind.SERVICE_ENTRY, spec);
  }

  @Test
  void requiresHosts() {
    assertThat(problems("location: MESH_EXTERNAL\n")).containsExactly("spec.hosts: required");
  }

  @Test
  void checksPorts() {
    assertThat(problems("""
        hosts: [api.example.com]
        ports:
        - number: 0
          name: http
          protocol: http
        - number: 27017
          name: mongo
          protocol: MONGO
        - protocol: TCP
        """)).containsExactly(
        "spec.ports[0].number: 0 (expected: 1..65535)",
        "spec.ports[0].protocol: http (expected one of: HTTP, HTTP2, GRPC, TCP, TLS, HTTPS)",
        "spec.ports[1].protocol: MONGO not supported (expected one of: HTTP, HTTP2, GRPC, TCP, TLS, HTTPS)",
        "spec.ports[2].number: required",
        "spec.ports[2].name: required");
  }

  @Test
  void checksLocationAndResolution() {
    assertThat(problems("""
        hosts: [api.example.com]
        location: EXTERNAL
        resolution: DYNAMIC_DNS
        """)).containsExactly(
        "spec.location: EXTERNAL (expected one of: MESH_EXTERNAL, MESH_INTERNAL)",
        "spec.resolution: DYNAMIC_DNS (expected one of: NONE, STATIC, DNS, DNS_ROUND_ROBIN)");
  }

  @Test
  void requiresIpAddressesWhenResolutionIsStatic() {
    assertThat(problems("""
        hosts: [db.legacy.internal]
        ports: [{number: 5432, name: tcp-postgres, protocol: TCP}]
        resolution: STATIC
        endpoints:
        - address: 10.0.0.7
        - address: db1.legacy.internal
        - address: "2001:db8::7"
        - address: 300.1.1.1
        """)).containsExactly(
        "spec.endpoints[3].address: 300.1.1.1 (expected: an IP address or a DNS name)",
        "spec.endpoints[1].address: db1.legacy.internal (expected: an IP address, as resolution is STATIC)");
  }

  @Test
  void requiresEndpointsWhenResolutionIsStatic() {
    assertThat(problems("""
        hosts: [db.legacy.internal]
        resolution: STATIC
        """)).containsExactly("spec.endpoints: required when resolution is STATIC");
  }

  @Test
  void requiresEndpointPortsToNameDeclaredPorts() {
    assertThat(problems("""
        hosts: [db.legacy.internal]
        ports: [{number: 5432, name: tcp-postgres}]
        resolution: DNS
        endpoints:
        - address: db1.legacy.internal
          ports: {tcp-postgres: 15432, postgres: 5432}
          weight: -1
        """)).containsExactly(
        "spec.endpoints[0].weight: -1 (expected: 0 or more)",
        "spec.endpoints[0].ports[postgres]: postgres (expected: a port name declared in spec.ports: tcp-postgres)");
  }

  @Test
  void rejectsUnsupportedFields() {
    assertThat(problems("""
        hosts: [api.example.com]
        addresses: [240.0.0.1]
        subjectAltNames: [spiffe://example.com/api]
        endpoints:
        - address: 10.0.0.1
          network: network-2
        """)).containsExactly(
        "spec.addresses: not supported",
        "spec.subjectAltNames: not supported",
        "spec.endpoints[0].network: not supported");
  }
}
