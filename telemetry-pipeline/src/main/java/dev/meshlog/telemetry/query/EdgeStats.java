package dev.meshlog.telemetry.query;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.telemetry.Edge;

/**
 * What a user reads about one edge over a time range: traffic, errors, latency quantiles.
 *
 * @param id {@link Edge#id()}
 * @param source the caller
 * @param destination the callee
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
 * @param responseFlags requests by Envoy response flag
 * @param requestBytes request body bytes
 * @param responseBytes response body bytes
 */
public record EdgeStats(String id, Edge.End source, Edge.End destination, long requests,
                        double requestsPerSecond, long errors, double errorRate, double p50Millis,
                        double p90Millis, double p99Millis, double maxMillis,
                        double relativeAccuracy, Map<String, Long> responseCodeClasses,
                        Map<String, Long> responseFlags, long requestBytes, long responseBytes) {

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
    return new EdgeStats(edge.id(), edge.source(), edge.destination(), requests,
        seconds > 0 ? requests / seconds : 0, merged.getErrors(),
        requests == 0 ? 0 : (double) merged.getErrors() / requests,
        merged.getLatencyP50Millis(), merged.getLatencyP90Millis(), merged.getLatencyP99Millis(),
        merged.getLatencyMaxMillis(), merged.getLatencyRelativeAccuracy(), classes,
        new TreeMap<>(merged.getResponseFlags()), merged.getRequestBytes(), merged.getResponseBytes());
  }
}
