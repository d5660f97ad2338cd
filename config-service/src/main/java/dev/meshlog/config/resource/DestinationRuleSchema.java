package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.exportToEveryNamespace;
import static dev.meshlog.config.resource.Shapes.atLeast;
import static dev.meshlog.config.resource.Shapes.bool;
import static dev.meshlog.config.resource.Shapes.dnsLabel;
import static dev.meshlog.config.resource.Shapes.duration;
import static dev.meshlog.config.resource.Shapes.integer;
import static dev.meshlog.config.resource.Shapes.list;
import static dev.meshlog.config.resource.Shapes.nonEmptyLabels;
import static dev.meshlog.config.resource.Shapes.nonEmptyString;
import static dev.meshlog.config.resource.Shapes.oneOf;
import static dev.meshlog.config.resource.Shapes.port;
import static dev.meshlog.config.resource.Shapes.string;
import static dev.meshlog.config.resource.Shapes.wildcardHost;

import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The fields of a DestinationRule ({@code networking.istio.io}) that Meshlog supports, and those of
 * Istio's API it rejects.
 */
final class DestinationRuleSchema {

  // Before SPEC, which uses them as it is built.
  /** Envoy's bound on a ring hash's minimum_ring_size. */
  private static final long MAX_RING_SIZE = 8_388_608;
  /** Envoy's bound on a Maglev table_size, which must be prime. */
  private static final long MAX_MAGLEV_TABLE = 5_000_011;

  static final Shape SPEC = object()
      .required("host", wildcardHost())
      .field("trafficPolicy", trafficPolicy())
      .field("subsets", list(object()
          .required("name", dnsLabel())
          .required("labels", nonEmptyLabels())
          .field("trafficPolicy", trafficPolicy())
          .build()))
      .field("exportTo", exportToEveryNamespace())
      .notSupported("workloadSelector")
      .rule(DestinationRuleSchema::subsetNamesAreUnique)
      .build();

  private DestinationRuleSchema() {}

  private static Shape trafficPolicy() {
    return object()
        .field("loadBalancer", loadBalancer())
        .field("connectionPool", connectionPool())
        .field("outlierDetection", outlierDetection())
        .field("tls", clientTls())
        .field("portLevelSettings", list(portTrafficPolicy()))
        .notSupported("tunnel", "proxyProtocol", "retryBudget")
        .rule(DestinationRuleSchema::portLevelPortsAreUnique)
        .build();
  }

  /**
   * A {@code portLevelSettings[]} entry, Istio's PortTrafficPolicy: {@code tls} only. The other
   * policies would need a cluster (balancer, pool, ejections) per port, which the proxy does not
   * have; they are refused rather than ignored.
   */
  private static Shape portTrafficPolicy() {
    return object()
        .required("port", object().required("number", port()).build())
        .field("tls", clientTls())
        .notSupported("loadBalancer", "connectionPool", "outlierDetection")
        .build();
  }

  /** One entry per port: a second one for the same port would be silently ignored by Istio. */
  private static void portLevelPortsAreUnique(ObjectNode policy, String path, Problems problems) {
    JsonNode settings = policy.path("portLevelSettings");
    if (!settings.isArray()) {
      return;
    }
    Map<Long, String> firstPath = new HashMap<>();
    for (int i = 0; i < settings.size(); i++) {
      JsonNode number = settings.get(i).path("port").path("number");
      if (!number.isIntegralNumber() || !number.canConvertToLong()) {
        continue;
      }
      String at = Problems.field(Problems.field(
          Problems.index(Problems.field(path, "portLevelSettings"), i), "port"), "number");
      String earlier = firstPath.putIfAbsent(number.longValue(), at);
      if (earlier != null) {
        problems.invalid(at, number, "a port no other entry has (" + earlier + " has it too)");
      }
    }
  }

  /**
   * {@code tls}, Istio's ClientTLSSettings: SIMPLE and MUTUAL originate TLS with files on the
   * proxy; {@code credentialName} (a secret store) and {@code caCrl} are not supported.
   */
  private static Shape clientTls() {
    return object()
        .field("mode", oneOf("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"))
        .field("sni", nonEmptyString())
        .field("caCertificates", nonEmptyString())
        .field("subjectAltNames", list(nonEmptyString()))
        .field("clientCertificate", nonEmptyString())
        .field("privateKey", nonEmptyString())
        .field("insecureSkipVerify", bool())
        .notSupported("credentialName", "caCrl")
        .rule(DestinationRuleSchema::tlsFieldsFitMode)
        .build();
  }

