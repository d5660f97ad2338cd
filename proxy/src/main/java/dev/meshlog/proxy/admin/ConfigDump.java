package dev.meshlog.proxy.admin;

import java.time.Clock;
import java.time.Duration;

import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.cluster.Dataplane;
import dev.meshlog.proxy.config.ClusterKey;
import dev.meshlog.proxy.config.DestinationConfig;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.LbConfig;
import dev.meshlog.proxy.config.MatchConfig;
import dev.meshlog.proxy.config.OutlierConfig;
import dev.meshlog.proxy.config.PoolLimits;
import dev.meshlog.proxy.config.RouteConfig;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.config.SubsetConfig;
import dev.meshlog.proxy.config.TrafficPolicyConfig;
import dev.meshlog.proxy.http.UpstreamClients;
import dev.meshlog.proxy.lb.Upstream;
import dev.meshlog.proxy.upstream.UpstreamTls;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** JSON renderings of the running config ({@code /config_dump}) and clusters ({@code /clusters}). */
public final class ConfigDump {

  private ConfigDump() {}

  /** The snapshot in force: each service's version, routes, subsets and endpoints. */
  public static JsonObject config(Dataplane dp) {
    JsonObject services = new JsonObject();
    for (ServiceConfig s : dp.snapshot().services().values()) {
      JsonArray routes = new JsonArray();
      for (RouteConfig r : s.routes()) {
        JsonArray matches = new JsonArray();
        for (MatchConfig m : r.matches()) {
          JsonObject jm = new JsonObject();
          if (m.uri() != null) {
            jm.put("uri", m.uri().toString());
          }
          if (m.method() != null) {
            jm.put("method", m.method().toString());
          }
          if (!m.headers().isEmpty()) {
            JsonObject h = new JsonObject();
            m.headers().forEach((k, v) -> h.put(k, v.toString()));
            jm.put("headers", h);
          }
          if (!m.sourceLabels().isEmpty()) {
            jm.put("sourceLabels", new JsonObject(new java.util.HashMap<>(m.sourceLabels())));
          }
          matches.add(jm);
        }
        JsonArray dests = new JsonArray();
        for (DestinationConfig d : r.destinations()) {
          dests.add(new JsonObject().put("cluster", d.cluster().toString())
              .put("weight", d.weight()));
        }
        JsonObject jr = new JsonObject().put("name", r.name()).put("matches", matches)
            .put("destinations", dests);
        if (!r.timeout().isZero()) {
          jr.put("timeoutMillis", r.timeout().toMillis());
        }
        if (r.retries().attempts() > 0) {
          jr.put("retries", new JsonObject().put("attempts", r.retries().attempts())
              .put("retryOn", new JsonArray(r.retries().retryOn().stream()
                  .map(x -> x.token()).sorted().toList())));
        }
        if (!r.fault().isEmpty()) {
          jr.put("fault", new JsonObject().put("abortStatus", r.fault().abortStatus())
              .put("abortGrpcStatus", r.fault().abortGrpcStatus() < 0 ? null
                  : r.fault().abortGrpcStatus())
              .put("abortPercent", r.fault().abortPercent())
              .put("delayPercent", r.fault().delayPercent()));
        }
        if (r.mirror() != null) {
          jr.put("mirror", r.mirror().cluster().toString()).put("mirrorPercent",
              r.mirrorPercent());
        }
        routes.add(jr);
      }
      JsonArray endpoints = new JsonArray();
      for (EndpointConfig e : s.endpoints()) {
        JsonObject je = new JsonObject().put("address", e.hostPort()).put("zone", e.zone())
            .put("cluster", e.cluster()).put("healthy", e.healthy())
            .put("labels", new JsonObject(new java.util.HashMap<>(e.labels())));
        // An endpoint the proxy does not send to says why (only a request loop, so far).
        dp.loops().stream().filter(l -> l.host().equals(s.host()) && l.endpoint().equals(e))
            .findFirst().ifPresent(l -> je.put("leftOut", l.reason()));
        endpoints.add(je);
      }
      JsonArray ports = new JsonArray();
      s.ports().forEach(p -> ports.add(new JsonObject().put("name", p.name())
          .put("number", p.number()).put("protocol", p.protocol().name())));
      JsonArray tcpRoutes = new JsonArray();
      s.tcpRoutes().forEach(r -> tcpRoutes.add(new JsonObject()
          .put("ports", new JsonArray(r.ports()))
          .put("sniHosts", new JsonArray(r.sniHosts()))
          .put("destinations", new JsonArray(r.destinations().stream().map(d -> new JsonObject()
              .put("cluster", d.cluster().toString()).put("weight", d.weight())).toList()))));
      JsonArray servers = new JsonArray();
      s.gatewayServers().forEach(g -> servers.add(new JsonObject().put("port", g.port())
          .put("protocol", g.protocol().name()).put("hosts", new JsonArray(g.hosts()))
          .put("tls", g.tls() == null ? null : new JsonObject().put("mode", g.tls().mode().name())
              .put("httpsRedirect", g.tls().httpsRedirect())
              .put("serverCertificate", g.tls().serverCertificate())
              .put("caCertificates", g.tls().caCertificates()))));
      services.put(s.host(), new JsonObject().put("version", s.version()).put("ports", ports)
          .put("tcpRoutes", tcpRoutes).put("gatewayServers", servers)
          .put("subsets", new JsonArray(s.subsets().keySet().stream().sorted().toList()))
          .put("routes", routes).put("endpoints", endpoints)
          .put("egressHosts", new JsonArray(s.egressHosts()))
          .put("outboundTrafficPolicy", s.outboundTrafficPolicy().name()));
    }
    return new JsonObject()
        .put("proxy", new JsonObject().put("id", dp.identity().proxyId())
            .put("workload", dp.identity().workload()).put("namespace", dp.identity().namespace())
            .put("zone", dp.identity().zone()).put("cluster", dp.identity().cluster())
            .put("labels", new JsonObject(new java.util.TreeMap<>(dp.identity().labels()))))
        .put("versions", new JsonObject(new java.util.TreeMap<>(dp.snapshot().versions())))
        .put("services", services)
        .put("clusters", trafficPolicies(dp));
  }

