package dev.meshlog.proxy.http;

import java.util.List;
import java.util.Locale;

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
    MultiMap close = HttpHeaders.headers().add(HttpHeaders.CONNECTION, "close");
    if (req.decoderResult() != null && req.decoderResult().isFailure()) {
      ex.localReply(400, "malformed request", close, ResponseFlag.DPE);
      return false;
    }
    if (h.size() > limits.maxHeaders()) {
      ex.localReply(431, "too many headers: " + h.size() + " (expected: <= "
          + limits.maxHeaders() + ")", close, ResponseFlag.DPE);
      return false;
    }
    List<String> te = h.getAll(HttpHeaders.TRANSFER_ENCODING);
    List<String> cl = h.getAll(HttpHeaders.CONTENT_LENGTH);
    if (!te.isEmpty() && !cl.isEmpty()) {
      ex.localReply(400, "both Content-Length and Transfer-Encoding (expected: one of them)",
          close, ResponseFlag.DPE);
      return false;
    }
    if (cl.size() > 1 || (cl.size() == 1 && !cl.get(0).trim().matches("[0-9]{1,18}"))) {
      ex.localReply(400, "Content-Length: " + cl + " (expected: one non-negative integer)",
          close, ResponseFlag.DPE);
      return false;
    }
    if (!te.isEmpty()) {
      String last = te.get(te.size() - 1);
      String[] codings = last.split(",");
      if (te.size() > 1 || !codings[codings.length - 1].trim().toLowerCase(Locale.ROOT)
          .equals("chunked")) {
        ex.localReply(400, "Transfer-Encoding: " + te + " (expected: chunked last)", close,
            ResponseFlag.DPE);
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
