package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.bool;
import static dev.meshlog.config.resource.Shapes.httpUrl;
import static dev.meshlog.config.resource.Shapes.labels;
import static dev.meshlog.config.resource.Shapes.list;
import static dev.meshlog.config.resource.Shapes.nonEmptyString;
import static dev.meshlog.config.resource.Shapes.string;

/**
 * The fields of a RequestAuthentication ({@code security.istio.io}) that Meshlog supports, and those
 * of Istio's API it rejects.
 */
final class RequestAuthenticationSchema {

  static final Shape SPEC = object()
      .field("selector", object().field("matchLabels", labels()).build())
      .field("jwtRules", list(object()
          .required("issuer", nonEmptyString())
          .field("audiences", list(string()))
          .field("jwksUri", httpUrl())
          .field("jwks", nonEmptyString())
          .field("fromHeaders", list(object()
              .required("name", nonEmptyString())
              .field("prefix", string())
              .build()))
          .field("fromParams", list(nonEmptyString()))
          .field("forwardOriginalToken", bool())
          .notSupported("outputPayloadToHeader", "outputClaimToHeaders", "timeout", "fromCookies",
              "spaceDelimitedClaims")
          .notSupportedUseInstead("jwks_uri", "jwksUri")
          .atMostOne("jwksUri", "jwks")
          .build()))
      .notSupported("targetRef", "targetRefs")
      .build();

  private RequestAuthenticationSchema() {}
}
