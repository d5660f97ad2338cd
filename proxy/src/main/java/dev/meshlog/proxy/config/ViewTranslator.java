package dev.meshlog.proxy.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import dev.meshlog.events.discovery.ClientTls;
import dev.meshlog.events.discovery.ConnectionPool;
import dev.meshlog.events.discovery.ConsistentHash;
import dev.meshlog.events.discovery.CorsPolicy;
import dev.meshlog.events.discovery.Destination;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.FaultInjection;
import dev.meshlog.events.discovery.GatewayServer;
import dev.meshlog.events.discovery.HeaderOperations;
import dev.meshlog.events.discovery.Headers;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.LoadBalancer;
import dev.meshlog.events.discovery.OutboundTrafficMode;
import dev.meshlog.events.discovery.OutlierDetection;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.RetryPolicy;
import dev.meshlog.events.discovery.RouteDestination;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.StringMatch;
import dev.meshlog.events.discovery.Subset;
import dev.meshlog.events.discovery.TcpRoute;
import dev.meshlog.events.discovery.TlsMatch;
import dev.meshlog.events.discovery.TlsRoute;
import dev.meshlog.events.discovery.PortTrafficPolicy;
import dev.meshlog.events.discovery.TlsMode;
import dev.meshlog.events.discovery.TrafficPolicy;
import dev.meshlog.events.discovery.UnmatchedPreflights;
import dev.meshlog.proxy.config.RetryConfig.RetryOn;
import dev.meshlog.schemas.Re2Regex;

/**
 * Translates a discovery view (Avro) into the proxy's own {@link ServiceConfig}, refusing what
 * the proxy cannot run: bad regexes, unknown retry conditions, unsupported policies. Checks that
 * span several views (routes to hosts and subsets) are {@link SnapshotChecker}'s.
 */
public final class ViewTranslator {

  /** Regexes longer than this are refused: Java regexes backtrack, unlike Envoy's RE2. */
  public static final int MAX_REGEX_LENGTH = 1024;

  private final List<String> problems = new ArrayList<>();

  private ViewTranslator() {}

  /**
   * The proxy's config for {@code view}.
   *
   * @throws ViewRejectedException naming every field the proxy cannot run
   */
  public static ServiceConfig translate(ServiceView view) {
    ViewTranslator t = new ViewTranslator();
    ServiceConfig config = t.service(view);
    if (!t.problems.isEmpty()) {
      throw new ViewRejectedException(view.getHost(), view.getVersion(),
          String.join("; ", t.problems));
    }
    return config;
  }

