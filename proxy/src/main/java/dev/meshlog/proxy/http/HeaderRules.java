package dev.meshlog.proxy.http;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

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
  /** The calling proxy's identity for the destination's telemetry (see PeerMetadata). */
  public static final String SOURCE_PEER = "x-meshlog-peer";
  /** Time the upstream took to answer, as Envoy reports it. */
  public static final String UPSTREAM_SERVICE_TIME = "x-envoy-upstream-service-time";

  /** {@code 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>}: 55 characters. */
  private static final int TRACEPARENT_LENGTH = 55;
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private HeaderRules() {}

  /**
   * Copies {@code from} into {@code to} without hop-by-hop headers (incl. those Connection
   * names), except {@code te: trailers}, which gRPC needs end to end (HTTP/2 allows only it).
   */
  public static void copyEndToEnd(MultiMap from, MultiMap to) {
    // Runs twice per request. Connection almost always says only keep-alive or close (no header
    // names beyond the hop-by-hop ones): then no set is built and no name is lower-cased.
    List<String> named = from.contains("connection") ? connectionNames(from) : null;
    for (var e : from) {
      String name = e.getKey();
      if ((!hopByHop(name) && (named == null || !containsIgnoreCase(named, name)))
          || ("te".equalsIgnoreCase(name) && e.getValue().trim().equalsIgnoreCase("trailers"))) {
        to.add(name, e.getValue());
      }
    }
  }

  /**
   * The header names {@code Connection} lists besides the hop-by-hop ones and {@code close},
   * or {@code null} when there are none.
   */
  private static List<String> connectionNames(MultiMap from) {
    List<String> named = null;
    for (String c : from.getAll("connection")) {
      int start = 0;
      while (start <= c.length()) {
        int comma = c.indexOf(',', start);
        int end = comma < 0 ? c.length() : comma;
        String token = c.substring(start, end).trim();
        if (!token.isEmpty() && !hopByHop(token) && !token.equalsIgnoreCase("close")) {
          if (named == null) {
            named = new ArrayList<>(2);
          }
          named.add(token);
        }
        start = end + 1;
      }
    }
    return named;
  }

  private static boolean containsIgnoreCase(List<String> names, String name) {
    for (int i = 0; i < names.size(); i++) {
      if (names.get(i).equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code name} is hop-by-hop (RFC 9110 and the ones proxies drop by custom: connection,
   * keep-alive, proxy-connection, proxy-authenticate, proxy-authorization, te, trailer,
   * transfer-encoding, upgrade, expect), in any case. Runs for every header twice per request:
   * the length picks at most two names to compare.
   */
  private static boolean hopByHop(String name) {
    return switch (name.length()) {
      case 2 -> name.equalsIgnoreCase("te");
      case 6 -> name.equalsIgnoreCase("expect");
      case 7 -> name.equalsIgnoreCase("trailer") || name.equalsIgnoreCase("upgrade");
      case 10 -> name.equalsIgnoreCase("connection") || name.equalsIgnoreCase("keep-alive");
      case 16 -> name.equalsIgnoreCase("proxy-connection");
      case 17 -> name.equalsIgnoreCase("transfer-encoding");
      case 18 -> name.equalsIgnoreCase("proxy-authenticate");
      case 19 -> name.equalsIgnoreCase("proxy-authorization");
      default -> false;
    };
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
      id = randomUuid().toString();
      headers.set(REQUEST_ID, id);
    }
    return id;
  }

  /**
   * A random (version 4) UUID from the thread's fast generator: a request id needs to be unique,
   * not unguessable, and {@link UUID#randomUUID()} takes a lock on a shared SecureRandom for
   * every request.
   */
  static UUID randomUuid() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }

  /** The request's traceparent, set on {@code headers} first when absent or malformed. */
  public static String ensureTraceparent(MultiMap headers) {
    String tp = headers.get(TRACEPARENT);
    if (tp == null || !wellFormedTraceparent(tp)) {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      char[] c = new char[TRACEPARENT_LENGTH];
      c[0] = '0';
      c[1] = '0';
      c[2] = '-';
      hex(r.nextLong(), c, 3);
      hex(r.nextLong() | 1, c, 19);
      c[35] = '-';
      hex(r.nextLong() | 1, c, 36);
      c[52] = '-';
      c[53] = '0';
      c[54] = '1';
      tp = new String(c);
      headers.set(TRACEPARENT, tp);
    }
    return tp;
  }

  /** Whether {@code tp} is {@code [0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}}. */
  static boolean wellFormedTraceparent(String tp) {
    if (tp.length() != TRACEPARENT_LENGTH) {
      return false;
    }
    for (int i = 0; i < TRACEPARENT_LENGTH; i++) {
      char ch = tp.charAt(i);
      boolean ok = i == 2 || i == 35 || i == 52 ? ch == '-'
          : (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** Writes {@code v} as 16 lower-case hex digits at {@code c[at]}. */
  private static void hex(long v, char[] c, int at) {
    for (int i = 15; i >= 0; i--) {
      c[at + i] = HEX[(int) (v & 0xF)];
      v >>>= 4;
    }
  }
}
