package dev.meshlog.proxy.http;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * Refuses requests whose framing is ambiguous or whose headers exceed the listener's limits,
 * before anything is forwarded (request smuggling and header floods). Netty already refuses most
 * of these with 400; this is the proxy's own check of what reaches it.
 */
final class RequestGuard {

  private RequestGuard() {}

  /** Whether {@code req} may proceed; when not, {@code ex} has answered it. */
  static boolean admit(HttpServerRequest req, ProxyExchange ex, ListenerLimits limits) {
    MultiMap h = req.headers();
    if (req.decoderResult() != null && req.decoderResult().isFailure()) {
      ex.localReply(400, "malformed request", close(), ResponseFlag.DPE);
      return false;
    }
    int lines = headerLines(h, limits.maxHeaders());
    if (lines > limits.maxHeaders()) {
      // Lines, not names: 150 lines of one name are as many for the app as 150 names.
      ex.localReply(431, "too many headers: more than " + limits.maxHeaders()
          + " lines (expected: <= " + limits.maxHeaders() + ")", close(), ResponseFlag.DPE);
      return false;
    }
    if (req.version() != HttpVersion.HTTP_2 && !oneHost(req, ex)) {
      return false;
    }
    if (req.uri().indexOf('#') >= 0) {
      // Envoy refuses fragments too: a route or policy matched on the path must see all of it.
      ex.localReply(400, "request target " + req.uri() + " has a #fragment (expected: none; "
          + "a fragment is never sent)", close(), ResponseFlag.DPE);
      return false;
    }
    // Every request passes here: look for framing headers before listing them.
    List<String> te = h.contains(HttpHeaders.TRANSFER_ENCODING)
        ? h.getAll(HttpHeaders.TRANSFER_ENCODING) : List.of();
    List<String> cl = h.contains(HttpHeaders.CONTENT_LENGTH)
        ? h.getAll(HttpHeaders.CONTENT_LENGTH) : List.of();
    if (!te.isEmpty() && !cl.isEmpty()) {
      ex.localReply(400, "both Content-Length and Transfer-Encoding (expected: one of them)",
          close(), ResponseFlag.DPE);
      return false;
    }
    if (cl.size() > 1 || (cl.size() == 1 && !digits(cl.get(0).trim()))) {
      ex.localReply(400, "Content-Length: " + cl + " (expected: one non-negative integer)",
          close(), ResponseFlag.DPE);
      return false;
    }
    if (!te.isEmpty() && (te.size() > 1 || !te.get(0).trim().equalsIgnoreCase("chunked"))) {
      // Only chunked is understood (as Envoy, which answers 501 too): another coding would
      // reach the app with its chunks taken off but still coded, and no header saying so.
      ex.localReply(501, "Transfer-Encoding: " + te + " (expected: chunked)", close(),
          ResponseFlag.DPE);
      return false;
    }
    if (req.version() != HttpVersion.HTTP_2) {
      // Vert.x closes after the response only for a Connection that is exactly "close";
      // RFC 9110 7.6.1 makes it a list ("x-trace, close"). Almost every request has none.
      String connection = h.get(HttpHeaders.CONNECTION);
      if (connection != null && connection.length() > 5 && HeaderRules.hasToken(connection,
          "close")) {
        ex.closeWhenDone();
      }
    }
    return true;
  }

  /**
   * The number of header lines of {@code h}, counted up to one past {@code max} without
   * building anything (Vert.x's {@code size()} of an HTTP/1 header map counts distinct names,
   * in a new TreeSet).
   */
  private static int headerLines(MultiMap h, int max) {
    int n = 0;
    if (h instanceof io.netty.handler.codec.http.HttpHeaders netty) {
      Iterator<Map.Entry<CharSequence, CharSequence>> it = netty.iteratorCharSequence();
      while (it.hasNext() && n <= max) {
        it.next();
        n++;
      }
      return n;
    }
    for (Iterator<Map.Entry<String, String>> it = h.iterator(); it.hasNext() && n <= max; ) {
      it.next();
      n++;
    }
    return n;
  }

  /**
   * Whether the HTTP/1.x request {@code req} names one plain authority: exactly one Host on
   * HTTP/1.1 (RFC 9112 3.2: none or several is a 400), without userinfo; when not,
   * {@code ex} has answered it.
   */
  private static boolean oneHost(HttpServerRequest req, ProxyExchange ex) {
    MultiMap h = req.headers();
    String host = h.get(HttpHeaders.HOST);
    if (host == null) {
      if (req.version() == HttpVersion.HTTP_1_0) {
        return true;
      }
      ex.localReply(400, "no Host header (expected: one, HTTP/1.1 requires it)", close(),
          ResponseFlag.DPE);
      return false;
    }
    if (hosts(h) > 1) {
      ex.localReply(400, "Host: " + h.getAll(HttpHeaders.HOST) + " (expected: one Host header)",
          close(), ResponseFlag.DPE);
      return false;
    }
    return plainAuthority(host, ex);
  }

