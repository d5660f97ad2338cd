package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.labels;
import static dev.meshlog.config.resource.Shapes.namespacedHost;
import static dev.meshlog.config.resource.Shapes.nonEmptyList;
import static dev.meshlog.config.resource.Shapes.nonEmptyString;
import static dev.meshlog.config.resource.Shapes.oneOf;
import static dev.meshlog.config.resource.Shapes.port;
import static dev.meshlog.config.resource.Shapes.string;

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
              // HTTPS and TLS servers need servers[].tls, which Meshlog does not support.
              .required("protocol", oneOf("HTTP", "HTTP2", "GRPC", "TCP").notSupported("HTTPS", "TLS", "MONGO"))
              .required("name", nonEmptyString())
              .notSupported("targetPort")
              .build())
          .required("hosts", nonEmptyList(namespacedHost(false)))
          .field("name", string())
          .notSupported("tls", "bind", "defaultEndpoint")
          .build()))
      .build();

  private GatewaySchema() {}
}