  /**
   * Istio's rules: MUTUAL needs a client certificate and its key; SIMPLE presents none; DISABLE
   * (or no mode) takes no other field; ISTIO_MUTUAL (the mesh's own certificates) only
   * {@code sni} and {@code subjectAltNames}.
   */
  private static void tlsFieldsFitMode(ObjectNode tls, String path, Problems problems) {
    String mode = tls.path("mode").asText("");
    switch (mode) {
      case "MUTUAL" -> {
        for (String f : new String[] {"clientCertificate", "privateKey"}) {
          if (!ObjectShape.isSet(tls, f)) {
            problems.add(Problems.field(path, f), null,
                "required when mode is MUTUAL (expected: a PEM file's path on the proxy)");
          }
        }
      }
      case "SIMPLE" -> {
        for (String f : new String[] {"clientCertificate", "privateKey"}) {
          if (ObjectShape.isSet(tls, f)) {
            problems.add(Problems.field(path, f), Problems.text(tls.get(f)),
                "not allowed when mode is SIMPLE (expected: mode MUTUAL to present a client "
                    + "certificate)");
          }
        }
      }
      default -> {
        boolean mesh = mode.equals("ISTIO_MUTUAL");
        for (String f : new String[] {"sni", "caCertificates", "subjectAltNames",
            "clientCertificate", "privateKey", "insecureSkipVerify"}) {
          // Istio takes sni and subjectAltNames with ISTIO_MUTUAL (the mesh's certificates).
          boolean meshField = f.equals("sni") || f.equals("subjectAltNames");
          if (ObjectShape.isSet(tls, f) && !(mesh && meshField)) {
            problems.add(Problems.field(path, f), Problems.text(tls.get(f)), "not allowed when mode is "
                + (mode.isEmpty() ? "not set" : mode) + " (expected: mode SIMPLE or MUTUAL)");
          }
        }
      }
    }
  }

  private static Shape loadBalancer() {
    return object()
        // LEAST_CONN: Istio's deprecated name of LEAST_REQUEST, which it compiles to.
        .field("simple", oneOf("ROUND_ROBIN", "LEAST_REQUEST", "LEAST_CONN", "RANDOM",
            "PASSTHROUGH", "UNSPECIFIED"))
        .field("consistentHash", object()
            .field("httpHeaderName", nonEmptyString())
            .field("httpCookie", object()
                .required("name", nonEmptyString())
                .field("ttl", duration())
                .field("path", string())
                .notSupported("attributes")
                .build())
            .field("useSourceIp", bool())
            .field("httpQueryParameterName", nonEmptyString())
            .field("ringHash", object().field("minimumRingSize", integer(0, MAX_RING_SIZE)).build())
            .field("maglev", object().field("tableSize", DestinationRuleSchema::checkMaglevTableSize)
                .build())
            .field("minimumRingSize", integer(0, MAX_RING_SIZE))
            .exactlyOne("httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName")
            .atMostOne("ringHash", "maglev", "minimumRingSize")
            .build())
        .field("localityLbSetting", object()
            .field("enabled", bool())
            .field("failoverPriority", list(nonEmptyString()))
            .notSupported("distribute", "failover")
            .build())
        .notSupported("warmupDurationSecs", "warmup", "zoneAwareLbSetting")
        // Istio's oneof: localityLbSetting alone is valid and keeps the default balancer.
        .atMostOne("simple", "consistentHash")
        .build();
  }

  private static Shape connectionPool() {
    return object()
        .field("tcp", object()
            .field("maxConnections", atLeast(1))
            .field("connectTimeout", duration())
            .notSupported("tcpKeepalive", "maxConnectionDuration", "idleTimeout")
            .build())
        .field("http", object()
            .field("http1MaxPendingRequests", atLeast(0))
            .field("http2MaxRequests", atLeast(0))
            .field("maxRequestsPerConnection", atLeast(0))
            .field("maxRetries", atLeast(0))
            .field("idleTimeout", duration())
            .notSupported("h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams", "http2KeepAlive")
            .build())
        .build();
  }

  private static Shape outlierDetection() {
    return object()
        .field("consecutive5xxErrors", atLeast(0))
        .field("consecutiveGatewayErrors", atLeast(0))
        .field("interval", duration())
        .field("baseEjectionTime", duration())
        .field("maxEjectionPercent", integer(0, 100))
        .field("minHealthPercent", integer(0, 100))
        .notSupportedUseInstead("consecutiveErrors", "consecutive5xxErrors")
        .notSupported("splitExternalLocalOriginErrors", "consecutiveLocalOriginFailures",
            "outlierDetectionHttpErrorCodes")
        .build();
  }

  /** A Maglev table size: a prime up to 5000011, as Envoy requires (Istio: "must be prime"). */
  private static void checkMaglevTableSize(JsonNode value, String path, Problems problems) {
    if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 2
        || value.longValue() > MAX_MAGLEV_TABLE
        || !java.math.BigInteger.valueOf(value.longValue()).isProbablePrime(30)) {
      problems.invalid(path, value, "a prime number up to " + MAX_MAGLEV_TABLE
          + ", such as 65537 (Envoy's rule for a Maglev table)");
    }
  }

  private static void subsetNamesAreUnique(ObjectNode spec, String path, Problems problems) {
    JsonNode subsets = spec.path("subsets");
    if (!subsets.isArray()) {
      return;
    }
    Map<String, String> firstPath = new HashMap<>();
    for (int i = 0; i < subsets.size(); i++) {
      JsonNode name = subsets.get(i).path("name");
      if (!name.isTextual()) {
        continue;
      }
      String at = Problems.field(Problems.index(Problems.field(path, "subsets"), i), "name");
      String earlier = firstPath.putIfAbsent(name.textValue(), at);
      if (earlier != null) {
        problems.invalid(at, name, "a name no other subset has (" + earlier + " has it too)");
      }
    }
  }
}
