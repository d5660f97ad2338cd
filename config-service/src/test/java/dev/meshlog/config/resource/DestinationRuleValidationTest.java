package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.specProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Kind;

class DestinationRuleValidationTest {

  private static List<String> problems(String spec) {
    return specProblems(Kind.DESTINATION_RULE, spec);
  }

  @Test
  void requiresHost() {
    assertThat(problems("subsets: []\n")).containsExactly("spec.host: required");
  }

  @Test
  void requiresSubsetNameAndLabels() {
    assertThat(problems("""
        host: reviews
        subsets:
        - labels: {version: v1}
        - name: V2
          labels: {}
        - name: v3
        """)).containsExactly(
        "spec.subsets[0].name: required",
        "spec.subsets[1].name: V2 (expected: lower-case letters, digits and '-', starting and ending with "
            + "a letter or digit, at most 63 characters)",
        "spec.subsets[1].labels: {} (expected: at least one label)",
        "spec.subsets[2].labels: required");
  }

  @Test
  void rejectsSubsetNamesUsedTwice() {
    assertThat(problems("""
        host: reviews
        subsets:
        - name: v1
          labels: {version: v1}
        - name: v1
          labels: {version: v2}
        """)).containsExactly(
        "spec.subsets[1].name: v1 (expected: a name no other subset has (spec.subsets[0].name has it too))");
  }

  @Test
  void acceptsLeastConnAndTheHashKeysAndAlgorithmsIstioHas() {
    assertThat(problems("""
        host: reviews
        trafficPolicy:
          loadBalancer: {simple: LEAST_CONN}
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy:
            loadBalancer:
              consistentHash:
                httpQueryParameterName: user
                maglev: {tableSize: 65537}
        - name: v2
          labels: {version: v2}
          trafficPolicy:
            loadBalancer:
              consistentHash:
                httpHeaderName: x-user
                ringHash: {minimumRingSize: 2048}
        """)).isEmpty();
  }

  @Test
  void checksTheHashAlgorithm() {
    assertThat(problems("""
        host: reviews
        trafficPolicy:
          loadBalancer:
            consistentHash:
              httpQueryParameterName: ""
              ringHash: {minimumRingSize: 9000000}
              maglev: {tableSize: 10}
        """)).containsExactly(
        "spec.trafficPolicy.loadBalancer.consistentHash.httpQueryParameterName: \"\" (expected: a "
            + "non-empty string)",
        "spec.trafficPolicy.loadBalancer.consistentHash.ringHash.minimumRingSize: 9000000 (expected: "
            + "0..8388608)",
        "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: 10 (expected: a prime "
            + "number up to 5000011, such as 65537 (Envoy's rule for a Maglev table))",
        "spec.trafficPolicy.loadBalancer.consistentHash: ringHash and maglev set (expected: at most "
            + "one of ringHash, maglev, minimumRingSize)");
  }

  @Test
  void checksLoadBalancer() {
    assertThat(problems("""
        host: reviews
        trafficPolicy:
          loadBalancer:
            simple: LEAST_CONN
            consistentHash:
              httpHeaderName: x-user
              useSourceIp: true
              maglev: {tableSize: 65536}
            warmupDurationSecs: 10s
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy:
            loadBalancer:
              simple: FASTEST
              consistentHash:
                httpCookie: {ttl: 10s}
        """)).containsExactly(
        "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: 65536 (expected: a prime "
            + "number up to 5000011, such as 65537 (Envoy's rule for a Maglev table))",
        "spec.trafficPolicy.loadBalancer.consistentHash: httpHeaderName and useSourceIp set "
            + "(expected: exactly one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName)",
        "spec.trafficPolicy.loadBalancer.warmupDurationSecs: not supported",
        "spec.trafficPolicy.loadBalancer: simple and consistentHash set (expected: at most one of simple, consistentHash)",
        "spec.subsets[0].trafficPolicy.loadBalancer.simple: FASTEST "
            + "(expected one of: ROUND_ROBIN, LEAST_REQUEST, LEAST_CONN, RANDOM, PASSTHROUGH, UNSPECIFIED)",
        "spec.subsets[0].trafficPolicy.loadBalancer.consistentHash.httpCookie.name: required",
        "spec.subsets[0].trafficPolicy.loadBalancer: simple and consistentHash set "
            + "(expected: at most one of simple, consistentHash)");
  }

