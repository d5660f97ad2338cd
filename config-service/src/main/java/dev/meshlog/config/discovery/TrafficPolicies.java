package dev.meshlog.config.discovery;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;

import dev.meshlog.config.model.Resource;
import dev.meshlog.events.discovery.ClientTls;
import dev.meshlog.events.discovery.ConnectionPool;
import dev.meshlog.events.discovery.ConsistentHash;
import dev.meshlog.events.discovery.LbPolicy;
import dev.meshlog.events.discovery.LoadBalancer;
import dev.meshlog.events.discovery.OutlierDetection;
import dev.meshlog.events.discovery.PortTrafficPolicy;
import dev.meshlog.events.discovery.Subset;
import dev.meshlog.events.discovery.TlsMode;
import dev.meshlog.events.discovery.TrafficPolicy;

/** Translates a DestinationRule's trafficPolicy and subsets into their view form. */
final class TrafficPolicies {

  private TrafficPolicies() {}

  /** {@code spec.trafficPolicy}, or null when the rule sets none. */
  static TrafficPolicy trafficPolicy(JsonNode policy) {
    if (policy == null) {
      return null;
    }
    JsonNode tls = Json.field(policy, "tls");
    return TrafficPolicy.newBuilder()
        .setLoadBalancer(loadBalancer(Json.field(policy, "loadBalancer")))
        .setConnectionPool(connectionPool(Json.field(policy, "connectionPool")))
        .setOutlierDetection(outlierDetection(Json.field(policy, "outlierDetection")))
        .setTlsMode(tls == null ? TlsMode.UNSPECIFIED : TlsMode.valueOf(Json.text(tls, "mode", "UNSPECIFIED")))
        .setTls(clientTls(tls))
        .setPortLevelSettings(portLevelSettings(policy))
        .build();
  }

  /**
   * {@code portLevelSettings[]} that set {@code tls} (the only port-level policy accepted), in
   * the rule's order.
   */
  private static List<PortTrafficPolicy> portLevelSettings(JsonNode policy) {
    List<PortTrafficPolicy> out = new ArrayList<>();
    for (JsonNode entry : Json.items(policy, "portLevelSettings")) {
      JsonNode tls = Json.field(entry, "tls");
      Integer port = Json.integer(Json.field(entry, "port"), "number");
      if (tls == null || port == null) {
        continue;
      }
      out.add(PortTrafficPolicy.newBuilder()
          .setPort(port)
          .setTlsMode(TlsMode.valueOf(Json.text(tls, "mode", "UNSPECIFIED")))
          .setTls(clientTls(tls))
          .build());
    }
    return out;
  }

  /**
   * The warnings of {@code rule}'s {@code tls} settings, each at its path: every
   * {@code ISTIO_MUTUAL} (accepted, as Istio configs carry it everywhere, but the mesh has no CA
   * yet, so the proxy sends plain text). SIMPLE and MUTUAL are originated for HTTP and TCP
   * ports alike, so they need no note.
   */
  static void warnTls(Resource rule, ViewNotes notes) {
    JsonNode spec = rule.spec();
    warnTls(rule, Json.field(spec, "trafficPolicy"), "spec.trafficPolicy", notes);
    List<JsonNode> subsets = Json.items(spec, "subsets");
    for (int i = 0; i < subsets.size(); i++) {
      warnTls(rule, Json.field(subsets.get(i), "trafficPolicy"),
          "spec.subsets[" + i + "].trafficPolicy", notes);
    }
  }

  private static void warnTls(Resource rule, JsonNode policy, String at, ViewNotes notes) {
    String mode = Json.text(Json.field(policy, "tls"), "mode");
    if ("ISTIO_MUTUAL".equals(mode)) {
      // The same words for every host, so that analyze merges a mesh-wide rule's findings.
      notes.warning(rule, at + ".tls.mode", "ISTIO_MUTUAL is not enforced yet: Meshlog has no"
          + " mesh CA, so proxies send plain text to the host's endpoints (expected: SIMPLE or"
          + " MUTUAL with files, to originate TLS now)");
    }
    List<JsonNode> ports = Json.items(policy, "portLevelSettings");
    for (int i = 0; i < ports.size(); i++) {
      warnTls(rule, ports.get(i), at + ".portLevelSettings[" + i + "]", notes);
    }
  }

