package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.specProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Kind;

class GatewayValidationTest {

  private static List<String> problems(String spec) {
    return specProblems(Kind.GATEWAY, spec);
  }

  @Test
  void requiresServers() {
    assertThat(problems("selector: {istio: ingressgateway}\n")).containsExactly("spec.servers: required");
  }

  @Test
  void requiresServerPortAndHosts() {
    assertThat(problems("""
        servers:
        - name: web
        - port: {number: 80}
          hosts: []
        """)).containsExactly(
        "spec.servers[0].port: required",
        "spec.servers[0].hosts: required",
        "spec.servers[1].port.protocol: required",
        "spec.servers[1].port.name: required",
        "spec.servers[1].hosts: [] (expected: at least one item)");
  }

  @Test
  void acceptsHttpsServersTerminatedWithFiles() {
    assertThat(problems("""
        servers:
        - port: {number: 443, name: https, protocol: HTTPS}
          hosts: [bookinfo.example.com]
          tls:
            mode: SIMPLE
            serverCertificate: /etc/certs/server.pem
            privateKey: /etc/certs/key.pem
        - port: {number: 8443, name: mtls, protocol: HTTPS}
          hosts: [bookinfo.example.com]
          tls:
            mode: MUTUAL
            serverCertificate: /etc/certs/server.pem
            privateKey: /etc/certs/key.pem
            caCertificates: /etc/certs/ca.pem
        """)).isEmpty();
  }

  @Test
  void rejectsTlsSettingsMeshlogCannotHonour() {
    assertThat(problems("""
        servers:
        - port: {number: 443, name: https, protocol: HTTPS}
          hosts: [bookinfo.example.com]
          tls:
            mode: SIMPLE
            credentialName: bookinfo-cert
        - port: {number: 443, name: tls, protocol: TLS}
          hosts: [bookinfo.example.com]
          tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem}
        - port: {number: 443, name: https2, protocol: HTTPS}
          hosts: [bookinfo.example.com]
        - port: {number: 8443, name: mtls, protocol: HTTPS}
          hosts: [bookinfo.example.com]
          tls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: [bookinfo.example.com]
          tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem}
        """)).containsExactly(
        "spec.servers[0].tls.credentialName: not supported",
        "spec.servers[1].tls.mode: SIMPLE on a TLS server not supported yet (expected: PASSTHROUGH;"
            + " terminate TLS with protocol: HTTPS)",
        "spec.servers[2].tls: required for an HTTPS server (expected: mode SIMPLE or MUTUAL with its files)",
        "spec.servers[3].tls.caCertificates: required (a file path on the gateway) when mode is MUTUAL",
        "spec.servers[4].tls: only for HTTPS servers (port.protocol is HTTP)");
  }

  @Test
  void acceptsHttpsRedirectOnHttpServersAndOnHttpsOnes() {
    assertThat(problems("""
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: [bookinfo.example.com]
          tls: {httpsRedirect: true}
        - port: {number: 8080, name: grpc, protocol: GRPC}
          hosts: [bookinfo.example.com]
          tls: {httpsRedirect: false}
        - port: {number: 443, name: https, protocol: HTTPS}
          hosts: [bookinfo.example.com]
          tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem, httpsRedirect: true}
        """)).isEmpty();
  }

  @Test
  void rejectsHttpsRedirectWithTlsSettingsOnAnHttpServerOrOnATcpServerAsOneError() {
    assertThat(problems("""
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: [bookinfo.example.com]
          tls: {httpsRedirect: true, mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem}
        - port: {number: 31400, name: tcp, protocol: TCP}
          hosts: ["*"]
          tls: {httpsRedirect: true}
        - port: {number: 81, name: http2, protocol: HTTP}
          hosts: [bookinfo.example.com]
          tls: {httpsRedirect: "yes"}
        - port: {number: 443, name: https, protocol: HTTPS}
          hosts: [bookinfo.example.com]
          tls: {httpsRedirect: true}
        """)).containsExactly(
        "spec.servers[0].tls: only httpsRedirect on an HTTP server (mode and certificates are for"
            + " HTTPS servers)",
        "spec.servers[1].tls: only for HTTPS servers (port.protocol is TCP); httpsRedirect only on"
            + " HTTP servers",
        "spec.servers[2].tls.httpsRedirect: yes (expected: true or false)",
        "spec.servers[3].tls.mode: required for an HTTPS server (expected: SIMPLE or MUTUAL)");
  }

  @Test
  void acceptsTlsServersPassingTlsThroughBySni() {
    assertThat(problems("""
        servers:
        - port: {number: 443, name: tls, protocol: TLS}
          hosts: ["*.example.com"]
          tls: {mode: PASSTHROUGH}
        - port: {number: 8443, name: tls-default, protocol: TLS}
          hosts: [login.example.com]
          tls: {}
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: [login.example.com]
          tls: {mode: PASSTHROUGH, httpsRedirect: true}
        """)).isEmpty();
  }

  @Test
  void rejectsATlsServerWithoutTlsOrWithFilesAndPassthroughOnAnHttpsServer() {
    assertThat(problems("""
        servers:
        - port: {number: 443, name: tls, protocol: TLS}
          hosts: ["*.example.com"]
        - port: {number: 444, name: tls-files, protocol: TLS}
          hosts: ["*.example.com"]
          tls: {mode: PASSTHROUGH, serverCertificate: /c.pem}
        - port: {number: 445, name: https, protocol: HTTPS}
          hosts: ["*.example.com"]
          tls: {mode: PASSTHROUGH}
        """)).containsExactly(
        "spec.servers[0].tls: required for a TLS server (expected: mode PASSTHROUGH)",
        "spec.servers[1].tls.serverCertificate: not used by a PASSTHROUGH server (the destination"
            + " terminates TLS with its own certificate)",
        "spec.servers[2].tls.mode: PASSTHROUGH on an HTTPS server (expected: SIMPLE or MUTUAL; a"
            + " server that passes TLS through by SNI has protocol: TLS)");
  }

  @Test
  void checksServerHosts() {
    assertThat(problems("""
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: ["*", "prod/*.example.com", "./reviews", "Prod/reviews", "a/b/c"]
        """)).containsExactly(
        "spec.servers[0].hosts[3]: Prod/reviews (expected: host or namespace/host, where namespace is a name, "
            + ". or * and host is a DNS name, *.suffix or *)",
        "spec.servers[0].hosts[4]: a/b/c (expected: host or namespace/host, where namespace is a name, "
            + ". or * and host is a DNS name, *.suffix or *)");
  }

  @Test
  void rejectsSelectorThatIsNotALabelMap() {
    assertThat(problems("""
        selector: [ingressgateway]
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: ["*"]
          bind: 0.0.0.0
        """)).containsExactly(
        "spec.selector: [\"ingressgateway\"] (expected: a map)",
        "spec.servers[0].bind: not supported");
  }
}
