package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.atLeast;
import static dev.meshlog.config.resource.Shapes.bool;
import static dev.meshlog.config.resource.Shapes.list;
import static dev.meshlog.config.resource.Shapes.oneOf;
import static dev.meshlog.config.resource.Shapes.serviceHost;

/**
 * The fields of a RateLimit ({@code policy.meshlog.dev}), Meshlog's own kind: a global quota of
 * {@code requestsPerUnit} per {@code unit} on the service {@code host}, optionally only for the
 * requests {@code match} selects, and only observed (not enforced) when {@code shadow} is true.
 */
final class RateLimitSchema {

  static final Shape SPEC = object()
      .required("host", serviceHost())
      .required("requestsPerUnit", atLeast(1))
      .required("unit", oneOf("SECOND", "MINUTE", "HOUR", "DAY"))
      .field("burst", atLeast(0))
      .field("match", list(VirtualServiceSchema.httpMatch()))
      .field("shadow", bool())
      .build();

  private RateLimitSchema() {}
}
