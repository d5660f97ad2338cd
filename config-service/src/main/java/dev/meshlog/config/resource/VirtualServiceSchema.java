package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.exportToEveryNamespace;
import static dev.meshlog.config.resource.Shapes.atLeast;
import static dev.meshlog.config.resource.Shapes.bool;
import static dev.meshlog.config.resource.Shapes.commaSeparated;
import static dev.meshlog.config.resource.Shapes.duration;
import static dev.meshlog.config.resource.Shapes.integer;
import static dev.meshlog.config.resource.Shapes.labels;
import static dev.meshlog.config.resource.Shapes.list;
import static dev.meshlog.config.resource.Shapes.mapOf;
import static dev.meshlog.config.resource.Shapes.nonEmptyList;
import static dev.meshlog.config.resource.Shapes.number;
import static dev.meshlog.config.resource.Shapes.oneOf;
import static dev.meshlog.config.resource.Shapes.port;
import static dev.meshlog.config.resource.Shapes.regex;
import static dev.meshlog.config.resource.Shapes.serviceHost;
import static dev.meshlog.config.resource.Shapes.string;
import static dev.meshlog.config.resource.Shapes.text;
import static dev.meshlog.config.resource.Shapes.wildcardHost;

import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.meshlog.config.model.Durations;

/**
 * The fields of a VirtualService ({@code networking.istio.io}) that Meshlog supports, and those of
 * Istio's API it rejects.
 */
final class VirtualServiceSchema {

