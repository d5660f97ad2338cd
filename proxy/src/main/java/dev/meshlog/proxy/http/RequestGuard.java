package dev.meshlog.proxy.http;

import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

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
    if (moreThan(h, limits.maxHeaders()) && h.size() > limits.maxHeaders()) {
      ex.localReply(431, "too many headers: " + h.size() + " (expected: <= "
          + limits.maxHeaders() + ")", close(), ResponseFlag.DPE);
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
    if (!te.isEmpty()) {
      String last = te.get(te.size() - 1);
      String[] codings = last.split(",");
      if (te.size() > 1 || !codings[codings.length - 1].trim().toLowerCase(Locale.ROOT)
          .equals("chunked")) {
        ex.localReply(400, "Transfer-Encoding: " + te + " (expected: chunked last)", close(),
            ResponseFlag.DPE);
        return false;
      }
    }
    return true;
  }

  /**
   * Whether {@code h} has more than {@code max} entries, counted without building anything:
   * Vert.x's {@code size()} of an HTTP/1 header map counts distinct names in a new TreeSet, so
   * it is only asked when the entries alone are too many.
   */
  private static boolean moreThan(MultiMap h, int max) {
    if (!(h instanceof io.netty.handler.codec.http.HttpHeaders netty)) {
      return true;
    }
    Iterator<Map.Entry<CharSequence, CharSequence>> it = netty.iteratorCharSequence();
    int n = 0;
    while (it.hasNext()) {
      it.next();
      if (++n > max) {
        return true;
      }
    }
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

  /** Whether the request body is chunked. */
  static boolean chunked(HttpServerRequest req) {
    return req.headers().contains(HttpHeaders.TRANSFER_ENCODING);
  }
}
