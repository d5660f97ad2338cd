package dev.meshlog.proxy.http;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

import dev.meshlog.proxy.config.HeaderOps;
import io.vertx.core.MultiMap;

/** What the proxy does to headers: drops hop-by-hop ones, applies route operations, adds trace ids. */
public final class HeaderRules {

  /** The request id header, created when absent. */
  public static final String REQUEST_ID = "x-request-id";
  /** The W3C trace context header, created when absent. */
  public static final String TRACEPARENT = "traceparent";
  /** Names the calling workload to the destination's proxy. */
  public static final String SOURCE_WORKLOAD = "x-meshlog-source-workload";
  /** Time the upstream took to answer, as Envoy reports it. */
  public static final String UPSTREAM_SERVICE_TIME = "x-envoy-upstream-service-time";

  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive",
      "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
      "transfer-encoding", "upgrade", "expect");
  private static final Pattern TRACEPARENT_FORMAT =
      Pattern.compile("[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");

  private HeaderRules() {}

  /**
   * Copies {@code from} into {@code to} without hop-by-hop headers (incl. those Connection
   * names), except {@code te: trailers}, which gRPC needs end to end (HTTP/2 allows only it).
   */
  public static void copyEndToEnd(MultiMap from, MultiMap to) {
    Set<String> drop = HOP_BY_HOP;
    List<String> connection = from.getAll("connection");
    if (!connection.isEmpty()) {
      drop = new HashSet<>(HOP_BY_HOP);
      for (String c : connection) {
        for (String name : c.split(",")) {
          drop.add(name.trim().toLowerCase(Locale.ROOT));
        }
      }
    }
    for (var e : from) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (!drop.contains(name)
          || (name.equals("te") && e.getValue().trim().equalsIgnoreCase("trailers"))) {
        to.add(e.getKey(), e.getValue());
      }
    }
  }

  /** Applies {@code ops} to {@code headers}: remove, then set, then add. */
  public static void apply(HeaderOps ops, MultiMap headers) {
    if (ops.isEmpty()) {
      return;
    }
    ops.remove().forEach(headers::remove);
    ops.set().forEach(headers::set);
    ops.add().forEach(headers::add);
  }

  /** The request's id, set on {@code headers} first when absent. */
  public static String ensureRequestId(MultiMap headers) {
    String id = headers.get(REQUEST_ID);
    if (id == null || id.isBlank() || id.length() > 128) {
      id = UUID.randomUUID().toString();
      headers.set(REQUEST_ID, id);
    }
    return id;
  }

  /** The request's traceparent, set on {@code headers} first when absent or malformed. */
  public static String ensureTraceparent(MultiMap headers) {
    String tp = headers.get(TRACEPARENT);
    if (tp == null || !TRACEPARENT_FORMAT.matcher(tp).matches()) {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      tp = String.format("00-%016x%016x-%016x-01", r.nextLong(), r.nextLong() | 1, r.nextLong() | 1);
      headers.set(TRACEPARENT, tp);
    }
    return tp;
  }
}