  /**
   * Each cluster (a host, or one subset of it) with the traffic policy the proxy runs for it:
   * the subset's own settings over the host's, Istio's defaults where neither sets one, and the
   * proxy's own where the rule leaves it to the proxy (idle timeout) — what Envoy's config dump
   * shows as a cluster's settings. A limit that is not set is {@code null} (no limit).
   */
  static JsonArray trafficPolicies(Dataplane dp) {
    JsonArray list = new JsonArray();
    dp.clusters().values().stream()
        .sorted(java.util.Comparator.comparing(c -> c.key().toString()))
        .forEach((Cluster c) -> {
          ClusterKey key = c.key();
          ServiceConfig s = dp.snapshot().services().get(key.host());
          SubsetConfig subset = key.subset() == null || s == null ? null
              : s.subsets().get(key.subset());
          TrafficPolicyConfig p = c.policy();
          list.add(new JsonObject().put("name", key.toString()).put("host", key.host())
              .put("subset", key.subset())
              .put("labels", subset == null ? null
                  : new JsonObject(new java.util.TreeMap<>(subset.labels())))
              .put("endpoints", c.members().size())
              .put("loadBalancer", loadBalancer(p.loadBalancer()))
              .put("connectionPool", connectionPool(p.limits()))
              .put("outlierDetection", outlierDetection(p.outlierDetection()))
              .put("tls", tls(p, key.host()))
              .put("portLevelTls", portLevelTls(p, key.host())));
        });
    return list;
  }

  /**
   * The TLS mode asked for next to the one in force (SIMPLE and MUTUAL are originated;
   * ISTIO_MUTUAL waits for the mesh CA and is plain text), and the settings used; with
   * {@code filesError} when the files changed into something that cannot be loaded.
   */
  private static JsonObject tls(TrafficPolicyConfig p, String host) {
    JsonObject j = new JsonObject().put("configuredMode", p.tlsMode().name())
        .put("mode", (p.originatesTls() ? p.tlsMode() : TrafficPolicyConfig.TlsMode.DISABLE)
            .name());
    if (p.originatesTls()) {
      j.put("sni", p.tls().sniFor(host))
          .put("caCertificates", p.tls().caCertificates().isEmpty() ? "(JVM default trust store)"
              : p.tls().caCertificates())
          .put("subjectAltNames", new io.vertx.core.json.JsonArray(p.tls().subjectAltNames()))
          .put("clientCertificate", p.tls().clientCertificate())
          .put("insecureSkipVerify", p.tls().insecureSkipVerify());
      // A change of the files that could not be loaded: the previous ones are still in force.
      UpstreamTls loaded = UpstreamTls.loaded(p.tls());
      if (loaded != null && loaded.filesError() != null) {
        j.put("filesError", loaded.filesError());
      }
    }
    return j;
  }