  /** {@code tls} beyond its mode: the file paths and names the proxy originates TLS with. */
  private static ClientTls clientTls(JsonNode tls) {
    if (tls == null) {
      return null;
    }
    return ClientTls.newBuilder()
        .setSni(Json.text(tls, "sni", ""))
        .setCaCertificates(Json.text(tls, "caCertificates", ""))
        .setSubjectAltNames(Json.strings(tls, "subjectAltNames"))
        .setClientCertificate(Json.text(tls, "clientCertificate", ""))
        .setPrivateKey(Json.text(tls, "privateKey", ""))
        .setInsecureSkipVerify(Json.bool(tls, "insecureSkipVerify", false))
        .build();
  }

  /**
   * {@code spec.subsets}; a subset's own trafficPolicy is merged over the rule's, setting by
   * setting (load balancer, connection pool, outlier detection, TLS), as Istio does. A subset
   * without a policy of its own has none in the view: proxies use the host's.
   */
  static List<Subset> subsets(JsonNode spec, TrafficPolicy hostPolicy) {
    List<Subset> out = new ArrayList<>();
    for (JsonNode subset : Json.items(spec, "subsets")) {
      out.add(Subset.newBuilder()
          .setName(Json.text(subset, "name", ""))
          .setLabels(Json.stringMap(subset, "labels"))
          .setTrafficPolicy(merge(trafficPolicy(Json.field(subset, "trafficPolicy")), hostPolicy))
          .build());
    }
    return out;
  }

  private static TrafficPolicy merge(TrafficPolicy own, TrafficPolicy inherited) {
    if (own == null || inherited == null) {
      return own;
    }
    boolean ownTls = own.getTlsMode() != TlsMode.UNSPECIFIED || own.getTls() != null;
    return TrafficPolicy.newBuilder()
        .setLoadBalancer(own.getLoadBalancer() != null ? own.getLoadBalancer() : inherited.getLoadBalancer())
        .setConnectionPool(own.getConnectionPool() != null ? own.getConnectionPool() : inherited.getConnectionPool())
        .setOutlierDetection(own.getOutlierDetection() != null
            ? own.getOutlierDetection() : inherited.getOutlierDetection())
        // tls is one setting: a subset's mode comes with its own files and names, or neither.
        .setTlsMode(ownTls ? own.getTlsMode() : inherited.getTlsMode())
        .setTls(ownTls ? own.getTls() : inherited.getTls())
        .setPortLevelSettings(ownTls ? own.getPortLevelSettings()
            : overlay(inherited.getPortLevelSettings(), own.getPortLevelSettings()))
        .build();
  }

  /**
   * Istio's order for a subset on a port: its port-level tls, else its own tls, else the host's
   * port-level tls, else the host's tls. A subset with a tls of its own therefore keeps only its
   * own port-level entries; one without keeps the host's, each replaced by its own for the port.
   */
  private static List<PortTrafficPolicy> overlay(List<PortTrafficPolicy> inherited,
                                                 List<PortTrafficPolicy> own) {
    if (own.isEmpty()) {
      return inherited;
    }
    List<PortTrafficPolicy> out = new ArrayList<>(own);
    for (PortTrafficPolicy p : inherited) {
      if (own.stream().noneMatch(o -> o.getPort() == p.getPort())) {
        out.add(p);
      }
    }
    return out;
  }

  private static LoadBalancer loadBalancer(JsonNode node) {
    if (node == null) {
      return null;
    }
    JsonNode locality = Json.field(node, "localityLbSetting");
    return LoadBalancer.newBuilder()
        .setSimple(lbPolicy(Json.text(node, "simple")))
        .setConsistentHash(consistentHash(Json.field(node, "consistentHash")))
        .setLocalityEnabled(Json.bool(locality, "enabled", true))
        .setFailoverPriorities(Json.strings(locality, "failoverPriority"))
        .build();
  }

