package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.labels;
import static dev.meshlog.config.resource.Shapes.namespacedHost;
import static dev.meshlog.config.resource.Shapes.nonEmptyList;
import static dev.meshlog.config.resource.Shapes.nonEmptyString;
import static dev.meshlog.config.resource.Shapes.oneOf;
import static dev.meshlog.config.resource.Shapes.port;
import static dev.meshlog.config.resource.Shapes.string;

import java.util.List;
import java.util.Locale;

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
              .required("mode", oneOf("SIMPLE", "MUTUAL")
                  .notSupported("PASSTHROUGH", "ISTIO_MUTUAL", "AUTO_PASSTHROUGH", "OPTIONAL_MUTUAL"))
              .field("serverCertificate", nonEmptyString())
              .field("privateKey", nonEmptyString())
              .field("caCertificates", nonEmptyString())
              .notSupportedInPlaceOf("httpsRedirect", "not supported (a VirtualService bound to the"
                  + " gateway redirects: redirect: {scheme: https})", "mode")
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

  /** An HTTPS server is terminated with its {@code tls}; HTTP, HTTP2, GRPC and TCP ones take none. */
  private static void tlsOnlyWithHttps(ObjectNode server, String path, Problems problems) {
    String protocol = server.path("port").path("protocol").asText("").toUpperCase(Locale.ROOT);
    boolean https = protocol.equals("HTTPS");
    if (https && !server.has("tls")) {
      problems.add(Problems.field(path, "tls"), null, "required for an HTTPS server (expected: mode SIMPLE or MUTUAL with its files)");
    } else if (!https && !protocol.equals("TLS") && server.has("tls") && !protocol.isEmpty()
        && !server.get("tls").has("httpsRedirect")) { // HTTP's own tls field, reported as such
      problems.add(Problems.field(path, "tls"), Problems.text(server.get("tls")),
          "only for HTTPS servers (port.protocol is " + protocol + ")");
    }
  }

  private GatewaySchema() {}
}
