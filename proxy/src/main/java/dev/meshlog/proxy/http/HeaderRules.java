package dev.meshlog.proxy.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import dev.meshlog.proxy.config.HeaderOps;
import io.netty.util.AsciiString;
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
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final ThreadLocal<byte[]> TRACEPARENT_SCRATCH =
      ThreadLocal.withInitial(() -> new byte[TRACEPARENT_LENGTH]);

  private HeaderRules() {}

  /**
   * Copies {@code from} into {@code to} without hop-by-hop headers (incl. those Connection
   * names), except {@code te: trailers}, which gRPC needs end to end (HTTP/2 allows only it).
   * A header that {@code Connection} names is also taken out of {@code to} if it was there
   * before (it is meant for this hop only either way).
   */
  public static void copyEndToEnd(MultiMap from, MultiMap to) {
    // Runs twice per request, so it allocates nothing but the entries it adds. One pass: on
    // Netty's (Vert.x's HTTP/1) header map the entries are read as they are stored, without
    // the String view's entry wrapper per header or a String per AsciiString name the decoder
    // made; Connection's tokens are read in place (almost always only keep-alive or close, so
    // no list is built and nothing is lower-cased), and what they name is removed afterwards.
    List<String> named = null;
    if (from instanceof io.netty.handler.codec.http.HttpHeaders netty) {
      Iterator<Map.Entry<CharSequence, CharSequence>> it = netty.iteratorCharSequence();
      while (it.hasNext()) {
        Map.Entry<CharSequence, CharSequence> e = it.next();
        named = copyOne(e.getKey(), e.getValue(), to, named);
      }
    } else {
      for (Map.Entry<String, String> e : from) {
        named = copyOne(e.getKey(), e.getValue(), to, named);
      }
    }
    if (named != null) {
      for (int i = 0; i < named.size(); i++) {
        to.remove(named.get(i));
      }
    }
  }

  /** Copies one header unless it is hop-by-hop; returns {@code named} with a Connection's. */
  private static List<String> copyOne(CharSequence name, CharSequence value, MultiMap to,
                                      List<String> named) {
    if (!hopByHop(name)) {
      to.add(name, value);
    } else if (AsciiString.contentEqualsIgnoreCase(name, "connection")) {
      named = connectionNames(value, named);
    } else if (AsciiString.contentEqualsIgnoreCase(name, "te")
        && value.toString().trim().equalsIgnoreCase("trailers")) {
      to.add(name, value);
    }
    return named;
  }

  /**
   * Adds to {@code named} (made when needed) the header names the Connection value {@code c}
   * lists besides the hop-by-hop ones and {@code close}; returns it.
   */
  private static List<String> connectionNames(CharSequence c, List<String> named) {
    int start = 0;
    int length = c.length();
    while (start <= length) {
      int end = start;
      while (end < length && c.charAt(end) != ',') {
        end++;
      }
      int from = start;
      int to = end;
      while (from < to && c.charAt(from) <= ' ') {
        from++;
      }
      while (to > from && c.charAt(to - 1) <= ' ') {
        to--;
      }
      if (to > from && !hopByHopOrClose(c, from, to)) {
        if (named == null) {
          named = new ArrayList<>(2);
        }
        named.add(c.subSequence(from, to).toString());
      }
      start = end + 1;
    }
    return named;
  }

  /** Whether {@code c[from, to)} is a hop-by-hop header name or {@code close}, in any case. */
  private static boolean hopByHopOrClose(CharSequence c, int from, int to) {
    int n = to - from;
    return switch (n) {
      case 5 -> AsciiString.regionMatches(c, true, from, "close", 0, n);
      case 10 -> AsciiString.regionMatches(c, true, from, "keep-alive", 0, n)
          || AsciiString.regionMatches(c, true, from, "connection", 0, n);
      default -> hopByHop(c.subSequence(from, to));
    };
  }

  /**
   * Whether {@code name} is hop-by-hop (RFC 9110 and the ones proxies drop by custom: connection,
   * keep-alive, proxy-connection, proxy-authenticate, proxy-authorization, te, trailer,
   * transfer-encoding, upgrade, expect), in any case. Runs for every header twice per request:
   * the length picks at most two names to compare.
   */
  private static boolean hopByHop(CharSequence name) {
    return switch (name.length()) {
      case 2 -> eq(name, "te");
      case 6 -> eq(name, "expect");
      case 7 -> eq(name, "trailer") || eq(name, "upgrade");
      case 10 -> eq(name, "connection") || eq(name, "keep-alive");
      case 16 -> eq(name, "proxy-connection");
      case 17 -> eq(name, "transfer-encoding");
      case 18 -> eq(name, "proxy-authenticate");
      case 19 -> eq(name, "proxy-authorization");
      default -> false;
    };
  }

  private static boolean eq(CharSequence a, String b) {
    return AsciiString.contentEqualsIgnoreCase(a, b);
  }

  /**
   * Removes the headers a client outside the mesh must not set: {@code x-envoy-*} (Envoy strips
   * them from external requests) and the mesh's own {@code x-meshlog-*}, so an outside caller
   * can neither steer the proxies nor pass for a workload of the mesh.
   */
  public static void removeControlHeaders(MultiMap headers) {
    List<String> names = null;
    // The entries, not names(): Vert.x builds a sorted set of the names for that, per request.
    for (Map.Entry<String, String> header : headers) {
      String name = header.getKey();
      if (startsWithIgnoreCase(name, "x-envoy-") || startsWithIgnoreCase(name, "x-meshlog-")) {
        if (names == null) {
          names = new ArrayList<>(2);
        }
        names.add(name);
      }
    }
    if (names != null) {
      names.forEach(headers::remove);
    }
  }

  /**
   * Removes the mesh's own {@code x-meshlog-*} headers, whatever the app sent: a request leaving
   * the mesh ({@link Passthrough}) carries none of them.
   */
  public static void removeMeshHeaders(MultiMap headers) {
    List<String> names = null;
    for (Map.Entry<String, String> header : headers) {
      if (startsWithIgnoreCase(header.getKey(), "x-meshlog-")) {
        if (names == null) {
          names = new ArrayList<>(2);
        }
        names.add(header.getKey());
      }
    }
    if (names != null) {
      names.forEach(headers::remove);
    }
  }

  /** Whether the comma-separated list {@code value} has {@code token}, in any case. */
  static boolean hasToken(String value, String token) {
    for (String t : value.split(",")) {
      if (t.trim().equalsIgnoreCase(token)) {
        return true;
      }
    }
    return false;
  }

  private static boolean startsWithIgnoreCase(String s, String prefix) {
    return s.regionMatches(true, 0, prefix, 0, prefix.length());
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
      // Written into the thread's scratch bytes: the String's own copy is all that is made.
      byte[] c = TRACEPARENT_SCRATCH.get();
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
      tp = new String(c, 0, TRACEPARENT_LENGTH, StandardCharsets.ISO_8859_1);
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
  private static void hex(long v, byte[] c, int at) {
    for (int i = 15; i >= 0; i--) {
      c[at + i] = HEX[(int) (v & 0xF)];
      v >>>= 4;
    }
  }
}
