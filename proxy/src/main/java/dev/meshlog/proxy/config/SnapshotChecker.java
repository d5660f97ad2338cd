package dev.meshlog.proxy.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import dev.meshlog.proxy.upstream.UpstreamTls;

/**
 * Finds what would make a set of services inconsistent: routes to hosts or subsets that do not
 * exist, weights that do not add up to 100, impossible limits, TLS files that cannot be used. Each problem names the route and
 * field at fault and what was expected.
 */
public final class SnapshotChecker {

  private SnapshotChecker() {}

  /** The problems of each host with any; empty when the services are consistent. */
  public static Map<String, List<String>> check(Map<String, ServiceConfig> byHost) {
    Map<String, List<String>> problems = new LinkedHashMap<>();
    for (ServiceConfig s : byHost.values()) {
      List<String> p = new ArrayList<>();
      checkService(s, byHost, p);
      if (!p.isEmpty()) {
        problems.put(s.host(), p);
      }
    }
    return problems;
  }

  private static void checkService(ServiceConfig s, Map<String, ServiceConfig> byHost,
                                   List<String> p) {
    for (int i = 0; i < s.endpoints().size(); i++) {
      EndpointConfig e = s.endpoints().get(i);
      if (e.port() < 1 || e.port() > 65535) {
        p.add("endpoints[" + i + "].port: " + e.port() + " (expected: 1..65535)");
      }
    }
    checkPolicy("trafficPolicy", s.policy(), p);
    checkGatewayServers(s, p);
    s.subsets().values().forEach(sub ->
        checkPolicy("subsets[" + sub.name() + "].trafficPolicy", sub.policy(), p));
    for (int i = 0; i < s.routes().size(); i++) {
      RouteConfig r = s.routes().get(i);
      String at = "httpRoutes[" + i + "]" + (r.name().isEmpty() ? "" : " (" + r.name() + ")");
      checkRoute(at, r, byHost, p);
    }
    for (int i = 0; i < s.tcpRoutes().size(); i++) {
      TcpRouteConfig r = s.tcpRoutes().get(i);
      String at = "tcpRoutes[" + i + "]" + (r.tls() ? " (tls, sniHosts " + r.sniHosts() + ")" : "");
      if (r.destinations().isEmpty()) {
        p.add(at + ".destinations: none (expected: at least one)");
      }
      checkWeights(at, r.destinations(), p);
      for (int d = 0; d < r.destinations().size(); d++) {
        checkDestination(at + ".destinations[" + d + "]", r.destinations().get(d), byHost, p);
      }
    }
  }

  /** A terminating server names its certificate and key (and CAs when MUTUAL). */
  private static void checkGatewayServers(ServiceConfig s, List<String> p) {
    for (int i = 0; i < s.gatewayServers().size(); i++) {
      GatewayServerConfig.Tls tls = s.gatewayServers().get(i).tls();
      if (tls == null || !tls.terminates()) {
        continue;
      }
      String at = "gatewayServers[" + i + "].tls";
      if (tls.serverCertificate().isEmpty()) {
        p.add(at + ".serverCertificate: empty (expected: a PEM file's path)");
      }
      if (tls.privateKey().isEmpty()) {
        p.add(at + ".privateKey: empty (expected: a PEM file's path)");
      }
      if (tls.mode() == GatewayServerConfig.TlsMode.MUTUAL && tls.caCertificates().isEmpty()) {
        p.add(at + ".caCertificates: empty (expected: a PEM file's path when mode is MUTUAL)");
      }
    }
  }

  private static void checkWeights(String at, List<DestinationConfig> destinations,
                                   List<String> p) {
    if (destinations.size() > 1) {
      int sum = 0;
      for (int d = 0; d < destinations.size(); d++) {
        int w = destinations.get(d).weight();
        if (w < 0 || w > 100) {
          p.add(at + ".destinations[" + d + "].weight: " + w + " (expected: 0..100)");
        }
        sum += w;
      }
      if (sum != 100) {
        p.add(at + ".destinations: weights sum to " + sum + " (expected: 100)");
      }
    }
  }