  private static LbPolicy lbPolicy(String simple) {
    if (simple == null) {
      return LbPolicy.UNSPECIFIED;
    }
    return switch (simple.toUpperCase(Locale.ROOT)) {
      case "ROUND_ROBIN" -> LbPolicy.ROUND_ROBIN;
      case "LEAST_REQUEST", "LEAST_CONN" -> LbPolicy.LEAST_REQUEST; // LEAST_CONN: Istio's deprecated name
      case "RANDOM" -> LbPolicy.RANDOM;
      case "PASSTHROUGH" -> LbPolicy.PASSTHROUGH;
      default -> LbPolicy.UNSPECIFIED;
    };
  }

  private static ConsistentHash consistentHash(JsonNode node) {
    if (node == null) {
      return null;
    }
    JsonNode cookie = Json.field(node, "httpCookie");
    // The proxy serves Maglev with its ring: a table of tableSize entries becomes a ring of as
    // many virtual nodes (the same granularity). 0 or unset is the proxy's default size, as
    // Istio leaves Envoy's default then.
    Long ringSize = Json.longValue(Json.field(node, "ringHash"), "minimumRingSize");
    if (ringSize == null) {
      ringSize = Json.longValue(Json.field(node, "maglev"), "tableSize");
    }
    if (ringSize == null) {
      ringSize = Json.longValue(node, "minimumRingSize");
    }
    return ConsistentHash.newBuilder()
        .setHttpHeaderName(Json.text(node, "httpHeaderName"))
        .setHttpCookieName(Json.text(cookie, "name"))
        .setHttpCookieTtlMillis(Json.millis(cookie, "ttl"))
        .setUseSourceIp(Json.bool(node, "useSourceIp", false))
        .setHttpQueryParameterName(Json.text(node, "httpQueryParameterName"))
        .setMinimumRingSize(ringSize == null || ringSize == 0 ? null : ringSize)
        .build();
  }

  private static ConnectionPool connectionPool(JsonNode node) {
    if (node == null) {
      return null;
    }
    JsonNode tcp = Json.field(node, "tcp");
    JsonNode http = Json.field(node, "http");
    Long idle = Json.millis(http, "idleTimeout");
    return ConnectionPool.newBuilder()
        .setMaxConnections(Json.integer(tcp, "maxConnections"))
        .setConnectTimeoutMillis(Json.millis(tcp, "connectTimeout"))
        .setMaxPendingRequests(Json.integer(http, "http1MaxPendingRequests"))
        .setMaxRequests(Json.integer(http, "http2MaxRequests"))
        .setMaxRequestsPerConnection(Json.integer(http, "maxRequestsPerConnection"))
        .setMaxRetries(Json.integer(http, "maxRetries"))
        .setIdleTimeoutMillis(idle != null ? idle : Json.millis(tcp, "idleTimeout"))
        .build();
  }

  /** Istio's defaults where the rule is silent: interval 10s, baseEjectionTime 30s, maxEjectionPercent 10. */
  private static OutlierDetection outlierDetection(JsonNode node) {
    if (node == null) {
      return null;
    }
    Integer consecutive5xx = Json.integer(node, "consecutive5xxErrors");
    Long interval = Json.millis(node, "interval");
    Long baseEjection = Json.millis(node, "baseEjectionTime");
    Integer maxEjection = Json.integer(node, "maxEjectionPercent");
    Integer minHealth = Json.integer(node, "minHealthPercent");
    return OutlierDetection.newBuilder()
        // consecutiveErrors: Istio's deprecated name for consecutive5xxErrors
        .setConsecutive5xxErrors(consecutive5xx != null ? consecutive5xx : Json.integer(node, "consecutiveErrors"))
        .setConsecutiveGatewayErrors(Json.integer(node, "consecutiveGatewayErrors"))
        .setIntervalMillis(interval != null ? interval : 10_000L)
        .setBaseEjectionTimeMillis(baseEjection != null ? baseEjection : 30_000L)
        .setMaxEjectionPercent(maxEjection != null ? maxEjection : 10)
        .setMinHealthPercent(minHealth != null ? minHealth : 0)
        .build();
  }
}