  @Test
  void acceptsLocalityLoadBalancingWithoutABalancer() {
    assertThat(problems("""
        host: reviews
        trafficPolicy:
          loadBalancer:
            localityLbSetting:
              enabled: true
              failover:
              - {from: us-east, to: eu-west}
        """)).containsExactly("spec.trafficPolicy.loadBalancer.localityLbSetting.failover: not supported");
  }

  @Test
  void checksConnectionPool() {
    assertThat(problems("""
        host: reviews
        trafficPolicy:
          connectionPool:
            tcp:
              maxConnections: 0
              connectTimeout: 30
              tcpKeepalive: {time: 7200s}
            http:
              http1MaxPendingRequests: -1
              maxRetries: 3
              idleTimeout: 1h
              h2UpgradePolicy: UPGRADE
        """)).containsExactly(
        "spec.trafficPolicy.connectionPool.tcp.maxConnections: 0 (expected: 1 or more)",
        "spec.trafficPolicy.connectionPool.tcp.connectTimeout: 30 (expected: a duration such as 10s, 250ms or 1m30s)",
        "spec.trafficPolicy.connectionPool.tcp.tcpKeepalive: not supported",
        "spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests: -1 (expected: 0 or more)",
        "spec.trafficPolicy.connectionPool.http.h2UpgradePolicy: not supported");
  }

  @Test
  void checksOutlierDetection() {
    assertThat(problems("""
        host: reviews
        trafficPolicy:
          outlierDetection:
            consecutiveErrors: 5
            consecutive5xxErrors: 5
            interval: 5 s
            maxEjectionPercent: 150
            minHealthPercent: 0
            splitExternalLocalOriginErrors: true
        """)).containsExactly(
        "spec.trafficPolicy.outlierDetection.consecutiveErrors: not supported (use consecutive5xxErrors)",
        "spec.trafficPolicy.outlierDetection.interval: 5 s (expected: a duration such as 10s, 250ms or 1m30s)",
        "spec.trafficPolicy.outlierDetection.maxEjectionPercent: 150 (expected: 0..100)",
        "spec.trafficPolicy.outlierDetection.splitExternalLocalOriginErrors: not supported");
  }

  @Test
  void acceptsSimpleTlsWithCaSniAndSubjectAltNames() {
    assertThat(problems("""
        host: api.example.com
        trafficPolicy:
          tls:
            mode: SIMPLE
            caCertificates: /etc/certs/ca.pem
            sni: api.example.com
            subjectAltNames: [api.example.com]
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy:
            tls: {mode: MUTUAL, clientCertificate: /etc/certs/c.pem, privateKey: /etc/certs/k.pem}
        """)).isEmpty();
  }

  @Test
  void rejectsAnUnknownTlsModeAndTheSecretStoreFields() {
    assertThat(problems("""
        host: reviews
        trafficPolicy:
          tls:
            mode: PERMISSIVE
            credentialName: client-credential
            caCrl: /etc/certs/crl.pem
        """)).containsExactly(
        "spec.trafficPolicy.tls.mode: PERMISSIVE (expected one of: DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL)",
        "spec.trafficPolicy.tls.credentialName: not supported",
        "spec.trafficPolicy.tls.caCrl: not supported");
  }

  @Test
  void rejectsMutualTlsWithoutClientCertificateAndKey() {
    assertThat(problems("""
        host: db.example.com
        trafficPolicy:
          tls: {mode: MUTUAL, caCertificates: /etc/certs/ca.pem}
        """)).containsExactly(
        "spec.trafficPolicy.tls.clientCertificate: required when mode is MUTUAL (expected: a PEM "
            + "file's path on the proxy)",
        "spec.trafficPolicy.tls.privateKey: required when mode is MUTUAL (expected: a PEM file's "
            + "path on the proxy)");
  }

  @Test
  void rejectsClientCertificatesWithSimpleTls() {
    assertThat(problems("""
        host: db.example.com
        trafficPolicy:
          tls: {mode: SIMPLE, clientCertificate: /etc/certs/c.pem}
        """)).containsExactly(
        "spec.trafficPolicy.tls.clientCertificate: not allowed when mode is SIMPLE (expected: mode "
            + "MUTUAL to present a client certificate)");
  }

