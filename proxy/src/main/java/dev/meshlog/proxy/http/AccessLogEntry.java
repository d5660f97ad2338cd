package dev.meshlog.proxy.http;

import java.time.Instant;
import java.util.Set;
import java.util.stream.Collectors;

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
 */
public record AccessLogEntry(Instant start, String direction, String method, String path,
                             String protocol, int status, Set<ResponseFlag> flags,
                             long bytesReceived, long bytesSent, long durationMillis,
                             long upstreamServiceMillis, String requestId, String authority,
                             String userAgent, String upstreamHost, String cluster, String route,
                             int attempts, String sourceWorkload, String destinationService,
                             String grpcStatus, String traceparent, String sourcePeer,
                             EndpointConfig upstream, long durationMicros) {

  public AccessLogEntry {
    flags = Set.copyOf(flags);
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
    if (flags.isEmpty()) {
      return "-";
    }
    return java.util.Arrays.stream(ResponseFlag.values()).filter(flags::contains)
        .map(Enum::name).collect(Collectors.joining(","));
  }

  /** The Envoy-style access-log line; gRPC calls end with {@code grpc_status=<code>}. */
  public String line() {
    return "[" + start + "] \"" + method + " " + path + " " + protocol + "\" " + status + " "
        + flagString() + " " + bytesReceived + " " + bytesSent + " " + durationMillis + " "
        + (upstreamServiceMillis < 0 ? "-" : Long.toString(upstreamServiceMillis)) + " \""
        + dash(userAgent) + "\" \"" + dash(requestId) + "\" \"" + dash(authority) + "\" \""
        + dash(upstreamHost) + "\" " + direction + " " + dash(cluster) + " " + dash(route)
        + " attempts=" + attempts + (grpcStatus == null ? "" : " grpc_status=" + grpcStatus);
  }

  private static String dash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }
}
