package dev.meshlog.config.discovery;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;

import dev.meshlog.config.model.Hosts;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.discovery.AbortFault;
import dev.meshlog.events.discovery.CorsPolicy;
import dev.meshlog.events.discovery.DelayFault;
import dev.meshlog.events.discovery.Destination;
import dev.meshlog.events.discovery.DirectResponse;
import dev.meshlog.events.discovery.FaultInjection;
import dev.meshlog.events.discovery.HeaderOperations;
import dev.meshlog.events.discovery.Headers;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.events.discovery.Redirect;
import dev.meshlog.events.discovery.RetryPolicy;
import dev.meshlog.events.discovery.Rewrite;
import dev.meshlog.events.discovery.RouteDestination;
import dev.meshlog.events.discovery.StringMatch;
import dev.meshlog.events.discovery.TcpRoute;
import dev.meshlog.events.discovery.TlsMatch;
import dev.meshlog.events.discovery.TlsRoute;
import dev.meshlog.events.discovery.UnmatchedPreflights;
import dev.meshlog.events.discovery.ViewProblem;

/**
 * Translates VirtualServices into view routes, and keeps out of the view any VirtualService
 * that sends traffic (or mirrors it) to a host or subset that does not exist.
 */
final class RouteCompiler {

  /** Istio's retry conditions when a VirtualService sets retries without retryOn. */
  private static final List<String> DEFAULT_RETRY_ON =
      List.of("connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes");
  private static final String RETRIABLE_STATUS_CODES = "retriable-status-codes";
  /** gRPC's status names in code order (0..16). */
  private static final String[] GRPC_STATUS_NAMES = {"OK", "CANCELLED", "UNKNOWN",
      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
      "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  /** Envoy's base retry interval when Istio's {@code backoff} is not set. */
  private static final long DEFAULT_BACKOFF_MILLIS = 25;

  private final Mesh mesh;

  RouteCompiler(Mesh mesh) {
    this.mesh = mesh;
  }

  /** The routes one VirtualService contributes to a view. */
  record Routes(List<HttpRoute> http, List<TcpRoute> tcp, List<TlsRoute> tls) {}

  /**
   * The routes of {@code virtualService} that apply at {@code gateway} ({@code mesh} or
   * {@code namespace/name}); or, if it is inconsistent, no routes and one problem per cause.
   */
  Routes compile(Resource virtualService, String gateway, ViewNotes notes) {
    List<ViewProblem> problems = inconsistencies(virtualService);
    if (!problems.isEmpty()) {
      notes.addAll(problems, virtualService);
      return new Routes(List.of(), List.of(), List.of());
    }
    List<HttpRoute> http = new ArrayList<>();
    List<TcpRoute> tcp = new ArrayList<>();
    String namespace = virtualService.namespace();
    List<String> hosts = HostPatterns.hosts(virtualService);
    for (JsonNode route : Json.items(virtualService.spec(), "http")) {
      List<HttpMatch> matches = new ArrayList<>();
      List<JsonNode> written = Json.items(route, "match");
      for (JsonNode match : written) {
        if (appliesAt(match, gateway, namespace)) {
          matches.add(httpMatch(match, namespace));
        }
      }
      if (!written.isEmpty() && matches.isEmpty()) {
        continue; // every match names other gateways
      }
      http.add(httpRoute(route, matches, hosts, virtualService));
    }
    for (JsonNode route : Json.items(virtualService.spec(), "tcp")) {
      List<JsonNode> written = Json.items(route, "match");
      List<JsonNode> applying = written.stream().filter(m -> appliesAt(m, gateway, namespace)).toList();
      if (!written.isEmpty() && applying.isEmpty()) {
        continue;
      }
      Set<Integer> ports = new LinkedHashSet<>();
      boolean anyPort = applying.isEmpty();
      for (JsonNode match : applying) {
        Integer port = Json.integer(match, "port");
        if (port == null) {
          anyPort = true;
        } else {
          ports.add(port);
        }
      }
      tcp.add(TcpRoute.newBuilder()
          .setPorts(anyPort ? List.of() : List.copyOf(ports))
          .setDestinations(destinations(route, namespace))
          .build());
    }
    List<TlsRoute> tls = new ArrayList<>();
    for (JsonNode route : Json.items(virtualService.spec(), "tls")) {
      List<TlsMatch> matches = new ArrayList<>();
      for (JsonNode match : Json.items(route, "match")) {
        if (appliesAt(match, gateway, namespace)) {
          matches.add(TlsMatch.newBuilder().setSniHosts(Json.strings(match, "sniHosts"))
              .setPort(Json.integer(match, "port")).build());
        }
      }
      if (matches.isEmpty()) {
        continue; // every match names other gateways (a tls route always has matches)
      }
      tls.add(TlsRoute.newBuilder()
          .setVirtualService(virtualService.namespace() + "/" + virtualService.name())
          .setMatches(matches)
          .setDestinations(destinations(route, namespace))
          .build());
    }
    notes.use(virtualService);
    return new Routes(http, tcp, tls);
  }

  /**
   * Every route destination or mirror of {@code virtualService} naming a host with no view, or
   * a subset the host's DestinationRule does not define: one problem each.
   */
  List<ViewProblem> inconsistencies(Resource virtualService) {
    List<ViewProblem> problems = new ArrayList<>();
    List<JsonNode> http = Json.items(virtualService.spec(), "http");
    for (int i = 0; i < http.size(); i++) {
      List<JsonNode> routes = Json.items(http.get(i), "route");
      for (int j = 0; j < routes.size(); j++) {
        check(virtualService, Json.field(routes.get(j), "destination"),
            "spec.http[" + i + "].route[" + j + "].destination", problems);
      }
      JsonNode mirror = Json.field(http.get(i), "mirror");
      if (mirror != null) {
        check(virtualService, mirror, "spec.http[" + i + "].mirror", problems);
      }
    }
    for (String kind : List.of("tcp", "tls")) {
      List<JsonNode> l4 = Json.items(virtualService.spec(), kind);
      for (int i = 0; i < l4.size(); i++) {
        List<JsonNode> routes = Json.items(l4.get(i), "route");
        for (int j = 0; j < routes.size(); j++) {
          check(virtualService, Json.field(routes.get(j), "destination"),
              "spec." + kind + "[" + i + "].route[" + j + "].destination", problems);
        }
      }
    }
    return problems;
  }

  /** Every host {@code virtualService} routes or mirrors to, qualified. */
  static Set<String> destinationHosts(Resource virtualService) {
    Set<String> out = new TreeSet<>();
    for (JsonNode http : Json.items(virtualService.spec(), "http")) {
      for (JsonNode route : Json.items(http, "route")) {
        out.add(destinationHost(Json.field(route, "destination"), virtualService.namespace()));
      }
      JsonNode mirror = Json.field(http, "mirror");
      if (mirror != null) {
        out.add(destinationHost(mirror, virtualService.namespace()));
      }
    }
    for (String kind : List.of("tcp", "tls")) {
      for (JsonNode l4 : Json.items(virtualService.spec(), kind)) {
        for (JsonNode route : Json.items(l4, "route")) {
          out.add(destinationHost(Json.field(route, "destination"), virtualService.namespace()));
        }
      }
    }
    return out;
  }

  private static String destinationHost(JsonNode destination, String namespace) {
    return Hosts.qualify(Json.text(destination, "host", ""), namespace);
  }

  private void check(Resource virtualService, JsonNode destination, String path, List<ViewProblem> problems) {
    if (destination == null) {
      return; // validation requires it; nothing to route to
    }
    String host = destinationHost(destination, virtualService.namespace());
    if (!mesh.isService(host)) {
      problems.add(problem(virtualService, path + ".host", "host " + host
          + " has no view: no registered service instance and no ServiceEntry defines it"));
      return;
    }
    String subset = Json.text(destination, "subset");
    if (subset == null) {
      return;
    }
    Mesh.DestinationRules rules = mesh.destinationRules(host);
    if (rules.winner() == null) {
      problems.add(problem(virtualService, path + ".subset", "subset " + subset + " of " + host
          + " is not defined: no DestinationRule for " + host + " defines subsets"));
      return;
    }
    List<String> defined = Json.items(rules.winner().spec(), "subsets").stream()
        .map(s -> Json.text(s, "name", "")).toList();
    if (!defined.contains(subset)) {
      problems.add(problem(virtualService, path + ".subset", "subset " + subset + " of " + host
          + " is not defined: " + rules.winner().id() + " defines "
          + (defined.isEmpty() ? "no subsets" : String.join(", ", defined))));
    }
  }

  private static ViewProblem problem(Resource resource, String path, String message) {
    return ViewProblem.newBuilder().setResource(resource.id().key()).setPath(path).setMessage(message).build();
  }

  /** Whether a match applies at {@code gateway}: it names no gateways, or names this one. */
  private static boolean appliesAt(JsonNode match, String gateway, String namespace) {
    List<String> gateways = Json.strings(match, "gateways");
    return gateways.isEmpty()
        || gateways.stream().map(g -> HostPatterns.gatewayRef(g, namespace)).anyMatch(gateway::equals);
  }

  private static HttpRoute httpRoute(JsonNode route, List<HttpMatch> matches, List<String> hosts, Resource vs) {
    String namespace = vs.namespace();
    return HttpRoute.newBuilder()
        .setName(Json.text(route, "name", ""))
        .setVirtualService(vs.namespace() + "/" + vs.name())
        .setHosts(hosts)
        .setMatches(matches)
        .setDestinations(destinations(route, namespace))
        .setRedirect(redirect(Json.field(route, "redirect")))
        .setDirectResponse(directResponse(Json.field(route, "directResponse")))
        .setRewrite(rewrite(Json.field(route, "rewrite")))
        .setTimeoutMillis(Json.millis(route, "timeout"))
        .setRetries(retries(Json.field(route, "retries")))
        .setFault(fault(Json.field(route, "fault")))
        .setMirror(destination(Json.field(route, "mirror"), namespace))
        .setMirrorPercentage(percentage(route, "mirrorPercentage", "mirrorPercent"))
        .setHeaders(headers(Json.field(route, "headers")))
        .setCorsPolicy(corsPolicy(Json.field(route, "corsPolicy")))
        .build();
  }

  /**
   * Istio's corsPolicy as the view carries it; maxAge in whole seconds, as Istio gives it to
   * Envoy's {@code max_age}.
   */
  private static CorsPolicy corsPolicy(JsonNode node) {
    if (node == null) {
      return null;
    }
    List<StringMatch> origins = new ArrayList<>();
    for (JsonNode origin : Json.items(node, "allowOrigins")) {
      origins.add(stringMatch(origin));
    }
    Long maxAge = Json.millis(node, "maxAge");
    JsonNode credentials = Json.field(node, "allowCredentials");
    String unmatched = Json.text(node, "unmatchedPreflights", "UNSPECIFIED");
    return CorsPolicy.newBuilder()
        .setAllowOrigins(origins)
        .setAllowMethods(Json.strings(node, "allowMethods"))
        .setAllowHeaders(Json.strings(node, "allowHeaders"))
        .setExposeHeaders(Json.strings(node, "exposeHeaders"))
        .setMaxAgeSeconds(maxAge == null ? null : maxAge / 1000)
        .setAllowCredentials(credentials == null ? null : credentials.asBoolean())
        .setUnmatchedPreflights(UnmatchedPreflights.valueOf(unmatched))
        .build();
  }

  /** An Istio HTTPMatchRequest (also used by RateLimit matches). */
  static HttpMatch httpMatch(JsonNode match, String namespace) {
    List<String> gateways = Json.strings(match, "gateways").stream()
        .map(g -> HostPatterns.gatewayRef(g, namespace)).toList();
    return HttpMatch.newBuilder()
        .setName(Json.text(match, "name", ""))
        .setUri(stringMatch(Json.field(match, "uri")))
        .setMethod(stringMatch(Json.field(match, "method")))
        .setAuthority(stringMatch(Json.field(match, "authority")))
        .setScheme(stringMatch(Json.field(match, "scheme")))
        .setHeaders(stringMatches(Json.field(match, "headers"), true))
        .setWithoutHeaders(stringMatches(Json.field(match, "withoutHeaders"), true))
        .setQueryParams(stringMatches(Json.field(match, "queryParams"), false))
        .setSourceLabels(Json.stringMap(match, "sourceLabels"))
        .setPort(Json.integer(match, "port"))
        .setIgnoreUriCase(Json.bool(match, "ignoreUriCase", false))
        .setGateways(gateways)
        .build();
  }

  private static Map<String, StringMatch> stringMatches(JsonNode node, boolean lowerCaseNames) {
    Map<String, StringMatch> out = new TreeMap<>();
    if (node != null) {
      node.fields().forEachRemaining(e -> out.put(
          lowerCaseNames ? e.getKey().toLowerCase(Locale.ROOT) : e.getKey(), stringMatch(e.getValue())));
    }
    return out;
  }

  private static StringMatch stringMatch(JsonNode node) {
    if (node == null) {
      return null;
    }
    for (MatchType type : List.of(MatchType.EXACT, MatchType.PREFIX, MatchType.REGEX)) {
      String value = Json.text(node, type.name().toLowerCase(Locale.ROOT));
      if (value != null) {
        return StringMatch.newBuilder().setType(type).setValue(value).build();
      }
    }
    // Istio's empty StringMatch ({} ) means "present": any value, prefix "" says the same.
    return StringMatch.newBuilder().setType(MatchType.PREFIX).setValue("").build();
  }

  private static List<RouteDestination> destinations(JsonNode route, String namespace) {
    List<JsonNode> written = Json.items(route, "route");
    List<RouteDestination> out = new ArrayList<>();
    for (JsonNode d : written) {
      Integer weight = Json.integer(d, "weight");
      out.add(RouteDestination.newBuilder()
          .setDestination(destination(Json.field(d, "destination"), namespace))
          .setWeight(weight != null ? weight : written.size() == 1 ? 100 : 0)
          .setHeaders(headers(Json.field(d, "headers")))
          .build());
    }
    return out;
  }

  private static Destination destination(JsonNode node, String namespace) {
    if (node == null) {
      return null;
    }
    return Destination.newBuilder()
        .setHost(Hosts.qualify(Json.text(node, "host", ""), namespace))
        .setSubset(Json.text(node, "subset"))
        .setPort(Json.integer(Json.field(node, "port"), "number"))
        .build();
  }

  private static Redirect redirect(JsonNode node) {
    if (node == null) {
      return null;
    }
    Integer code = Json.integer(node, "redirectCode");
    return Redirect.newBuilder()
        .setUri(Json.text(node, "uri"))
        .setAuthority(Json.text(node, "authority"))
        .setScheme(Json.text(node, "scheme"))
        .setPort(Json.integer(node, "port"))
        .setResponseCode(code == null ? 301 : code)
        .build();
  }

  private static DirectResponse directResponse(JsonNode node) {
    if (node == null) {
      return null;
    }
    JsonNode body = Json.field(node, "body");
    String text = Json.text(body, "string");
    String bytes = Json.text(body, "bytes");
    if (text == null && bytes != null) {
      text = new String(Base64.getDecoder().decode(bytes), StandardCharsets.UTF_8);
    }
    return DirectResponse.newBuilder()
        .setStatus(Json.required(Json.integer(node, "status"), "directResponse.status"))
        .setBody(text)
        .build();
  }

  private static Rewrite rewrite(JsonNode node) {
    if (node == null) {
      return null;
    }
    JsonNode regex = Json.field(node, "uriRegexRewrite");
    return Rewrite.newBuilder()
        .setUri(Json.text(node, "uri"))
        .setAuthority(Json.text(node, "authority"))
        .setUriRegex(Json.text(regex, "match"))
        .setUriRegexSubstitution(Json.text(regex, "rewrite"))
        .build();
  }

  private static RetryPolicy retries(JsonNode node) {
    if (node == null) {
      return null;
    }
    List<String> conditions = new ArrayList<>();
    List<Integer> codes = new ArrayList<>();
    String retryOn = Json.text(node, "retryOn");
    if (retryOn == null) {
      conditions.addAll(DEFAULT_RETRY_ON);
      codes.add(503);
    } else {
      for (String part : retryOn.split(",")) {
        String condition = part.trim();
        if (condition.isEmpty()) {
          continue;
        }
        if (condition.chars().allMatch(Character::isDigit)) {
          codes.add(Integer.parseInt(condition));
        } else if (!conditions.contains(condition)) {
          conditions.add(condition);
        }
      }
      // Envoy only looks at status codes when told to, as Istio does for you.
      if (!codes.isEmpty() && !conditions.contains(RETRIABLE_STATUS_CODES)) {
        conditions.add(RETRIABLE_STATUS_CODES);
      }
    }
    Integer attempts = Json.integer(node, "attempts");
    Long backoff = Json.millis(node, "backoff");
    return RetryPolicy.newBuilder()
        .setAttempts(attempts == null ? 0 : attempts)
        .setPerTryTimeoutMillis(Json.millis(node, "perTryTimeout"))
        .setRetryOn(conditions)
        .setRetriableStatusCodes(codes)
        .setRetryRemoteLocalities(Json.bool(node, "retryRemoteLocalities", false))
        .setRetryIgnorePreviousHosts(Json.bool(node, "retryIgnorePreviousHosts", true))
        // Istio's backoff is Envoy's base interval; Envoy caps one backoff at 10 times it.
        .setBackoffBaseMillis(backoff == null ? DEFAULT_BACKOFF_MILLIS : backoff)
        .setBackoffMaxMillis(10 * (backoff == null ? DEFAULT_BACKOFF_MILLIS : backoff))
        .build();
  }

  private static FaultInjection fault(JsonNode node) {
    if (node == null) {
      return null;
    }
    JsonNode delay = Json.field(node, "delay");
    JsonNode abort = Json.field(node, "abort");
    return FaultInjection.newBuilder()
        .setDelay(delay == null ? null : DelayFault.newBuilder()
            .setFixedDelayMillis(Json.required(Json.millis(delay, "fixedDelay"), "fault.delay.fixedDelay"))
            .setPercentage(percentage(delay, "percentage", "percent"))
            .build())
        .setAbort(abort == null ? null : abort(abort))
        .build();
  }

  /** An abort with an HTTP status, or with a gRPC status (its code; httpStatus 0 then). */
  private static AbortFault abort(JsonNode abort) {
    String grpc = Json.text(abort, "grpcStatus");
    AbortFault.Builder b = AbortFault.newBuilder().setPercentage(percentage(abort, "percentage", "percent"));
    if (grpc != null) {
      int code = java.util.Arrays.asList(GRPC_STATUS_NAMES).indexOf(grpc);
      return b.setHttpStatus(0).setGrpcStatus(Json.required(code < 0 ? null : code,
          "fault.abort.grpcStatus")).build();
    }
    return b.setHttpStatus(Json.required(Json.integer(abort, "httpStatus"), "fault.abort.httpStatus"))
        .build();
  }

  /** {@code field: {value: 12.5}}, or Istio's older integer {@code legacyField}; 100 when neither. */
  private static double percentage(JsonNode node, String field, String legacyField) {
    JsonNode value = Json.field(Json.field(node, field), "value");
    if (value != null) {
      return value.asDouble();
    }
    Integer legacy = Json.integer(node, legacyField);
    return legacy == null ? 100.0 : legacy;
  }

  private static Headers headers(JsonNode node) {
    if (node == null) {
      return null;
    }
    return Headers.newBuilder()
        .setRequest(headerOperations(Json.field(node, "request")))
        .setResponse(headerOperations(Json.field(node, "response")))
        .build();
  }

  private static HeaderOperations headerOperations(JsonNode node) {
    return HeaderOperations.newBuilder()
        .setSet(Json.stringMap(node, "set"))
        .setAdd(Json.stringMap(node, "add"))
        .setRemove(Json.strings(node, "remove"))
        .build();
  }
}
