package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.labels;
import static dev.meshlog.config.resource.Shapes.mapOf;
import static dev.meshlog.config.resource.Shapes.oneOf;
import static dev.meshlog.config.resource.Shapes.portKey;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The fields of a PeerAuthentication ({@code security.istio.io}) that Meshlog supports; it supports
 * all of Istio's.
 */
final class PeerAuthenticationSchema {

  private static final Shape MTLS = object()
      .field("mode", oneOf("UNSET", "DISABLE", "PERMISSIVE", "STRICT"))
      .build();

  static final Shape SPEC = object()
      .field("selector", object().field("matchLabels", labels()).build())
      .field("mtls", MTLS)
      .field("portLevelMtls", mapOf(portKey(), MTLS))
      .rule(PeerAuthenticationSchema::portLevelMtlsNeedsSelector)
      .build();

  private PeerAuthenticationSchema() {}

  /** Istio's rule: port numbers only mean something for the workloads a selector picks. */
  private static void portLevelMtlsNeedsSelector(ObjectNode spec, String path, Problems problems) {
    boolean hasPortLevel = spec.path("portLevelMtls").isObject() && !spec.path("portLevelMtls").isEmpty();
    boolean hasSelector = spec.path("selector").path("matchLabels").isObject()
        && !spec.path("selector").path("matchLabels").isEmpty();
    if (hasPortLevel && !hasSelector) {
      problems.add(Problems.field(path, "portLevelMtls"), null,
          "not allowed without selector.matchLabels (expected: a selector naming the workloads whose ports these are)");
    }
  }
}
