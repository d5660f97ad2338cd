package dev.meshlog.telemetry.query;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.telemetry.Edge;
import dev.meshlog.telemetry.EdgeAggregation;

/**
 * The service dependency graph over a time range: services (with the versions seen) as nodes,
 * calls between service versions as edges with their rate, errors and latency.
 *
 * @param from start of the range (inclusive)
 * @param to end of the range
 * @param nodes every service that called or was called, sorted by id
 * @param edges every edge with traffic, sorted by id
 * @param unreachable instances that did not answer, so the graph lacks their partitions
 *     (empty when the graph is whole)
 */
public record ServiceGraph(Instant from, Instant to, List<Node> nodes, List<EdgeStats> edges,
                           List<String> unreachable) {

  /**
   * A service.
   *
   * @param id {@code namespace/service}
   * @param namespace its namespace
   * @param service its name
   * @param versions versions seen calling or called
   */
  public record Node(String id, String namespace, String service, List<String> versions) {}

  /** Merges each edge's windows and builds the graph; {@code windows} may hold any edges. */
  public static ServiceGraph of(List<EdgeMetrics> windows, Instant from, Instant to,
                                EdgeAggregation aggregation, List<String> unreachable) {
    double seconds = Math.max(1e-3, Duration.between(from, to).toMillis() / 1000.0);
    Map<String, EdgeMetrics> byEdge = mergeByEdge(windows, aggregation);
    Map<String, Node> nodes = new TreeMap<>();
    Map<String, TreeSet<String>> versions = new LinkedHashMap<>();
    List<EdgeStats> edges = new ArrayList<>();
    for (EdgeMetrics merged : byEdge.values()) {
      EdgeStats stats = EdgeStats.of(merged, seconds);
      edges.add(stats);
      for (Edge.End end : List.of(stats.source(), stats.destination())) {
        versions.computeIfAbsent(end.serviceId(), k -> new TreeSet<>()).add(end.version());
        nodes.putIfAbsent(end.serviceId(), new Node(end.serviceId(), end.namespace(), end.service(), List.of()));
      }
    }
    List<Node> nodeList = nodes.values().stream()
        .map(n -> new Node(n.id(), n.namespace(), n.service(), List.copyOf(versions.get(n.id()))))
        .toList();
    edges.sort(Comparator.comparing(EdgeStats::id));
    return new ServiceGraph(from, to, nodeList, edges, List.copyOf(unreachable));
  }

  /** Each edge's windows merged into one aggregate, by {@link Edge#id()}, sorted. */
  static Map<String, EdgeMetrics> mergeByEdge(List<EdgeMetrics> windows, EdgeAggregation aggregation) {
    Map<String, EdgeMetrics> byEdge = new TreeMap<>();
    for (EdgeMetrics w : windows) {
      byEdge.merge(Edge.of(w).id(), w, aggregation::merge);
    }
    return byEdge;
  }

  /** The edges into and out of one service ({@code namespace/service}). */
  public ServiceEdges edgesOf(String serviceId) {
    List<EdgeStats> inbound = edges.stream().filter(e -> e.destination().serviceId().equals(serviceId)).toList();
    List<EdgeStats> outbound = edges.stream().filter(e -> e.source().serviceId().equals(serviceId)).toList();
    return new ServiceEdges(serviceId, from, to, inbound, outbound, unreachable);
  }

  /**
   * One service's calls: who calls it, whom it calls.
   *
   * @param service {@code namespace/service}
   * @param from start of the range
   * @param to end of the range
   * @param inbound edges into it
   * @param outbound edges out of it
   * @param unreachable instances that did not answer
   */
  public record ServiceEdges(String service, Instant from, Instant to, List<EdgeStats> inbound,
                             List<EdgeStats> outbound, List<String> unreachable) {}
}
