package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.bool;
import static dev.meshlog.config.resource.Shapes.labels;
import static dev.meshlog.config.resource.Shapes.namespacedHost;
import static dev.meshlog.config.resource.Shapes.nonEmptyList;
import static dev.meshlog.config.resource.Shapes.nonEmptyString;
import static dev.meshlog.config.resource.Shapes.oneOf;
import static dev.meshlog.config.resource.Shapes.port;
import static dev.meshlog.config.resource.Shapes.string;

import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The fields of a Gateway ({@code networking.istio.io}) that Meshlog supports, and those of Istio's
 * API it rejects.
 */
final class GatewaySchema {

  static final Shape SPEC = object()
      .field("selector", labels())
      .required("servers", nonEmptyList(object()
          .required("port", object()
              .required("number", port())
              // TLS servers pass TLS through by SNI (tls.mode PASSTHROUGH), which Meshlog does not support.
              .required("protocol", oneOf("HTTP", "HTTP2", "GRPC", "TCP", "HTTPS").notSupported("TLS", "MONGO"))
              .required("name", nonEmptyString())
              .notSupported("targetPort")
              .build())
          .required("hosts", nonEmptyList(namespacedHost(false)))
          .field("name", string())
          .field("tls", object()
              .field("mode", oneOf("SIMPLE", "MUTUAL")
                  .notSupported("PASSTHROUGH", "ISTIO_MUTUAL", "AUTO_PASSTHROUGH", "OPTIONAL_MUTUAL"))
              .field("httpsRedirect", bool())
              .field("serverCertificate", nonEmptyString())
              .field("privateKey", nonEmptyString())
              .field("caCertificates", nonEmptyString())
              .notSupported("credentialName", "credentialNames", "subjectAltNames",
                  "verifyCertificateSpki", "verifyCertificateHash", "minProtocolVersion",
                  "maxProtocolVersion", "cipherSuites", "caCrl", "tlsCertificates")
              .rule(GatewaySchema::filesOfMode)
              .build())
          .notSupported("bind", "defaultEndpoint")
          .rule(GatewaySchema::tlsOnlyWithHttps)
          .build()))
      .build();

  /** Istio's other ways to give a server its certificates, which Meshlog does not support. */
  private static final List<String> CREDENTIALS = List.of("credentialName", "credentialNames",
      "tlsCertificates");

  /** SIMPLE needs a certificate and its key; MUTUAL also the CAs client certificates chain to. */
  private static void filesOfMode(ObjectNode tls, String path, Problems problems) {
    String mode = tls.path("mode").asText("");
    if (!mode.equals("SIMPLE") && !mode.equals("MUTUAL")) {
      return;
    }
    if (CREDENTIALS.stream().anyMatch(tls::has)) {
      return; // its own "not supported" says it: the files are what Meshlog takes instead
    }
    List<String> needed = mode.equals("MUTUAL")
        ? List.of("serverCertificate", "privateKey", "caCertificates")
        : List.of("serverCertificate", "privateKey");
    for (String field : needed) {
      if (!tls.has(field)) {
        problems.add(Problems.field(path, field), null, "required (a file path on the gateway) when mode is " + mode);
      }
    }
  }

  /**
   * An HTTPS server is terminated with its {@code tls}, which needs a mode; an HTTP, HTTP2 or
   * GRPC server may have a {@code tls} with {@code httpsRedirect} alone (Istio: "only tls redirect
   * is allowed if this is a HTTP server"); a TCP server takes none.
   */
  private static void tlsOnlyWithHttps(ObjectNode server, String path, Problems problems) {
    String protocol = server.path("port").path("protocol").asText("").toUpperCase(Locale.ROOT);
    boolean https = protocol.equals("HTTPS");
    JsonNode tls = server.get("tls");
    if (https && tls == null) {
      problems.add(Problems.field(path, "tls"), null, "required for an HTTPS server (expected: mode SIMPLE or MUTUAL with its files)");
    } else if (https && tls.isObject() && !tls.has("mode") && CREDENTIALS.stream().noneMatch(tls::has)) {
      problems.add(Problems.field(Problems.field(path, "tls"), "mode"), null,
          "required for an HTTPS server (expected: SIMPLE or MUTUAL)");
    } else if (!https && !protocol.equals("TLS") && tls != null && !protocol.isEmpty()) {
      boolean redirectOnly = tls.isObject() && tls.has("httpsRedirect") && tls.size() == 1;
      if (PLAIN_HTTP.contains(protocol) && !redirectOnly && tls.has("httpsRedirect")) {
        problems.add(Problems.field(path, "tls"), Problems.text(tls), "only httpsRedirect on an "
            + protocol + " server (mode and certificates are for HTTPS servers)");
      } else if (!redirectOnly || !PLAIN_HTTP.contains(protocol)) {
        problems.add(Problems.field(path, "tls"), Problems.text(tls),
            "only for HTTPS servers (port.protocol is " + protocol + ")"
                + (tls.has("httpsRedirect") ? "; httpsRedirect only on HTTP servers" : ""));
      }
    }
  }

  /** The protocols of servers that carry plain HTTP, which may redirect to HTTPS. */
  private static final List<String> PLAIN_HTTP = List.of("HTTP", "HTTP2", "GRPC");

  private GatewaySchema() {}
}
