package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.labels;
import static dev.meshlog.config.resource.Shapes.list;
import static dev.meshlog.config.resource.Shapes.namespacedHost;
import static dev.meshlog.config.resource.Shapes.nonEmptyList;
import static dev.meshlog.config.resource.Shapes.oneOf;

/**
 * The fields of a Sidecar ({@code networking.istio.io}) that Meshlog supports, and those of Istio's
 * API it rejects.
 */
final class SidecarSchema {

  static final Shape SPEC = object()
      .field("workloadSelector", object().field("labels", labels()).build())
      .field("egress", list(object()
          .required("hosts", nonEmptyList(namespacedHost(true)))
          .notSupported("port", "bind", "captureMode")
          .build()))
      .field("outboundTrafficPolicy", object()
          .field("mode", oneOf("REGISTRY_ONLY", "ALLOW_ANY"))
          .notSupported("egressProxy")
          .build())
      .notSupported("ingress", "inboundConnectionPool")
      .build();

  private SidecarSchema() {}
}
