package dev.meshlog.proxy.http;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
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

  /** The caller's deadline: {@code grpc-timeout: 250m}. */
  static final String TIMEOUT = "grpc-timeout";
  /** DEADLINE_EXCEEDED: what a gRPC call that timed out in the proxy is answered. */
  static final int DEADLINE_EXCEEDED = 4;

  private Grpc() {}

  /**
   * A {@code grpc-timeout} value as a duration: at most 8 digits and a unit, H (hours), M
   * (minutes), S, m (milliseconds), u (microseconds) or n (nanoseconds).
   *
   * @throws IllegalArgumentException saying what was wrong and what was expected
   */
  static Duration parseTimeout(String value) {
    int n = value.length();
    boolean digits = n >= 2 && n <= 9;
    for (int i = 0; digits && i < n - 1; i++) {
      char c = value.charAt(i);
      digits = c >= '0' && c <= '9';
    }
    if (digits) {
      long amount = Long.parseLong(value.substring(0, n - 1));
      switch (value.charAt(n - 1)) {
        case 'H': return Duration.ofHours(amount);
        case 'M': return Duration.ofMinutes(amount);
        case 'S': return Duration.ofSeconds(amount);
        case 'm': return Duration.ofMillis(amount);
        case 'u': return Duration.ofNanos(amount * 1000);
        case 'n': return Duration.ofNanos(amount);
        default: break;
      }
    }
    throw new IllegalArgumentException(TIMEOUT + ": " + value + " (expected: 1 to 8 digits "
        + "and a unit H, M, S, m, u or n, e.g. 250m)");
  }

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
