package dev.meshlog.proxy.http;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Set;

import dev.meshlog.proxy.config.EndpointConfig;

/**
 * One finished request, as the access log and metrics see it.
 *
 * @param start when the request arrived
 * @param direction {@code outbound} (from the local app) or {@code inbound} (to it)
 * @param method the method
 * @param path the path and query as received
 * @param protocol e.g. {@code HTTP/1.1}
 * @param status the status sent downstream, or 0 when none was
 * @param flags why it ended that way
 * @param bytesReceived request body bytes read
 * @param bytesSent response bytes written
 * @param durationMillis from arrival to the end of the response
 * @param upstreamServiceMillis from the last try's start to its response headers, or -1
 * @param requestId the {@code x-request-id}
 * @param authority the Host
 * @param userAgent the User-Agent, or {@code null}
 * @param upstreamHost the endpoint of the last try, or {@code null}
 * @param cluster the upstream cluster, or {@code null}
 * @param route the route's name, or {@code null}
 * @param attempts tries made
 * @param sourceWorkload the calling workload, or {@code unknown}
 * @param destinationService the service host called, or {@code unknown}
 * @param grpcStatus the gRPC status of a gRPC call (trailer or trailers-only header), or
 *     {@code null}
 * @param traceparent the W3C {@code traceparent} sent on, or {@code null}
 * @param sourcePeer the caller's peer metadata header (inbound), or {@code null}
 * @param upstream the endpoint of the last try, or {@code null}
 * @param durationMicros {@code durationMillis} in microseconds, or -1 when not measured
 * @param upstreamTransportFailure why the last try's TLS handshake failed (Envoy's
 *     {@code UPSTREAM_TRANSPORT_FAILURE_REASON}), or {@code null}
 */
