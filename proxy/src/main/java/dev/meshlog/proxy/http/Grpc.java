package dev.meshlog.proxy.http;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;

/**
 * What the proxy knows of gRPC: how to recognise a call, where its status travels, and how a
 * local answer becomes a gRPC "trailers-only" response, as Envoy sends them.
 */
final class Grpc {

  /** The gRPC status header (a trailer, or a header of a trailers-only response). */
  static final String STATUS = "grpc-status";
  /** The gRPC status message header. */
  static final String MESSAGE = "grpc-message";

  private Grpc() {}

  /** Whether a request with these headers is a gRPC call ({@code application/grpc[+proto|...]}). */
  static boolean isGrpc(MultiMap headers) {
    String ct = headers.get(HttpHeaders.CONTENT_TYPE);
    return ct != null && ct.toLowerCase(Locale.ROOT).startsWith("application/grpc");
  }

  /** The grpc-status of a response: from its trailers, else its headers; {@code null} if none. */
  static String status(MultiMap headers, MultiMap trailers) {
    String s = trailers == null ? null : trailers.get(STATUS);
    return s != null ? s : headers == null ? null : headers.get(STATUS);
  }

  /**
   * The gRPC status code a client derives from an HTTP status (gRPC's
   * {@code http-grpc-status-mapping.md}).
   */
  static int forHttpStatus(int httpStatus) {
    return switch (httpStatus) {
      case 400 -> 13; // INTERNAL
      case 401 -> 16; // UNAUTHENTICATED
      case 403 -> 7; // PERMISSION_DENIED
      case 404 -> 12; // UNIMPLEMENTED
      case 429, 502, 503, 504 -> 14; // UNAVAILABLE
      default -> 2; // UNKNOWN
    };
  }

  /** {@code text} percent-encoded as grpc-message requires (printable ASCII except '%'). */
  static String encodeMessage(String text) {
    StringBuilder b = new StringBuilder();
    for (byte x : text.getBytes(StandardCharsets.UTF_8)) {
      int c = x & 0xff;
      if (c >= 0x20 && c <= 0x7e && c != '%') {
        b.append((char) c);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return b.toString();
  }
}
