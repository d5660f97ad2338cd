package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.ipOrCidr;
import static dev.meshlog.config.resource.Shapes.labels;
import static dev.meshlog.config.resource.Shapes.list;
import static dev.meshlog.config.resource.Shapes.nonEmptyString;
import static dev.meshlog.config.resource.Shapes.oneOf;
import static dev.meshlog.config.resource.Shapes.portString;
import static dev.meshlog.config.resource.Shapes.string;

/**
 * The fields of an AuthorizationPolicy ({@code security.istio.io}) that Meshlog supports, and those
 * of Istio's API it rejects. A missing {@code action} means ALLOW.
 */
final class AuthorizationPolicySchema {

  static final Shape SPEC = object()
      .field("selector", object().field("matchLabels", labels()).build())
      .field("action", oneOf("ALLOW", "DENY", "AUDIT").notSupported("CUSTOM"))
      .field("rules", list(object()
          .field("from", list(object().required("source", source()).build()))
          .field("to", list(object().required("operation", operation()).build()))
          .field("when", list(object()
              .required("key", nonEmptyString())
              .field("values", list(string()))
              .field("notValues", list(string()))
              .build()))
          .build()))
      .notSupported("provider", "targetRef", "targetRefs")
      .build();

  private AuthorizationPolicySchema() {}

  private static Shape source() {
    return object()
        .field("principals", list(string()))
        .field("notPrincipals", list(string()))
        .field("requestPrincipals", list(string()))
        .field("notRequestPrincipals", list(string()))
        .field("namespaces", list(string()))
        .field("notNamespaces", list(string()))
        .field("ipBlocks", list(ipOrCidr()))
        .field("notIpBlocks", list(ipOrCidr()))
        .notSupported("remoteIpBlocks", "notRemoteIpBlocks", "serviceAccounts", "notServiceAccounts",
            "trustDomains", "notTrustDomains")
        .build();
  }

  private static Shape operation() {
    return object()
        .field("hosts", list(string()))
        .field("notHosts", list(string()))
        .field("ports", list(portString()))
        .field("notPorts", list(portString()))
        .field("methods", list(string()))
        .field("notMethods", list(string()))
        .field("paths", list(string()))
        .field("notPaths", list(string()))
        .build();
  }
}