public record AccessLogEntry(Instant start, String direction, String method, String path,
                             String protocol, int status, Set<ResponseFlag> flags,
                             long bytesReceived, long bytesSent, long durationMillis,
                             long upstreamServiceMillis, String requestId, String authority,
                             String userAgent, String upstreamHost, String cluster, String route,
                             int attempts, String sourceWorkload, String destinationService,
                             String grpcStatus, String traceparent, String sourcePeer,
                             EndpointConfig upstream, long durationMicros,
                             String upstreamTransportFailure) {

  public AccessLogEntry {
    flags = Set.copyOf(flags);
  }

  /** An entry without a transport failure. */
  public AccessLogEntry(Instant start, String direction, String method, String path,
                        String protocol, int status, Set<ResponseFlag> flags, long bytesReceived,
                        long bytesSent, long durationMillis, long upstreamServiceMillis,
                        String requestId, String authority, String userAgent,
                        String upstreamHost, String cluster, String route, int attempts,
                        String sourceWorkload, String destinationService, String grpcStatus,
                        String traceparent, String sourcePeer, EndpointConfig upstream,
                        long durationMicros) {
    this(start, direction, method, path, protocol, status, flags, bytesReceived, bytesSent,
        durationMillis, upstreamServiceMillis, requestId, authority, userAgent, upstreamHost,
        cluster, route, attempts, sourceWorkload, destinationService, grpcStatus, traceparent,
        sourcePeer, upstream, durationMicros, null);
  }

  /**
   * The entry of an HTTP/2 stream whose header block the codec refused (Envoy's downstream
   * protocol error): nothing of the request is known, no response was sent.
   */
  public static AccessLogEntry malformedHttp2Stream(Instant start, String direction,
                                                    String sourceWorkload) {
    return new AccessLogEntry(start, direction, null, null, "HTTP/2", 0,
        Set.of(ResponseFlag.DPE), 0, 0, 0, -1, null, null, null, null, null, null, 0,
        sourceWorkload, null, null, null, null, null, 0);
  }

  /** An entry without the telemetry-only facts (trace, peer, upstream endpoint, microseconds). */
  public AccessLogEntry(Instant start, String direction, String method, String path,
                        String protocol, int status, Set<ResponseFlag> flags, long bytesReceived,
                        long bytesSent, long durationMillis, long upstreamServiceMillis,
                        String requestId, String authority, String userAgent,
                        String upstreamHost, String cluster, String route, int attempts,
                        String sourceWorkload, String destinationService, String grpcStatus) {
    this(start, direction, method, path, protocol, status, flags, bytesReceived, bytesSent,
        durationMillis, upstreamServiceMillis, requestId, authority, userAgent, upstreamHost,
        cluster, route, attempts, sourceWorkload, destinationService, grpcStatus, null, null,
        null, -1);
  }

  /** An entry of a request that is not a gRPC call. */
  public AccessLogEntry(Instant start, String direction, String method, String path,
                        String protocol, int status, Set<ResponseFlag> flags, long bytesReceived,
                        long bytesSent, long durationMillis, long upstreamServiceMillis,
                        String requestId, String authority, String userAgent,
                        String upstreamHost, String cluster, String route, int attempts,
                        String sourceWorkload, String destinationService) {
    this(start, direction, method, path, protocol, status, flags, bytesReceived, bytesSent,
        durationMillis, upstreamServiceMillis, requestId, authority, userAgent, upstreamHost,
        cluster, route, attempts, sourceWorkload, destinationService, (String) null);
  }

  /** The flags as Envoy prints them: comma-separated in a fixed order, or {@code -}. */
  public String flagString() {
    return appendFlags(new StringBuilder()).toString();
  }

  /**
   * The Envoy-style access-log line; gRPC calls end with {@code grpc_status=<code>}, a failed
   * upstream TLS handshake with {@code transport_failure="<reason>"}.
   */
  public String line() {
    return appendLine(new StringBuilder(256)).toString();
  }

  /**
   * Appends {@link #line()} to {@code b} without building it first (the access log writes a
   * batch of lines into one reused buffer); returns {@code b}.
   */
  public StringBuilder appendLine(StringBuilder b) {
    appendInstant(b.append('['), start).append("] \"").append(method).append(' ').append(path)
        .append(' ').append(protocol).append("\" ").append(status).append(' ');
    appendFlags(b).append(' ').append(bytesReceived).append(' ').append(bytesSent).append(' ')
        .append(durationMillis).append(' ');
    if (upstreamServiceMillis < 0) {
      b.append('-');
    } else {
      b.append(upstreamServiceMillis);
    }
    b.append(" \"").append(dash(userAgent)).append("\" \"").append(dash(requestId))
        .append("\" \"").append(dash(authority)).append("\" \"").append(dash(upstreamHost))
        .append("\" ").append(direction).append(' ').append(dash(cluster)).append(' ')
        .append(dash(route)).append(" attempts=").append(attempts);
    if (grpcStatus != null) {
      b.append(" grpc_status=").append(grpcStatus);
    }
    if (upstreamTransportFailure != null) {
      b.append(" transport_failure=\"").append(upstreamTransportFailure).append('"');
    }
    return b;
  }

  private StringBuilder appendFlags(StringBuilder b) {
    if (flags.isEmpty()) {
      return b.append('-');
    }
    boolean first = true;
    for (ResponseFlag f : ResponseFlag.values()) {
      if (flags.contains(f)) {
        if (!first) {
          b.append(',');
        }
        b.append(f.name());
        first = false;
      }
    }
    return b;
  }

  /** The last second written, shared by whichever threads write lines (immutable, so safe). */
  private static volatile SecondText lastSecond;

  /** A second's {@code yyyy-MM-ddTHH:mm:ss} in UTC. */
  private record SecondText(long epochSecond, String text) {}

  /** 10000-01-01T00:00:00Z: from there on Instant prints a year with a sign and more digits. */
  private static final long YEAR_10000 = 253_402_300_800L;

  /**
   * Appends {@code t} exactly as {@link Instant#toString()} writes it (ISO-8601 in UTC, the
   * fraction in groups of three digits, none when zero), without its formatter's objects and
   * strings per call: the date and time of day are formatted once per second and reused.
   */
  static StringBuilder appendInstant(StringBuilder b, Instant t) {
    long second = t.getEpochSecond();
    if (second < 0 || second >= YEAR_10000) {
      return b.append(t);
    }
    SecondText s = lastSecond;
    if (s == null || s.epochSecond() != second) {
      LocalDateTime d = LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC);
      StringBuilder text = new StringBuilder(19);
      pad(text, d.getYear(), 4).append('-');
      pad(text, d.getMonthValue(), 2).append('-');
      pad(text, d.getDayOfMonth(), 2).append('T');
      pad(text, d.getHour(), 2).append(':');
      pad(text, d.getMinute(), 2).append(':');
      pad(text, d.getSecond(), 2);
      s = new SecondText(second, text.toString());
      lastSecond = s;
    }
    b.append(s.text());
    int nano = t.getNano();
    if (nano > 0) {
      b.append('.');
      if (nano % 1_000_000 == 0) {
        pad(b, nano / 1_000_000, 3);
      } else if (nano % 1_000 == 0) {
        pad(b, nano / 1_000, 6);
      } else {
        pad(b, nano, 9);
      }
    }
    return b.append('Z');
  }

  /** Appends {@code v} (not negative) with leading zeros to {@code digits} digits. */
  private static StringBuilder pad(StringBuilder b, int v, int digits) {
    for (int limit = 10, i = 1; i < digits; i++, limit *= 10) {
      if (v < limit) {
        b.append('0');
      }
    }
    return b.append(v);
  }

  private static String dash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }
}