  private ServiceConfig service(ServiceView v) {
    List<PortConfig> ports = new ArrayList<>();
    for (ServicePort p : v.getPorts()) {
      ports.add(new PortConfig(p.getName(), p.getNumber(), protocol(p.getProtocol()),
          p.getTargetPort()));
    }
    List<EndpointConfig> endpoints = new ArrayList<>();
    for (Endpoint e : v.getEndpoints()) {
      endpoints.add(new EndpointConfig(e.getInstanceId(), e.getAddress(), e.getPort(),
          e.getLabels(), e.getRegion(), e.getZone(), e.getCluster(),
          e.getHealth() == EndpointHealth.HEALTHY || e.getHealth() == EndpointHealth.UNSPECIFIED,
          e.getWeight()));
    }
    TrafficPolicyConfig hostPolicy = policy("trafficPolicy", v.getTrafficPolicy(), null);
    Map<String, SubsetConfig> subsets = new LinkedHashMap<>();
    for (Subset s : v.getSubsets()) {
      if (subsets.containsKey(s.getName())) {
        problems.add("subsets[" + s.getName() + "]: defined twice (expected: unique names)");
      }
      subsets.put(s.getName(), new SubsetConfig(s.getName(), s.getLabels(),
          policy("subsets[" + s.getName() + "].trafficPolicy", s.getTrafficPolicy(),
              v.getTrafficPolicy())));
    }
    List<RouteConfig> routes = new ArrayList<>();
    for (int i = 0; i < v.getHttpRoutes().size(); i++) {
      HttpRoute r = v.getHttpRoutes().get(i);
      routes.add(route("httpRoutes[" + i + "]" + (r.getName().isEmpty() ? "" : " (" + r.getName()
          + ")"), r));
    }
    List<TcpRouteConfig> tcpRoutes = new ArrayList<>();
    for (TcpRoute r : v.getTcpRoutes()) {
      tcpRoutes.add(new TcpRouteConfig(r.getPorts(), r.getDestinations().stream()
          .map(ViewTranslator::destination).toList()));
    }
    // Each match of a tls route is a route of its own: its SNI names on its port.
    for (TlsRoute r : v.getTlsRoutes()) {
      List<DestinationConfig> destinations = r.getDestinations().stream()
          .map(ViewTranslator::destination).toList();
      for (TlsMatch m : r.getMatches()) {
        tcpRoutes.add(new TcpRouteConfig(m.getPort() == null ? List.of() : List.of(m.getPort()),
            destinations, null, m.getSniHosts()));
      }
    }
    List<GatewayServerConfig> servers = new ArrayList<>();
    for (GatewayServer g : v.getGatewayServers()) {
      GatewayServerConfig.Tls tls = g.getTls() == null ? null : new GatewayServerConfig.Tls(
          GatewayServerConfig.TlsMode.valueOf(g.getTls().getMode().name()),
          g.getTls().getServerCertificate(), g.getTls().getPrivateKey(),
          g.getTls().getCaCertificates(), g.getTls().getHttpsRedirect());
      servers.add(new GatewayServerConfig(g.getName(), g.getPort(), protocol(g.getProtocol()),
          g.getHosts(), tls));
    }
    return new ServiceConfig(v.getHost(), v.getService(), v.getNamespace(), v.getVersion(),
        ports, endpoints, hostPolicy, subsets, routes, v.getEgressHosts(), tcpRoutes, servers,
        outboundTrafficPolicy(v.getOutboundTrafficPolicy()));
  }

  /** The view's mode; a symbol this proxy does not know (a newer writer's) reads UNSPECIFIED. */
  private static OutboundTrafficPolicy outboundTrafficPolicy(OutboundTrafficMode mode) {
    return switch (mode == null ? OutboundTrafficMode.UNSPECIFIED : mode) {
      case REGISTRY_ONLY -> OutboundTrafficPolicy.REGISTRY_ONLY;
      case ALLOW_ANY -> OutboundTrafficPolicy.ALLOW_ANY;
      default -> OutboundTrafficPolicy.UNSPECIFIED;
    };
  }

  private static PortConfig.Protocol protocol(Protocol p) {
    return PortConfig.Protocol.valueOf(p.name());
  }

  private static DestinationConfig destination(RouteDestination d) {
    Headers h = d.getHeaders();
    return new DestinationConfig(d.getDestination().getHost(), d.getDestination().getSubset(),
        d.getDestination().getPort(), d.getWeight(), h == null ? null : ops(h.getRequest()),
        h == null ? null : ops(h.getResponse()));
  }

  private TrafficPolicyConfig policy(String at, TrafficPolicy own, TrafficPolicy inherited) {
    if (own == null && inherited == null) {
      return TrafficPolicyConfig.DEFAULT;
    }
    LoadBalancer lb = pick(own, inherited, TrafficPolicy::getLoadBalancer);
    ConnectionPool pool = pick(own, inherited, TrafficPolicy::getConnectionPool);
    OutlierDetection od = pick(own, inherited, TrafficPolicy::getOutlierDetection);
    // tls is one setting: the mode comes with its own files and names, or neither does.
    TrafficPolicy tlsFrom = own != null && (own.getTlsMode() != TlsMode.UNSPECIFIED
        || own.getTls() != null) ? own : inherited;
    TlsMode tls = tlsFrom == null ? TlsMode.UNSPECIFIED : tlsFrom.getTlsMode();
    TrafficPolicyConfig base = new TrafficPolicyConfig(loadBalancer(at + ".loadBalancer", lb),
        limits(pool), outlier(od), TrafficPolicyConfig.TlsMode.valueOf(tls.name()),
        clientTls(tlsFrom == null ? null : tlsFrom.getTls()));
    // Istio's order on a port: own port-level tls, own tls, inherited port-level tls, inherited
    // tls. An own tls thus drops the inherited port-level entries.
    Map<Integer, TrafficPolicyConfig.PortTls> ports = new LinkedHashMap<>();
    if (tlsFrom != own && inherited != null) {
      addPortTls(base, inherited, ports);
    }
    if (own != null) {
      addPortTls(base, own, ports);
    }
    return ports.isEmpty() ? base : new TrafficPolicyConfig(base.loadBalancer(), base.limits(),
        base.outlierDetection(), base.tlsMode(), base.tls(), ports);
  }

