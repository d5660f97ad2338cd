package dev.meshlog.telemetry.query;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.telemetry.Edge;
import dev.meshlog.telemetry.EdgeAggregation;

/**
 * What a user reads about one edge over a time range: traffic, errors, latency quantiles, and
 * for an edge with relayed TCP connections their counts and bytes ({@link #tcp}). The HTTP
 * figures count requests only: an edge with TCP connections and no request has 0 requests, 0
 * errors and an error rate of 0 (not a failing edge); its TCP figures say how it does.
 *
 * @param id {@link Edge#id()}
 * @param source the caller
 * @param destination the callee
 * @param protocols what the edge carried in the range: {@code http} (requests, gRPC included),
 *     {@code tcp} (relayed TCP connections), or both
 * @param requests requests in the range
 * @param requestsPerSecond requests divided by the range's length
 * @param errors 5xx plus no response
 * @param errorRate errors / requests (0 without requests)
 * @param p50Millis median latency, within {@code relativeAccuracy}
 * @param p90Millis 90th percentile latency
 * @param p99Millis 99th percentile latency
 * @param maxMillis the slowest request, exact
 * @param relativeAccuracy the quantiles' relative error bound
 * @param responseCodeClasses requests by class: 1xx..5xx and {@code none} (no response)
 * @param responseFlags requests (and failed TCP connections) by Envoy response flag
 * @param requestBytes request body bytes
 * @param responseBytes response body bytes
 * @param tcp the edge's TCP connections in the range; absent (null, left out of the JSON) when
 *     it had none
 */
public record EdgeStats(String id, Edge.End source, Edge.End destination, List<String> protocols, long requests,
                        double requestsPerSecond, long errors, double errorRate, double p50Millis,
                        double p90Millis, double p99Millis, double maxMillis,
                        double relativeAccuracy, Map<String, Long> responseCodeClasses,
                        Map<String, Long> responseFlags, long requestBytes, long responseBytes,
                        @JsonInclude(JsonInclude.Include.NON_NULL) Tcp tcp) {

  /** The protocol name of requests in {@link #protocols}. */
  public static final String HTTP = "http";
  /** The protocol name of relayed TCP connections in {@link #protocols}. */
  public static final String TCP = "tcp";

  /**
   * An edge's relayed TCP connections over a range (Istio's {@code istio_tcp_*} figures).
   *
   * @param connectionsOpened connections opened in the range
   * @param connectionsClosed connections closed in the range
   * @param connectionsOpen connections opened in the range and still open at its end as far as
   *     the reports show ({@code opened - closed}, at least 0: a connection opened before the
   *     range and closed in it is not counted open)
   * @param failedConnections connections that failed (closed with a response flag: UF, UH, NR, ...)
   * @param receivedBytes bytes the destination received from the source
   * @param sentBytes bytes sent back to the source
   * @param receivedBytesPerSecond {@code receivedBytes} divided by the range's length
   * @param sentBytesPerSecond {@code sentBytes} divided by the range's length
   * @param failureRate failed / closed connections (0 when none closed)
   */
  public record Tcp(long connectionsOpened, long connectionsClosed, long connectionsOpen, long failedConnections,
                    long receivedBytes, long sentBytes, double receivedBytesPerSecond, double sentBytesPerSecond,
                    double failureRate) {}

  /** The stats of {@code merged} (one edge's windows merged) over a range of {@code seconds}. */
  public static EdgeStats of(EdgeMetrics merged, double seconds) {
    Edge edge = Edge.of(merged);
    long requests = merged.getRequests();
    Map<String, Long> classes = new LinkedHashMap<>();
    classes.put("1xx", merged.getResponses1xx());
    classes.put("2xx", merged.getResponses2xx());
    classes.put("3xx", merged.getResponses3xx());
    classes.put("4xx", merged.getResponses4xx());
    classes.put("5xx", merged.getResponses5xx());
    classes.put("none", merged.getNoResponse());
    boolean tcp = EdgeAggregation.hasTcp(merged);
    List<String> protocols = new ArrayList<>(2);
    if (requests > 0 || !tcp) {
      protocols.add(HTTP);
    }
    if (tcp) {
      protocols.add(TCP);
    }
    return new EdgeStats(edge.id(), edge.source(), edge.destination(), List.copyOf(protocols), requests,
        seconds > 0 ? requests / seconds : 0, merged.getErrors(),
        requests == 0 ? 0 : (double) merged.getErrors() / requests,
        merged.getLatencyP50Millis(), merged.getLatencyP90Millis(), merged.getLatencyP99Millis(),
        merged.getLatencyMaxMillis(), merged.getLatencyRelativeAccuracy(), classes,
        new TreeMap<>(merged.getResponseFlags()), merged.getRequestBytes(), merged.getResponseBytes(),
        tcp ? tcp(merged, seconds) : null);
  }

  private static Tcp tcp(EdgeMetrics m, double seconds) {
    long opened = m.getTcpConnectionsOpened();
    long closed = m.getTcpConnectionsClosed();
    return new Tcp(opened, closed, Math.max(0, opened - closed), m.getTcpFailedConnections(),
        m.getTcpReceivedBytes(), m.getTcpSentBytes(),
        seconds > 0 ? m.getTcpReceivedBytes() / seconds : 0, seconds > 0 ? m.getTcpSentBytes() / seconds : 0,
        closed == 0 ? 0 : (double) m.getTcpFailedConnections() / closed);
  }
}
