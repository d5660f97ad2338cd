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
 * calls between service versions as edges with their rate, errors and latency (and relayed TCP
 * connections as edges with their connections and bytes, {@link EdgeStats#tcp}), and the request
 * events proxies reported lost, which no count here includes.
 *
 * @param from start of the range (inclusive)
 * @param to end of the range
 * @param nodes every service that called or was called, sorted by id
 * @param edges every edge with traffic (requests, TCP connections or both), sorted by id
 * @param unreachable instances that did not answer, so the graph lacks their partitions
 *     (empty when the graph is whole)
 * @param lostReported request events the proxies reported lost in the range (their
 *     {@code droppedBefore}, on events in the range): the counts of the edges are short by this
 *     much in all; 0 when nothing was lost. Per reporting service in {@link Node#lostReported}
 */
public record ServiceGraph(Instant from, Instant to, List<Node> nodes, List<EdgeStats> edges,
                           List<String> unreachable, long lostReported) {

  /**
   * A service.
   *
   * @param id {@code namespace/service}
   * @param namespace its namespace
   * @param service its name
   * @param versions versions seen calling or called
   * @param lostReported request events this service's proxies reported lost in the range (as
   *     the reporting side: a caller's outbound, a callee's inbound events), 0 when none
   * @param lostReportedByVersion the same per version of the service (its workloads), only the
   *     versions that reported a loss
   */
  public record Node(String id, String namespace, String service, List<String> versions,
                     long lostReported, Map<String, Long> lostReportedByVersion) {}

  /** Merges each edge's windows and builds the graph; {@code windows} may hold any edges. */
  public static ServiceGraph of(List<EdgeMetrics> windows, Instant from, Instant to,
                                EdgeAggregation aggregation, List<String> unreachable) {
    double seconds = Math.max(1e-3, Duration.between(from, to).toMillis() / 1000.0);
    Map<String, EdgeMetrics> byEdge = mergeByEdge(windows, aggregation);
    Map<String, Node> nodes = new TreeMap<>();
    Map<String, TreeSet<String>> versions = new LinkedHashMap<>();
    Map<String, Map<String, Long>> lost = new LinkedHashMap<>();
    long lostTotal = 0;
    List<EdgeStats> edges = new ArrayList<>();
    for (EdgeMetrics merged : byEdge.values()) {
      EdgeStats stats = EdgeStats.of(merged, seconds);
      // A proxy's loss rides on the next event it delivered, of whichever edge: it is the
      // reporting side's, the source's (outbound and gateway reports) or the destination's.
      long byDestination = merged.getLostReportedByDestination();
      long bySource = merged.getLostReported() - byDestination;
      lostTotal += merged.getLostReported();
      List<Edge.End> ends = new ArrayList<>(2);
      if (merged.getRequests() > 0 || EdgeAggregation.hasTcp(merged)) { // requests or TCP connections
        edges.add(stats);
        ends.add(stats.source());
        ends.add(stats.destination());
      }
      if (bySource > 0) {
        addLost(lost, stats.source(), bySource);
        ends.add(stats.source());
      }
      if (byDestination > 0) {
        addLost(lost, stats.destination(), byDestination);
        ends.add(stats.destination());
      }
      for (Edge.End end : ends) {
        versions.computeIfAbsent(end.serviceId(), k -> new TreeSet<>()).add(end.version());
        nodes.putIfAbsent(end.serviceId(), new Node(end.serviceId(), end.namespace(), end.service(), List.of(),
            0, Map.of()));
      }
    }
    List<Node> nodeList = nodes.values().stream()
        .map(n -> {
          Map<String, Long> byVersion = lost.getOrDefault(n.id(), Map.of());
          long sum = byVersion.values().stream().mapToLong(Long::longValue).sum();
          return new Node(n.id(), n.namespace(), n.service(), List.copyOf(versions.get(n.id())), sum,
              byVersion.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(byVersion));
        })
        .toList();
    edges.sort(Comparator.comparing(EdgeStats::id));
    return new ServiceGraph(from, to, nodeList, edges, List.copyOf(unreachable), lostTotal);
  }

  private static void addLost(Map<String, Map<String, Long>> lost, Edge.End end, long n) {
    lost.computeIfAbsent(end.serviceId(), k -> new TreeMap<>()).merge(end.version(), n, Long::sum);
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
    // every event a service's proxies report is of an edge into or out of it: a graph of the
    // edges that touch it holds all of its reported losses
    long lost = nodes.stream().filter(n -> n.id().equals(serviceId)).mapToLong(Node::lostReported).sum();
    return new ServiceEdges(serviceId, from, to, inbound, outbound, unreachable, lost);
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
   * @param lostReported request events this service's proxies reported lost in the range (see
   *     {@link Node#lostReported}): its calls' counts are short by up to this much
   */
  public record ServiceEdges(String service, Instant from, Instant to, List<EdgeStats> inbound,
                             List<EdgeStats> outbound, List<String> unreachable, long lostReported) {}
}