  private static void checkRoute(String at, RouteConfig r, Map<String, ServiceConfig> byHost,
                                 List<String> p) {
    boolean forwards = !r.destinations().isEmpty();
    if (r.redirect() != null && r.directResponse() != null) {
      p.add(at + ": both redirect and directResponse (expected: at most one)");
    }
    if (forwards && r.answersLocally()) {
      p.add(at + ": destinations and a redirect or directResponse (expected: one of them)");
    }
    if (!forwards && !r.answersLocally()) {
      p.add(at + ".destinations: none (expected: at least one, or a redirect or directResponse)");
    }
    checkWeights(at, r.destinations(), p);
    for (int d = 0; d < r.destinations().size(); d++) {
      checkDestination(at + ".destinations[" + d + "]", r.destinations().get(d), byHost, p);
    }
    if (r.mirror() != null) {
      checkDestination(at + ".mirror", r.mirror(), byHost, p);
    }
    percent(at + ".mirrorPercentage", r.mirrorPercent(), p);
    FaultConfig f = r.fault();
    percent(at + ".fault.delay.percentage", f.delayPercent(), p);
    percent(at + ".fault.abort.percentage", f.abortPercent(), p);
    if (f.delay() != null && f.delay().isNegative()) {
      p.add(at + ".fault.delay.fixedDelay: " + f.delay() + " (expected: >= 0)");
    }
    if (f.abortStatus() != 0 && (f.abortStatus() < 200 || f.abortStatus() > 599)) {
      p.add(at + ".fault.abort.httpStatus: " + f.abortStatus() + " (expected: 200..599)");
    }
    if (r.retries().attempts() < 0) {
      p.add(at + ".retries.attempts: " + r.retries().attempts() + " (expected: >= 0)");
    }
    if (r.timeout().isNegative()) {
      p.add(at + ".timeout: " + r.timeout() + " (expected: >= 0)");
    }
    if (r.directResponse() != null
        && (r.directResponse().status() < 200 || r.directResponse().status() > 599)) {
      p.add(at + ".directResponse.status: " + r.directResponse().status()
          + " (expected: 200..599)");
    }
    if (r.redirect() != null && r.redirect().status() != 0
        && !List.of(301, 302, 303, 307, 308).contains(r.redirect().status())) {
      p.add(at + ".redirect.redirectCode: " + r.redirect().status()
          + " (expected: 301, 302, 303, 307 or 308)");
    }
  }

  private static void checkDestination(String at, DestinationConfig d,
                                       Map<String, ServiceConfig> byHost, List<String> p) {
    ServiceConfig target = byHost.get(d.host());
    if (target == null) {
      p.add(at + ".host: " + d.host() + " not known to this proxy (expected one of: "
          + new TreeSet<>(byHost.keySet()) + ")");
      return;
    }
    if (d.subset() != null && !target.subsets().containsKey(d.subset())) {
      p.add(at + ".subset: " + d.subset() + " not defined for " + d.host() + " (expected one of: "
          + new TreeSet<>(target.subsets().keySet()) + ")");
    }
  }

  private static void checkPolicy(String at, TrafficPolicyConfig policy, List<String> p) {
    PoolLimits l = policy.limits();
    if (l.maxConnections() < 1) {
      p.add(at + ".connectionPool.maxConnections: " + l.maxConnections() + " (expected: >= 1)");
    }
    if (l.maxRequests() < 1) {
      p.add(at + ".connectionPool.maxRequests: " + l.maxRequests() + " (expected: >= 1)");
    }
    if (l.maxPendingRequests() < 0) {
      p.add(at + ".connectionPool.maxPendingRequests: " + l.maxPendingRequests()
          + " (expected: >= 0)");
    }
    if (l.maxRequestsPerConnection() < 0) {
      p.add(at + ".connectionPool.maxRequestsPerConnection: " + l.maxRequestsPerConnection()
          + " (expected: >= 0)");
    }
    if (l.idleTimeout().isNegative()) {
      p.add(at + ".connectionPool.idleTimeout: " + l.idleTimeout() + " (expected: >= 0)");
    }
    if (l.maxRetries() < 0) {
      p.add(at + ".connectionPool.maxRetries: " + l.maxRetries() + " (expected: >= 0)");
    }
    checkTls(at + ".tls", policy, p);
    policy.portTls().forEach((port, t) ->
        checkTls(at + ".portLevelSettings[" + port + "].tls", t.policy(), p));
    OutlierConfig o = policy.outlierDetection();
    percentInt(at + ".outlierDetection.maxEjectionPercent", o.maxEjectionPercent(), p);
    percentInt(at + ".outlierDetection.minHealthPercent", o.minHealthPercent(), p);
    if (o.baseEjectionTime().isNegative() || o.interval().isNegative()) {
      p.add(at + ".outlierDetection: negative durations (expected: >= 0)");
    }
  }

  /**
   * TLS originated (SIMPLE, MUTUAL) needs files this proxy can read and use: they are loaded
   * here, off the event loops, so requests find them ready; MUTUAL needs a client certificate.
   */
  private static void checkTls(String at, TrafficPolicyConfig policy, List<String> p) {
    if (!policy.originatesTls()) {
      return;
    }
    ClientTlsConfig tls = policy.tls();
    boolean mutual = policy.tlsMode() == TrafficPolicyConfig.TlsMode.MUTUAL;
    if (mutual && (tls.clientCertificate().isEmpty() || tls.privateKey().isEmpty())) {
      p.add(at + ": mode MUTUAL without clientCertificate and privateKey (expected: both, "
          + "PEM files' paths)");
      return;
    }
    if (!mutual && (!tls.clientCertificate().isEmpty() || !tls.privateKey().isEmpty())) {
      p.add(at + ": mode SIMPLE with a client certificate (expected: mode MUTUAL to present one)");
      return;
    }
    try {
      UpstreamTls.load(tls);
    } catch (IllegalArgumentException e) {
      p.add(at + "." + e.getMessage());
    }
  }

  private static void percent(String at, double v, List<String> p) {
    if (!(v >= 0 && v <= 100)) {
      p.add(at + ": " + v + " (expected: 0..100)");
    }
  }

  private static void percentInt(String at, int v, List<String> p) {
    if (v < 0 || v > 100) {
      p.add(at + ": " + v + " (expected: 0..100)");
    }
  }
}