  // Before SPEC, which uses them as it is built.
  /** gRPC's status names, in code order (0..16), as Istio takes them in fault.abort.grpcStatus. */
  private static final String[] GRPC_STATUS_NAMES = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  /** The methods Istio accepts in a corsPolicy's allowMethods ({@code *}: any, echoed). */
  private static final String[] CORS_METHODS =
      {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*"};
  /** An HTTP token (RFC 9110's tchar), the header names Istio's CORS validation takes. */
  private static final java.util.regex.Pattern CORS_HEADER_NAME =
      java.util.regex.Pattern.compile("[!#$%&'*+\\-.^_`|~A-Za-z0-9]+");

  static final Shape SPEC = object()
      .field("hosts", nonEmptyList(wildcardHost()))
      .rule((spec, path, problems) -> {
        if (!ObjectShape.isSet(spec, "hosts")) {
          problems.add(Problems.field(path, "hosts"), null, "required (Istio leaves hosts out only"
              + " in a delegate VirtualService, and Meshlog does not support delegation)");
        }
      })
      .field("gateways", list(string()))
      .field("http", list(httpRoute()))
      .field("tcp", list(tcpRoute()))
      .field("tls", list(tlsRoute()))
      .field("exportTo", exportToEveryNamespace())
      .atLeastOne("http", "tcp", "tls")
      .rule(VirtualServiceSchema::sniHostsOfItsHosts)
      .rule(VirtualServiceSchema::tlsRoutesOnGatewaysOnly)
      .build();

  private static final List<String> RETRY_ON = List.of("5xx", "gateway-error", "connect-failure", "reset",
      "retriable-4xx", "refused-stream", "retriable-status-codes");
  /** Envoy retry conditions Istio passes through that Meshlog's proxy does not implement. */
  private static final Set<String> RETRY_ON_NOT_SUPPORTED = Set.of("envoy-ratelimited", "retriable-headers",
      "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
      "http3-post-connect-failure", "reset-before-request");

  private VirtualServiceSchema() {}

  private static Shape httpRoute() {
    return object()
        .field("name", string())
        .field("match", list(httpMatch()))
        .field("route", nonEmptyList(httpRouteDestination()))
        .field("redirect", redirect())
        .field("directResponse", directResponse())
        .field("rewrite", rewrite())
        .field("timeout", duration())
        .field("retries", retries())
        .field("fault", fault())
        .field("mirror", destination())
        .field("mirrorPercentage", percent())
        .field("headers", headers())
        .field("corsPolicy", corsPolicy())
        .notSupported("mirrors")
        .notSupportedInPlaceOf("delegate", "not supported (write the delegate's routes here)",
            "route", "redirect", "directResponse")
        .notSupportedUseInstead("mirrorPercent", "mirrorPercentage")
        .notSupportedUseInstead("mirror_percent", "mirrorPercentage")
        .exactlyOne("route", "redirect", "directResponse")
        .notWith("rewrite", "redirect")
        .rule(VirtualServiceSchema::weightsSumTo100)
        .build();
  }

  /** HTTPMatchRequest; RateLimit matches requests the same way. */
  static Shape httpMatch() {
    return object()
        .field("name", string())
        .field("uri", stringMatch())
        .field("scheme", stringMatch())
        .field("method", stringMatch())
        .field("authority", stringMatch())
        .field("headers", mapOf(stringMatch()))
        .field("withoutHeaders", mapOf(stringMatch()))
        .field("queryParams", mapOf(stringMatch()))
        .field("sourceLabels", labels())
        .field("port", port())
        .field("gateways", list(string()))
        .field("ignoreUriCase", bool())
        .notSupported("sourceNamespace", "statPrefix")
        .build();
  }

  private static Shape stringMatch() {
    return object()
        .field("exact", string())
        .field("prefix", string())
        .field("regex", regex())
        .exactlyOne("exact", "prefix", "regex")
        .build();
  }

  private static Shape httpRouteDestination() {
    return object()
        .required("destination", destination())
        .field("weight", integer(0, 100))
        .field("headers", headers())
        .build();
  }

  private static Shape destination() {
    return object()
        .required("host", serviceHost())
        .field("subset", string())
        .field("port", object().field("number", port()).build())
        .build();
  }

  private static Shape headers() {
    Shape operations = object()
        .field("set", mapOf(string()))
        .field("add", mapOf(string()))
        .field("remove", list(string()))
        .build();
    return object().field("request", operations).field("response", operations).build();
  }

  /**
   * Istio's CorsPolicy, validated as Istio does: origins as StringMatches, methods among the
   * HTTP methods Istio lists (or {@code *}), header names that are HTTP tokens (or {@code *}), and
   * maxAge in whole seconds. The deprecated {@code allowOrigin} list has been ignored by Istio
   * since 1.6, so it is refused here rather than accepted and ignored.
   */
  private static Shape corsPolicy() {
    Shape headerName = text("a header name: letters, digits and !#$%&'*+-.^_`|~, or *",
        name -> name.equals("*") || CORS_HEADER_NAME.matcher(name).matches());
    return object()
        .field("allowOrigins", list(stringMatch()))
        .field("allowMethods", list(oneOf(CORS_METHODS)))
        .field("allowHeaders", list(headerName))
        .field("exposeHeaders", list(headerName))
        .field("maxAge", text("a duration of whole seconds, at least 1s, such as 24h or 600s",
            VirtualServiceSchema::isWholeSeconds))
        .field("allowCredentials", bool())
        .field("unmatchedPreflights", oneOf("UNSPECIFIED", "FORWARD", "IGNORE"))
        .notSupportedInPlaceOf("allowOrigin", "not supported (use allowOrigins, a list of "
            + "StringMatch such as - exact: https://example.com; Istio ignores allowOrigin since 1.6)",
            "allowOrigins")
        .build();
  }

  private static boolean isWholeMillis(String text) {
    try {
      java.time.Duration d = Durations.parse(text);
      return d.getNano() % 1_000_000 == 0 && d.toMillis() >= 1;
    } catch (IllegalArgumentException | ArithmeticException e) {
      return false;
    }
  }

  private static boolean isWholeSeconds(String text) {
    try {
      java.time.Duration d = Durations.parse(text);
      return d.getNano() == 0 && d.getSeconds() >= 1;
    } catch (IllegalArgumentException | ArithmeticException e) {
      return false;
    }
  }

  private static Shape redirect() {
    return object()
        .field("uri", string())
        .field("authority", string())
        .field("port", port())
        .field("scheme", string())
        .field("redirectCode", Shapes.oneOfNumbers(301, 302, 303, 307, 308))
        .notSupported("prefixRewrite")
        .notSupportedInPlaceOf("derivePort", "not supported (set port)", "port")
        .atLeastOne("uri", "authority", "port", "scheme")
        .build();
  }

  private static Shape directResponse() {
    return object()
        .required("status", integer(200, 599))
        .field("body", object().field("string", string()).notSupported("bytes").build())
        .build();
  }

  private static Shape rewrite() {
    return object()
        .field("uri", string())
        .field("authority", string())
        .field("uriRegexRewrite", object()
            .required("match", regex())
            .required("rewrite", string())
            .build())
        .atMostOne("uri", "uriRegexRewrite")
        .build();
  }

  private static Shape retries() {
    return object()
        .field("attempts", atLeast(0))
        .field("perTryTimeout", duration())
        .field("retryOn", commaSeparated(VirtualServiceSchema::checkRetryOn))
        .field("retryRemoteLocalities", bool())
        .field("retryIgnorePreviousHosts", bool())
        .field("backoff", text("a duration of at least 1ms in whole milliseconds, such as 25ms or 1s",
            VirtualServiceSchema::isWholeMillis))
        .build();
  }

  private static Shape fault() {
    return object()
        .field("delay", object()
            .required("fixedDelay", duration())
            .field("percentage", percent())
            .notSupportedInPlaceOf("exponentialDelay", "not supported (use fixedDelay)", "fixedDelay")
            .notSupportedUseInstead("percent", "percentage")
            .build())
        .field("abort", object()
            .field("httpStatus", integer(200, 599))
            .field("grpcStatus", oneOf(GRPC_STATUS_NAMES))
            .field("percentage", percent())
            .notSupportedInPlaceOf("http2Error", "not supported (use httpStatus or grpcStatus)",
                "httpStatus", "grpcStatus")
            .exactlyOne("httpStatus", "grpcStatus")
            .build())
        .atLeastOne("delay", "abort")
        .build();
  }

  private static Shape percent() {
    return object().field("value", number(0, 100)).build();
  }

  private static Shape tcpRoute() {
    return object()
        .field("match", list(object()
            .field("port", port())
            .field("sourceLabels", labels())
            .field("gateways", list(string()))
            .notSupported("destinationSubnets", "sourceNamespace", "sourceSubnet")
            .build()))
        .field("route", nonEmptyList(object()
            .required("destination", destination())
            .field("weight", integer(0, 100))
            .build()))
        .rule(VirtualServiceSchema::weightsSumTo100)
        .build();
  }

  /**
   * TLSRoute: routed by the SNI of the connection's ClientHello, without terminating TLS. Every
   * match needs sniHosts (Istio: "TLS match must have at least one SNI host").
   */
  private static Shape tlsRoute() {
    return object()
        .required("match", nonEmptyList(object()
            .required("sniHosts", nonEmptyList(wildcardHost()))
            .field("port", port())
            .field("gateways", list(string()))
            .notSupported("destinationSubnets", "sourceLabels", "sourceNamespace")
            .build()))
        .required("route", nonEmptyList(object()
            .required("destination", destination())
            .field("weight", integer(0, 100))
            .build()))
        .rule(VirtualServiceSchema::weightsSumTo100)
        .build();
  }

  /**
   * Istio's rule: each SNI host is a subset of one of the VirtualService's hosts
   * ({@code login.bookinfo.com} of {@code *.bookinfo.com}, {@code *.bookinfo.com} of itself).
   */
  private static void sniHostsOfItsHosts(ObjectNode spec, String path, Problems problems) {
    JsonNode hosts = spec.path("hosts");
    if (!hosts.isArray() || hosts.isEmpty()) {
      return; // reported as hosts
    }
    List<String> patterns = new java.util.ArrayList<>();
    hosts.forEach(h -> patterns.add(h.asText("")));
    JsonNode tls = spec.path("tls");
    for (int i = 0; i < tls.size(); i++) {
      JsonNode matches = tls.path(i).path("match");
      for (int j = 0; j < matches.size(); j++) {
        JsonNode sni = matches.path(j).path("sniHosts");
        for (int k = 0; k < sni.size(); k++) {
          String host = sni.path(k).asText("");
          if (!sni.path(k).isTextual() || host.isEmpty()
              || patterns.stream().anyMatch(p -> subsetOf(host, p))) {
            continue;
          }
          problems.add(path + ".tls[" + i + "].match[" + j + "].sniHosts[" + k + "]", host,
              host + " (expected: a subset of one of the VirtualService's hosts, "
                  + String.join(", ", patterns) + ", as Istio requires)");
        }
      }
    }
  }

  /** Whether every name {@code host} matches is one {@code pattern} matches (Istio's SubsetOf). */
  static boolean subsetOf(String host, String pattern) {
    if (pattern.equals("*")) {
      return true;
    }
    if (pattern.startsWith("*")) {
      return host.endsWith(pattern.substring(1));
    }
    return !host.startsWith("*") && host.equals(pattern);
  }

  /**
   * A tls route applies only where a gateway passes TLS through by SNI; sidecars (the gateway
   * {@code mesh}, which a VirtualService without gateways is bound to) do not yet: one error per
   * tls route whose matches reach the mesh.
   */
  private static void tlsRoutesOnGatewaysOnly(ObjectNode spec, String path, Problems problems) {
    JsonNode tls = spec.path("tls");
    List<String> gateways = new java.util.ArrayList<>();
    spec.path("gateways").forEach(g -> gateways.add(g.asText("")));
    for (int i = 0; i < tls.size(); i++) {
      JsonNode matches = tls.path(i).path("match");
      for (int j = 0; j < matches.size(); j++) {
        JsonNode own = matches.path(j).path("gateways");
        List<String> bound = new java.util.ArrayList<>();
        own.forEach(g -> bound.add(g.asText("")));
        String at = path + ".tls[" + i + "].match[" + j + "]";
        if (bound.isEmpty()) {
          bound.addAll(gateways);
          at = path + ".gateways";
        }
        if (bound.isEmpty() || bound.contains("mesh")) {
          problems.add(path + ".tls[" + i + "]", null, "applies to sidecars (" + at
              + (bound.isEmpty() ? " not set: the mesh" : " names mesh") + "); tls routes apply"
              + " only to gateways yet (expected: gateways naming a Gateway, in spec.gateways or"
              + " the match's)");
          break;
        }
      }
    }
  }

  private static void checkRetryOn(JsonNode value, String path, Problems problems) {
    String condition = value.textValue();
    if (RETRY_ON.contains(condition) || condition.matches("[1-5]\\d\\d")) {
      return;
    }
    String expected = "(expected: " + String.join(", ", RETRY_ON) + " or an HTTP status code)";
    String found = condition.isEmpty() ? "\"\"" : condition;
    problems.add(path, found,
        found + (RETRY_ON_NOT_SUPPORTED.contains(condition) ? " not supported " : " ") + expected);
  }

  /**
   * Istio's rule: with more than one destination the weights must add up to 100 (a missing weight
   * counts as 0); a single destination may leave its weight out. Weights that are themselves
   * invalid have been reported already, so the sum is not checked then.
   */
  private static void weightsSumTo100(ObjectNode route, String path, Problems problems) {
    JsonNode destinations = route.get("route");
    if (destinations == null || !destinations.isArray() || destinations.size() < 2) {
      return;
    }
    int sum = 0;
    for (JsonNode destination : destinations) {
      JsonNode weight = destination.path("weight");
      if (weight.isMissingNode() || weight.isNull()) {
        continue;
      }
      if (!weight.isIntegralNumber() || weight.longValue() < 0 || weight.longValue() > 100) {
        return;
      }
      sum += weight.intValue();
    }
    if (sum != 100) {
      problems.add(Problems.field(path, "route"), String.valueOf(sum),
          "weights add up to " + sum + " (expected: 100)");
    }
  }
}