  /** {@code policy}'s port-level tls entries, each replacing any {@code into} has for its port. */
  private static void addPortTls(TrafficPolicyConfig base, TrafficPolicy policy,
                                 Map<Integer, TrafficPolicyConfig.PortTls> into) {
    List<PortTrafficPolicy> entries = policy.getPortLevelSettings();
    if (entries == null) {
      return;
    }
    for (PortTrafficPolicy p : entries) {
      if (p.getTlsMode() == TlsMode.UNSPECIFIED && p.getTls() == null) {
        continue; // an entry of a newer writer that sets something else than tls
      }
      into.put(p.getPort(), TrafficPolicyConfig.PortTls.of(base,
          TrafficPolicyConfig.TlsMode.valueOf(p.getTlsMode().name()), clientTls(p.getTls())));
    }
  }

  private static ClientTlsConfig clientTls(ClientTls t) {
    if (t == null) {
      return ClientTlsConfig.NONE;
    }
    return new ClientTlsConfig(t.getSni(), t.getCaCertificates(), t.getSubjectAltNames(),
        t.getClientCertificate(), t.getPrivateKey(), t.getInsecureSkipVerify());
  }

  private static <T> T pick(TrafficPolicy own, TrafficPolicy inherited,
                            java.util.function.Function<TrafficPolicy, T> field) {
    T v = own == null ? null : field.apply(own);
    return v != null || inherited == null ? v : field.apply(inherited);
  }

  private LbConfig loadBalancer(String at, LoadBalancer lb) {
    if (lb == null) {
      return LbConfig.DEFAULT;
    }
    ConsistentHash ch = lb.getConsistentHash();
    if (ch != null) {
      int keys = (ch.getHttpHeaderName() != null ? 1 : 0) + (ch.getHttpCookieName() != null ? 1 : 0)
          + (ch.getUseSourceIp() ? 1 : 0) + (ch.getHttpQueryParameterName() != null ? 1 : 0);
      if (keys != 1) {
        problems.add(at + ".consistentHash: " + keys + " hash keys (expected: exactly one of "
            + "httpHeaderName, httpCookieName, useSourceIp, httpQueryParameterName)");
        return LbConfig.DEFAULT;
      }
      long ring = ch.getMinimumRingSize() == null ? 1024 : ch.getMinimumRingSize();
      if (ring < 1 || ring > 8_388_608) {
        problems.add(at + ".consistentHash.minimumRingSize: " + ring + " (expected: 1..8388608)");
        ring = 1024;
      }
      String header = ch.getHttpHeaderName() == null ? null
          : ch.getHttpHeaderName().toLowerCase(Locale.ROOT);
      return new LbConfig(LbConfig.Policy.RING_HASH, new LbConfig.HashKey(header,
          ch.getHttpCookieName(), ch.getHttpCookieTtlMillis(), ch.getUseSourceIp(),
          ch.getHttpQueryParameterName()), ring,
          lb.getLocalityEnabled(), lb.getFailoverPriorities());
    }
    LbConfig.Policy policy = switch (lb.getSimple()) {
      case UNSPECIFIED, ROUND_ROBIN -> LbConfig.Policy.ROUND_ROBIN;
      case LEAST_REQUEST -> LbConfig.Policy.LEAST_REQUEST;
      case RANDOM -> LbConfig.Policy.RANDOM;
      case PASSTHROUGH -> {
        problems.add(at + ".simple: PASSTHROUGH (expected: ROUND_ROBIN, LEAST_REQUEST or RANDOM;"
            + " this proxy always picks an endpoint)");
        yield LbConfig.Policy.ROUND_ROBIN;
      }
    };
    return new LbConfig(policy, null, 1024, lb.getLocalityEnabled(), lb.getFailoverPriorities());
  }

