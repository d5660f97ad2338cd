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
              .required("protocol", oneOf("HTTP", "HTTP2", "GRPC", "TCP", "HTTPS", "TLS").notSupported("MONGO"))
              .required("name", nonEmptyString())
              .notSupported("targetPort")
              .build())
          .required("hosts", nonEmptyList(namespacedHost(false)))
          .field("name", string())
          .field("tls", object()
              .field("mode", oneOf("SIMPLE", "MUTUAL", "PASSTHROUGH")
                  .notSupported("ISTIO_MUTUAL", "AUTO_PASSTHROUGH", "OPTIONAL_MUTUAL"))
              .field("httpsRedirect", bool())
              .field("serverCertificate", nonEmptyString())
              .field("privateKey", nonEmptyString())
              .field("caCertificates", nonEmptyString())
              .notSupported("credentialName", "credentialNames", "subjectAltNames",
                  "verifyCertificateSpki", "verifyCertificateHash", "minProtocolVersion",
                  "maxProtocolVersion", "cipherSuites", "caCrl", "tlsCertificates")
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
    if (!protocol.equals("TLS") && tls instanceof ObjectNode object) {
      filesOfMode(object, Problems.field(path, "tls"), problems);
    }
    if (protocol.equals("TLS")) {
      passthroughOnly(tls, path, problems);
    } else if (https && tls == null) {
      problems.add(Problems.field(path, "tls"), null, "required for an HTTPS server (expected: mode SIMPLE or MUTUAL with its files)");
    } else if (https && tls.isObject() && !tls.has("mode") && CREDENTIALS.stream().noneMatch(tls::has)) {
      problems.add(Problems.field(Problems.field(path, "tls"), "mode"), null,
          "required for an HTTPS server (expected: SIMPLE or MUTUAL)");
    } else if (https && tls.path("mode").asText("").equals("PASSTHROUGH")) {
      problems.add(Problems.field(Problems.field(path, "tls"), "mode"), "PASSTHROUGH",
          "PASSTHROUGH on an HTTPS server (expected: SIMPLE or MUTUAL; a server that passes TLS"
              + " through by SNI has protocol: TLS)");
    } else if (!https && tls != null && !protocol.isEmpty()) {
      // Istio's PASSTHROUGH, its default mode, is "no TLS" on an HTTP server
      boolean redirectOnly = tls.isObject() && tls.has("httpsRedirect")
          && tls.size() == (tls.path("mode").asText("").equals("PASSTHROUGH") ? 2 : 1);
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

  /**
   * A TLS server passes TLS through by SNI to the destinations of its VirtualServices' tls
   * routes: its {@code tls} is required (Istio: "server must have TLS settings for HTTPS/TLS
   * protocols"), its mode PASSTHROUGH (Istio's default when left out), with no files to
   * terminate with. Terminating a TLS server (SIMPLE, MUTUAL) is not supported yet.
   */
  private static void passthroughOnly(JsonNode tls, String path, Problems problems) {
    String at = Problems.field(path, "tls");
    if (tls == null) {
      problems.add(at, null, "required for a TLS server (expected: mode PASSTHROUGH)");
      return;
    }
    String mode = tls.path("mode").asText("PASSTHROUGH");
    if (mode.equals("SIMPLE") || mode.equals("MUTUAL")) {
      problems.add(Problems.field(at, "mode"), mode, mode + " on a TLS server not supported yet"
          + " (expected: PASSTHROUGH; terminate TLS with protocol: HTTPS)");
      return;
    }
    for (String file : List.of("serverCertificate", "privateKey", "caCertificates")) {
      if (tls.has(file)) {
        problems.add(Problems.field(at, file), null, "not used by a PASSTHROUGH server (the"
            + " destination terminates TLS with its own certificate)");
      }
    }
  }

  /** The protocols of servers that carry plain HTTP, which may redirect to HTTPS. */
  private static final List<String> PLAIN_HTTP = List.of("HTTP", "HTTP2", "GRPC");

  private GatewaySchema() {}
}