  /** How many Host lines {@code h} has, counted without a list per request. */
  private static int hosts(MultiMap h) {
    if (!(h instanceof io.netty.handler.codec.http.HttpHeaders netty)) {
      return h.getAll(HttpHeaders.HOST).size();
    }
    int n = 0;
    Iterator<Map.Entry<CharSequence, CharSequence>> it = netty.iteratorCharSequence();
    while (it.hasNext()) {
      CharSequence name = it.next().getKey();
      if (name.length() == 4 && AsciiString.contentEqualsIgnoreCase(name, HttpHeaders.HOST)) {
        n++;
      }
    }
    return n;
  }

  /**
   * Whether {@code authority} has no userinfo ({@code user@host}, which RFC 9110 4.2.4 forbids
   * and which would route on the user name); when it has, {@code ex} has answered 400.
   */
  static boolean plainAuthority(String authority, ProxyExchange ex) {
    if (authority == null || authority.indexOf('@') < 0) {
      return true;
    }
    ex.localReply(400, "authority " + authority + " has userinfo (expected: host[:port])",
        close(), ResponseFlag.DPE);
    return false;
  }

  private static MultiMap close() {
    return HttpHeaders.headers().add(HttpHeaders.CONNECTION, "close");
  }

  /** Whether {@code s} is 1 to 18 ASCII digits (fits a long; no sign). */
  private static boolean digits(String s) {
    if (s.isEmpty() || s.length() > 18) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code path} normalized as Istio's default path normalization ({@code BASE}, Envoy's
   * {@code normalize_path}, which is Chromium's URL path canonicalization) does before routes
   * are matched, for the routes and for the app: percent-encoded unreserved characters decoded
   * ({@code %2E} is a dot, {@code %7E} a tilde; other escapes such as {@code %2F} kept as they
   * are), a backslash taken as a slash, then the {@code .} and {@code ..} segments resolved
   * (RFC 3986 5.2.4): {@code /public/%2E%2E/admin} is {@code /admin}. Slashes are not merged
   * ({@code MERGE_SLASHES} is not Istio's default). The same string when there is nothing to do
   * (almost every request: one scan); {@code null} when the path holds an encoded NUL
   * ({@code %00}), which Envoy refuses with 400.
   */
  static String normalizePath(String path) {
    if (!path.startsWith("/") || plain(path)) {
      return path;
    }
    String decoded = decodeUnreserved(path);
    if (decoded == null) {
      return null;
    }
    return decoded.indexOf("/.") < 0 ? decoded : removeDotSegments(decoded);
  }

  /**
   * Whether {@code path} has no escape, no backslash and no segment starting with a dot. The
   * characters that need a look are all below {@code '/'} but the backslash, so most of a
   * path's characters take one comparison.
   */
  private static boolean plain(String path) {
    for (int i = 1, n = path.length(); i < n; i++) {
      char c = path.charAt(i);
      if (c < '/') {
        if (c == '%' || (c == '.' && path.charAt(i - 1) == '/')) {
          return false;
        }
      } else if (c == '\\') {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code path} with {@code %XX} of unreserved characters (RFC 3986 2.3) decoded and
   * backslashes turned into slashes; {@code null} for {@code %00}.
   */
  private static String decodeUnreserved(String path) {
    StringBuilder out = new StringBuilder(path.length());
    for (int i = 0, n = path.length(); i < n; i++) {
      char c = path.charAt(i);
      if (c == '\\') {
        out.append('/');
        continue;
      }
      if (c == '%' && i + 2 < n) {
        int hi = Character.digit(path.charAt(i + 1), 16);
        int lo = Character.digit(path.charAt(i + 2), 16);
        if (hi >= 0 && lo >= 0) {
          char d = (char) (hi * 16 + lo);
          if (d == 0) {
            return null;
          }
          if (unreserved(d)) {
            out.append(d);
            i += 2;
            continue;
          }
        }
      }
      out.append(c);
    }
    return out.toString();
  }

  private static boolean unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  /** {@code path} (starting with a slash) with its dot segments resolved (RFC 3986 5.2.4). */
  private static String removeDotSegments(String path) {
    String[] parts = path.split("/", -1);
    java.util.ArrayDeque<String> out = new java.util.ArrayDeque<>(parts.length);
    for (int i = 1; i < parts.length; i++) {
      String segment = parts[i];
      boolean last = i == parts.length - 1;
      if (segment.equals(".") || segment.equals("..")) {
        if (segment.equals("..") && !out.isEmpty()) {
          out.removeLast();
        }
        if (last) {
          out.addLast("");
        }
      } else {
        out.addLast(segment);
      }
    }
    return "/" + String.join("/", out);
  }

  /**
   * {@link #normalizePath} of a request target's path, its query kept as it is; {@code null}
   * when the path is refused.
   */
  static String normalizeTarget(String target) {
    int q = target.indexOf('?');
    if (q < 0) {
      return normalizePath(target);
    }
    String path = target.substring(0, q);
    String normal = normalizePath(path);
    return normal == null ? null : normal == path ? target : normal + target.substring(q);
  }

  /** Answers 400 to a request whose path {@link #normalizePath} refused. */
  static void refusePath(String target, ProxyExchange ex) {
    ex.localReply(400, "path of " + target + " has an encoded NUL (%00) (expected: none)",
        close(), ResponseFlag.DPE);
  }

  /** Whether the request body is chunked. */
  static boolean chunked(HttpServerRequest req) {
    return req.headers().contains(HttpHeaders.TRANSFER_ENCODING);
  }
}