  private static PoolLimits limits(ConnectionPool p) {
    if (p == null) {
      return PoolLimits.UNLIMITED;
    }
    PoolLimits d = PoolLimits.UNLIMITED;
    return new PoolLimits(
        p.getMaxConnections() == null ? d.maxConnections() : p.getMaxConnections(),
        p.getMaxPendingRequests() == null ? d.maxPendingRequests() : p.getMaxPendingRequests(),
        p.getMaxRequests() == null ? d.maxRequests() : p.getMaxRequests(),
        p.getMaxRetries() == null ? d.maxRetries() : p.getMaxRetries(),
        p.getConnectTimeoutMillis() == null ? d.connectTimeout()
            : Duration.ofMillis(p.getConnectTimeoutMillis()),
        p.getIdleTimeoutMillis() == null ? d.idleTimeout()
            : Duration.ofMillis(p.getIdleTimeoutMillis()),
        p.getMaxRequestsPerConnection() == null ? 0 : p.getMaxRequestsPerConnection());
  }

  private static OutlierConfig outlier(OutlierDetection o) {
    if (o == null) {
      return OutlierConfig.DISABLED;
    }
    // Istio: consecutive5xxErrors defaults to 5 when outlierDetection is set but it is not.
    int fiveXx = o.getConsecutive5xxErrors() == null
        ? (o.getConsecutiveGatewayErrors() == null ? 5 : 0) : o.getConsecutive5xxErrors();
    int gateway = o.getConsecutiveGatewayErrors() == null ? 0 : o.getConsecutiveGatewayErrors();
    return new OutlierConfig(fiveXx, gateway, Duration.ofMillis(o.getIntervalMillis()),
        Duration.ofMillis(o.getBaseEjectionTimeMillis()), o.getMaxEjectionPercent(),
        o.getMinHealthPercent());
  }

  private RouteConfig route(String at, HttpRoute r) {
    List<MatchConfig> matches = new ArrayList<>();
    for (int i = 0; i < r.getMatches().size(); i++) {
      matches.add(match(at + ".matches[" + i + "]", r.getMatches().get(i)));
    }
    List<DestinationConfig> destinations = new ArrayList<>();
    for (RouteDestination d : r.getDestinations()) {
      destinations.add(destination(d));
    }
    RouteConfig.Redirect redirect = r.getRedirect() == null ? null : new RouteConfig.Redirect(
        r.getRedirect().getUri(), r.getRedirect().getAuthority(), r.getRedirect().getScheme(),
        r.getRedirect().getPort(), r.getRedirect().getResponseCode());
    RouteConfig.DirectResponse direct = r.getDirectResponse() == null ? null
        : new RouteConfig.DirectResponse(r.getDirectResponse().getStatus(),
            r.getDirectResponse().getBody());
    RouteConfig.Rewrite rewrite = null;
    if (r.getRewrite() != null) {
      var rw = r.getRewrite();
      Pattern regex = rw.getUriRegex() == null ? null : compile(at + ".rewrite.uriRegex",
          rw.getUriRegex());
      if (rw.getUri() != null && rw.getUriRegex() != null) {
        problems.add(at + ".rewrite: both uri and uriRegex (expected: at most one)");
      }
      rewrite = new RouteConfig.Rewrite(rw.getUri(), regex,
          rw.getUriRegexSubstitution() == null ? "" : re2Substitution(rw.getUriRegexSubstitution()),
          rw.getAuthority());
    }
    Destination m = r.getMirror();
    DestinationConfig mirror = m == null ? null
        : new DestinationConfig(m.getHost(), m.getSubset(), m.getPort(), 100, null, null);
    Headers h = r.getHeaders();
    return new RouteConfig(r.getName(), matches, destinations, null, redirect, direct, rewrite,
        r.getTimeoutMillis() == null ? Duration.ZERO : Duration.ofMillis(r.getTimeoutMillis()),
        retries(at + ".retries", r.getRetries()), fault(at + ".fault", r.getFault()), mirror,
        r.getMirrorPercentage(), h == null ? null : ops(h.getRequest()),
        h == null ? null : ops(h.getResponse()), r.getHosts(), cors(at + ".corsPolicy",
            r.getCorsPolicy()));
  }

