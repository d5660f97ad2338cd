package dev.meshlog.telemetry.query;

import java.util.function.Predicate;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.telemetry.Edge;

/**
 * Which edges a query wants, by service ({@code namespace/service}); a null part matches all.
 *
 * @param source the caller
 * @param destination the callee
 * @param service either end
 */
public record EdgeFilter(String source, String destination, String service) implements Predicate<EdgeMetrics> {

  /** Every edge. */
  public static final EdgeFilter ALL = new EdgeFilter(null, null, null);

  @Override
  public boolean test(EdgeMetrics m) {
    Edge edge = Edge.of(m);
    String src = edge.source().serviceId();
    String dst = edge.destination().serviceId();
    return (source == null || source.equals(src))
        && (destination == null || destination.equals(dst))
        && (service == null || service.equals(src) || service.equals(dst));
  }

  /** As query parameters for the internal API, {@code &source=..&...}, or empty. */
  String queryString() {
    StringBuilder sb = new StringBuilder();
    if (source != null) {
      sb.append("&source=").append(HttpUtil.encode(source));
    }
    if (destination != null) {
      sb.append("&destination=").append(HttpUtil.encode(destination));
    }
    if (service != null) {
      sb.append("&service=").append(HttpUtil.encode(service));
    }
    return sb.toString();
  }
}