  @Test
  void rejectsFilesWithDisableAndIstioMutualButTakesIstioMutualSni() {
    assertThat(problems("""
        host: reviews
        trafficPolicy:
          tls: {mode: DISABLE, sni: reviews.example.com}
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy:
            tls: {mode: ISTIO_MUTUAL, sni: reviews.example.com, caCertificates: /etc/certs/ca.pem}
        """)).containsExactly(
        "spec.trafficPolicy.tls.sni: not allowed when mode is DISABLE (expected: mode SIMPLE or "
            + "MUTUAL)",
        "spec.subsets[0].trafficPolicy.tls.caCertificates: not allowed when mode is ISTIO_MUTUAL "
            + "(expected: mode SIMPLE or MUTUAL)");
  }

  @Test
  void rejectsUnsupportedAndUnknownTopLevelFields() {
    assertThat(problems("""
        host: reviews
        exportTo: ["*", "."]
        trafficPolicy:
          tunnel: {protocol: CONNECT}
        subset:
        - name: v1
        """)).containsExactly(
        "spec.exportTo: not supported (except [\"*\"], every namespace, Istio's default: "
            + "Meshlog has no per-namespace visibility)",
        "spec.trafficPolicy.tunnel: not supported",
        "spec.subset: unknown field (expected one of: host, trafficPolicy, subsets, exportTo)");
  }

  @Test
  void acceptsPortLevelTlsAsIstiosEgressTlsOriginationTaskWritesIt() {
    assertThat(problems("""
        host: edition.cnn.com
        trafficPolicy:
          portLevelSettings:
          - port: {number: 443}
            tls: {mode: SIMPLE}
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy:
            portLevelSettings:
            - port: {number: 8443}
              tls: {mode: MUTUAL, clientCertificate: /etc/c.pem, privateKey: /etc/k.pem}
        """)).isEmpty();
  }

  @Test
  void rejectsAPortLevelEntryWithoutPortOrWithAPortOutOfRange() {
    assertThat(problems("""
        host: reviews
        trafficPolicy:
          portLevelSettings:
          - tls: {mode: SIMPLE}
          - port: {}
            tls: {mode: SIMPLE}
          - port: {number: 70000}
            tls: {mode: SIMPLE}
        """)).containsExactly(
        "spec.trafficPolicy.portLevelSettings[0].port: required",
        "spec.trafficPolicy.portLevelSettings[1].port.number: required",
        "spec.trafficPolicy.portLevelSettings[2].port.number: 70000 (expected: 1..65535)");
  }

  @Test
  void rejectsTwoPortLevelEntriesForOnePort() {
    assertThat(problems("""
        host: reviews
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy:
            portLevelSettings:
            - port: {number: 443}
              tls: {mode: SIMPLE}
            - port: {number: 443}
              tls: {mode: DISABLE}
        """)).containsExactly(
        "spec.subsets[0].trafficPolicy.portLevelSettings[1].port.number: 443 (expected: a port no"
            + " other entry has (spec.subsets[0].trafficPolicy.portLevelSettings[0].port.number"
            + " has it too))");
  }

  @Test
  void checksPortLevelTlsByItsModeAndRefusesThePortLevelPoliciesOtherThanTls() {
    assertThat(problems("""
        host: reviews
        trafficPolicy:
          portLevelSettings:
          - port: {number: 443}
            tls: {mode: MUTUAL}
            loadBalancer: {simple: RANDOM}
            connectionPool: {tcp: {maxConnections: 1}}
            outlierDetection: {consecutive5xxErrors: 1}
        """)).containsExactlyInAnyOrder(
        "spec.trafficPolicy.portLevelSettings[0].tls.clientCertificate: required when mode is"
            + " MUTUAL (expected: a PEM file's path on the proxy)",
        "spec.trafficPolicy.portLevelSettings[0].tls.privateKey: required when mode is MUTUAL"
            + " (expected: a PEM file's path on the proxy)",
        "spec.trafficPolicy.portLevelSettings[0].loadBalancer: not supported",
        "spec.trafficPolicy.portLevelSettings[0].connectionPool: not supported",
        "spec.trafficPolicy.portLevelSettings[0].outlierDetection: not supported");
  }
}