  /** A route's CORS policy; header values joined with "," as Istio hands them to Envoy. */
  private CorsConfig cors(String at, CorsPolicy c) {
    if (c == null) {
      return null;
    }
    List<StringMatcher> origins = new ArrayList<>();
    for (int i = 0; i < c.getAllowOrigins().size(); i++) {
      origins.add(matcher(at + ".allowOrigins[" + i + "]", c.getAllowOrigins().get(i)));
    }
    Long maxAge = c.getMaxAgeSeconds();
    if (maxAge != null && maxAge < 0) {
      problems.add(at + ".maxAgeSeconds: " + maxAge + " (expected: 0 or more)");
    }
    return new CorsConfig(origins, String.join(",", c.getAllowMethods()),
        String.join(",", c.getAllowHeaders()), String.join(",", c.getExposeHeaders()),
        maxAge == null ? null : maxAge.toString(), Boolean.TRUE.equals(c.getAllowCredentials()),
        c.getUnmatchedPreflights() != UnmatchedPreflights.IGNORE);
  }

  private MatchConfig match(String at, HttpMatch m) {
    Map<String, StringMatcher> headers = new LinkedHashMap<>();
    m.getHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT),
        matcher(at + ".headers." + k, v)));
    Map<String, StringMatcher> without = new LinkedHashMap<>();
    m.getWithoutHeaders().forEach((k, v) -> without.put(k.toLowerCase(Locale.ROOT),
        matcher(at + ".withoutHeaders." + k, v)));
    Map<String, StringMatcher> query = new LinkedHashMap<>();
    m.getQueryParams().forEach((k, v) -> query.put(k, matcher(at + ".queryParams." + k, v)));
    return new MatchConfig(m.getName(), matcher(at + ".uri", m.getUri()),
        matcher(at + ".method", m.getMethod()), matcher(at + ".authority", m.getAuthority()),
        matcher(at + ".scheme", m.getScheme()), headers, without, query, m.getSourceLabels(),
        m.getPort(), m.getIgnoreUriCase(), m.getGateways());
  }

  private StringMatcher matcher(String at, StringMatch m) {
    if (m == null) {
      return null;
    }
    return switch (m.getType()) {
      case UNSPECIFIED -> StringMatcher.present();
      case EXACT -> StringMatcher.exact(m.getValue());
      case PREFIX -> StringMatcher.prefix(m.getValue());
      case REGEX -> {
        Pattern p = compile(at + ".regex", m.getValue());
        yield p == null ? StringMatcher.exact(m.getValue())
            : new StringMatcher(StringMatcher.Kind.REGEX, m.getValue(), p);
      }
    };
  }

  private Pattern compile(String at, String regex) {
    if (regex.length() > MAX_REGEX_LENGTH) {
      problems.add(at + ": " + regex.length() + " characters (expected: <= " + MAX_REGEX_LENGTH
          + ")");
      return null;
    }
    try {
      return Re2Regex.compile(regex);
    } catch (PatternSyntaxException e) {
      problems.add(at + ": " + regex + " is not a valid regex (" + e.getDescription() + " near "
          + "index " + e.getIndex() + ")");
      return null;
    }
  }

  /** Envoy/RE2 substitutions write groups as {@code \1}; Java's replaceAll wants {@code $1}. */
  static String re2Substitution(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1))) {
        b.append('$').append(s.charAt(++i));
      } else if (c == '$' || c == '\\') {
        b.append('\\').append(c);
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static HeaderOps ops(HeaderOperations o) {
    if (o == null) {
      return HeaderOps.NONE;
    }
    Map<String, String> set = new LinkedHashMap<>();
    o.getSet().forEach((k, v) -> set.put(k.toLowerCase(Locale.ROOT), v));
    Map<String, String> add = new LinkedHashMap<>();
    o.getAdd().forEach((k, v) -> add.put(k.toLowerCase(Locale.ROOT), v));
    return new HeaderOps(set, add,
        o.getRemove().stream().map(h -> h.toLowerCase(Locale.ROOT)).toList());
  }

  private RetryConfig retries(String at, RetryPolicy r) {
    if (r == null) {
      // No retries on the route: Istio gives it its default policy, not none.
      return RetryConfig.ISTIO_DEFAULT;
    }
    Set<RetryOn> on = EnumSet.noneOf(RetryOn.class);
    Set<Integer> codes = new HashSet<>(r.getRetriableStatusCodes());
    for (String raw : r.getRetryOn()) {
      for (String token : raw.split(",")) {
        String t = token.trim().toLowerCase(Locale.ROOT);
        if (t.isEmpty()) {
          continue;
        }
        if (t.chars().allMatch(Character::isDigit)) {
          codes.add(Integer.parseInt(t));
          on.add(RetryOn.RETRIABLE_STATUS_CODES);
          continue;
        }
        Optional<RetryOn> known = RetryOn.parse(t);
        if (known.isPresent()) {
          on.add(known.get());
        } else {
          problems.add(at + ".retryOn: " + t + " (expected: 5xx, gateway-error, connect-failure, "
              + "reset, refused-stream, retriable-4xx, retriable-status-codes, cancelled, "
              + "deadline-exceeded, internal, resource-exhausted, unavailable or a status code)");
        }
      }
    }
    if (on.isEmpty() && r.getRetryOn().isEmpty()) {
      // Istio's default retry conditions.
      on.addAll(EnumSet.of(RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM,
          RetryOn.RETRIABLE_STATUS_CODES, RetryOn.GRPC_CANCELLED, RetryOn.GRPC_UNAVAILABLE));
      codes.add(503);
    }
    if (r.getBackoffBaseMillis() <= 0 || r.getBackoffMaxMillis() < r.getBackoffBaseMillis()) {
      problems.add(at + ": backoff base " + r.getBackoffBaseMillis() + "ms, max "
          + r.getBackoffMaxMillis() + "ms (expected: 0 < base <= max)");
    }
    return new RetryConfig(r.getAttempts(),
        r.getPerTryTimeoutMillis() == null ? Duration.ZERO
            : Duration.ofMillis(r.getPerTryTimeoutMillis()),
        on, codes, Duration.ofMillis(Math.max(1, r.getBackoffBaseMillis())),
        Duration.ofMillis(Math.max(1, r.getBackoffMaxMillis())), r.getRetryRemoteLocalities(),
        r.getRetryIgnorePreviousHosts());
  }

  private FaultConfig fault(String at, FaultInjection f) {
    if (f == null) {
      return FaultConfig.NONE;
    }
    Integer grpc = f.getAbort() == null ? null : f.getAbort().getGrpcStatus();
    if (grpc != null && (grpc < 0 || grpc > 16)) {
      problems.add(at + ".abort.grpcStatus: " + grpc + " (expected: a gRPC status code, 0..16)");
      grpc = null;
    }
    return new FaultConfig(
        f.getDelay() == null ? null : Duration.ofMillis(f.getDelay().getFixedDelayMillis()),
        f.getDelay() == null ? 0 : f.getDelay().getPercentage(),
        f.getAbort() == null || grpc != null ? 0 : f.getAbort().getHttpStatus(),
        f.getAbort() == null ? 0 : f.getAbort().getPercentage(), grpc == null ? -1 : grpc);
  }
}
