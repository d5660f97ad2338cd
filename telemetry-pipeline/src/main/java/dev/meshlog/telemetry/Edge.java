package dev.meshlog.telemetry;

import java.util.Objects;

import dev.meshlog.events.telemetry.EdgeEnd;
import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.Workload;

/**
 * One edge of the dependency graph: calls from a source service version to a destination
 * service version, each in its namespace. Its {@link #id()} is the aggregation key.
 *
 * @param source the caller ({@code unknown} service when it is outside the mesh)
 * @param destination the callee
 */
public record Edge(End source, End destination) {

  /** The service name used when a caller is outside the mesh (Istio's {@code unknown}). */
  public static final String UNKNOWN = "unknown";

  /** One end of an edge: a service version in a namespace. */
  public record End(String namespace, String service, String version) {
    public End {
      namespace = namespace == null ? "" : namespace;
      service = service == null || service.isEmpty() ? UNKNOWN : service;
      version = version == null ? "" : version;
    }

    /** {@code namespace/service/version}. */
    public String id() {
      return namespace + "/" + service + "/" + version;
    }

    /** {@code namespace/service}, the version left out. */
    public String serviceId() {
      return namespace + "/" + service;
    }

    static End of(Workload w) {
      return new End(w.getNamespace(), w.getService(), w.getVersion());
    }

    static End of(EdgeEnd e) {
      return new End(e.getNamespace(), e.getService(), e.getVersion());
    }

    EdgeEnd toAvro() {
      return EdgeEnd.newBuilder().setNamespace(namespace).setService(service).setVersion(version).build();
    }
  }

  public Edge {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(destination, "destination");
  }

  /** The edge a request travelled. */
  public static Edge of(RequestEvent event) {
    return new Edge(End.of(event.getSource()), End.of(event.getDestination()));
  }

  /** The edge an aggregate describes. */
  public static Edge of(EdgeMetrics metrics) {
    return new Edge(End.of(metrics.getSource()), End.of(metrics.getDestination()));
  }

  /** {@code srcNs/srcService/srcVersion->dstNs/dstService/dstVersion}. */
  public String id() {
    return source.id() + "->" + destination.id();
  }

  /**
   * The key of one window of this edge on {@code mesh.telemetry.edges}:
   * {@code <id>@<windowStartMillis>/<windowSizeMillis>}.
   */
  public static String windowKey(String edgeId, long windowStartMillis, long windowSizeMillis) {
    return edgeId + "@" + windowStartMillis + "/" + windowSizeMillis;
  }
}