  /**
   * The tls of each destination port with a {@code portLevelSettings} entry, by port number, as
   * {@link #tls} shows the cluster's: what a request or connection to that port runs under.
   */
  private static JsonObject portLevelTls(TrafficPolicyConfig p, String host) {
    JsonObject j = new JsonObject();
    new java.util.TreeMap<>(p.portTls()).forEach((port, t) ->
        j.put(String.valueOf(port), tls(t.policy(), host)));
    return j;
  }

  private static JsonObject loadBalancer(LbConfig lb) {
    JsonObject j = new JsonObject().put("policy", lb.policy().name());
    LbConfig.HashKey k = lb.hashKey();
    if (k != null) {
      JsonObject key = new JsonObject();
      if (k.header() != null) {
        key.put("httpHeaderName", k.header());
      }
      if (k.cookie() != null) {
        key.put("httpCookieName", k.cookie()).put("httpCookieTtlMillis", k.cookieTtlMillis());
      }
      if (k.sourceIp()) {
        key.put("useSourceIp", true);
      }
      if (k.queryParameter() != null) {
        key.put("httpQueryParameterName", k.queryParameter());
      }
      j.put("hashKey", key).put("minimumRingSize", lb.minimumRingSize());
    }
    return j.put("locality", new JsonObject().put("enabled", lb.localityEnabled())
        .put("failoverPriorities", new JsonArray(lb.failoverPriorities())));
  }

  private static JsonObject connectionPool(PoolLimits l) {
    Duration idle = l.idleTimeout().isZero() ? UpstreamClients.DEFAULT_IDLE : l.idleTimeout();
    return new JsonObject().put("maxConnections", limit(l.maxConnections()))
        .put("maxPendingRequests", limit(l.maxPendingRequests()))
        .put("maxRequests", limit(l.maxRequests())).put("maxRetries", limit(l.maxRetries()))
        .put("maxRequestsPerConnection",
            l.maxRequestsPerConnection() <= 0 ? null : l.maxRequestsPerConnection())
        .put("connectTimeoutMillis", l.connectTimeout().toMillis())
        .put("idleTimeoutMillis", idle.toMillis());
  }

  private static Integer limit(int n) {
    return n == Integer.MAX_VALUE ? null : n;
  }

  private static JsonObject outlierDetection(OutlierConfig o) {
    return new JsonObject().put("enabled", o.enabled())
        .put("consecutive5xxErrors", o.consecutive5xx())
        .put("consecutiveGatewayErrors", o.consecutiveGatewayErrors())
        .put("intervalMillis", o.interval().toMillis())
        .put("baseEjectionTimeMillis", o.baseEjectionTime().toMillis())
        .put("maxEjectionPercent", o.maxEjectionPercent())
        .put("minHealthPercent", o.minHealthPercent());
  }

  /** Every cluster with its limits, breaker counters and endpoints' health and ejection. */
  public static JsonObject clusters(Dataplane dp, Clock clock) {
    JsonArray list = new JsonArray();
    long now = clock.millis();
    dp.clusters().values().stream().sorted(java.util.Comparator.comparing(c -> c.key()
        .toString())).forEach((Cluster c) -> {
          PoolLimits l = c.breaker().limits();
          JsonArray endpoints = new JsonArray();
          for (Upstream u : c.members()) {
            long until = u.stats().outlier().ejectedUntilMillis();
            endpoints.add(new JsonObject().put("address", u.endpoint().hostPort())
                .put("zone", u.endpoint().zone()).put("cluster", u.endpoint().cluster())
                .put("localityRank", u.rank()).put("healthy", u.endpoint().healthy())
                .put("ejected", until > now)
                .put("ejectedForMillis", Math.max(0, until - now))
                .put("ejections", u.stats().outlier().ejections())
                .put("active", u.stats().active()).put("requests", u.stats().requests())
                .put("failures", u.stats().failures()));
          }
          list.add(new JsonObject().put("name", c.key().toString())
              .put("loadBalancer", c.policy().loadBalancer().policy().name())
              .put("limits", new JsonObject().put("maxConnections", l.maxConnections())
                  .put("maxPendingRequests", l.maxPendingRequests())
                  .put("maxRequests", l.maxRequests()).put("maxRetries", l.maxRetries()))
              .put("circuitBreaker", new JsonObject().put("active", c.breaker().active())
                  .put("pending", c.breaker().pending())
                  .put("overflows", c.breaker().overflows())
                  .put("retryOverflows", c.breaker().retryOverflows()))
              .put("endpoints", endpoints)
              .put("leftOut", new JsonArray(c.loops().stream().map(loop -> new JsonObject()
                  .put("address", loop.endpoint().hostPort())
                  .put("instanceId", loop.endpoint().instanceId())
                  .put("reason", loop.reason())).toList())));
        });
    return new JsonObject().put("clusters", list);
  }
}
