package dev.meshlog.proxy.telemetry;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.TcpReport;
import dev.meshlog.events.telemetry.Workload;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ServiceName;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.http.ResponseFlag;

/**
 * Turns a finished request's access-log entry into the {@link RequestEvent} of one proxy and
 * its key on {@code mesh.telemetry.requests}, {@code srcNs/srcService->dstNs/dstService} (the
 * key TELEMETRY.md documents: one edge's events share a partition).
 *
 * <p>Who is who: an outbound request (reporter {@code SOURCE}) comes from this proxy's workload
 * and goes to the routed service, whose version, zone and cluster are those of the endpoint the
 * last try went to (none when the proxy answered itself). An inbound one ({@code DESTINATION})
 * goes to this proxy's workload and comes from the peer its caller's proxy named in {@code
 * x-meshlog-peer}, or from outside the mesh (service empty, workload {@code unknown}) without
 * one. A gateway's ({@code GATEWAY}) comes from the gateway itself, as Istio's ingress gateway
 * reports it.
 *
 * <p>For one thread (the emitter's): it remembers the workloads and keys it built, per upstream
 * endpoint and per peer header, so that events of the same edge share one {@link Workload} and
 * one key (no per-event allocation for them, and {@link RequestEventEncoder} writes a shared
 * workload's bytes once). The workloads it hands out must not be changed.
 */
public final class RequestEvents {

  /**
   * An event and its topic key, also as the UTF-8 bytes the topic holds (shared by every event
   * of the edge: the sink sends them as they are).
   */
  public record Keyed(String key, byte[] keyBytes, RequestEvent event) {}

  /** Entries each cache keeps before it starts over (endpoints and peers come and go). */
  static final int CACHE_ENTRIES = 256;

  /** Longer peer headers are decoded each time, not kept (they come from the caller). */
  static final int MAX_CACHED_PEER_CHARS = 256;

  /**
   * A workload of the other side and the key of the edge to or from it, with its bytes. Several
   * may have the same key (one per upstream endpoint of a service): group by {@link #key}.
   */
  record Edge(String host, Workload workload, String key, byte[] keyBytes) {
    Edge(String host, Workload workload, String key) {
      this(host, workload, key, key.getBytes(StandardCharsets.UTF_8));
    }
  }

  private final ProxyIdentity identity;
  private final String hostSuffix;
  /** This proxy's workload, built once: events only read it. */
  private final Workload self;
  /** Outbound destinations by the endpoint the last try went to (snapshots keep them). */
  private final Map<EndpointConfig, Edge> byEndpoint = new IdentityHashMap<>();
  /** Outbound destinations with no endpoint (the proxy answered itself), by host. */
  private final Map<String, Edge> byHost = new HashMap<>();
  /** Inbound sources by the caller's {@code x-meshlog-peer} header. */
  private final Map<String, Edge> byPeer = new HashMap<>();
  private final Edge outside;

  /** Events reported by the proxy {@code identity} in the cluster DNS domain {@code domain}. */
  public RequestEvents(ProxyIdentity identity, String domain) {
    this.identity = identity;
    this.hostSuffix = ServiceName.hostSuffix(domain);
    this.self = new Workload(nz(identity.workload()), nz(identity.service()),
        nz(identity.version()), nz(identity.namespace()), nz(identity.cluster()),
        nz(identity.zone()), null);
    Workload unknown = outside();
    this.outside = new Edge("", unknown, key(unknown, self));
  }

  /**
   * The event of {@code e}, or {@code null} for entries that are no HTTP request (a TCP
   * connection's reports are {@link TcpEvent}s, {@link #of(TcpEvent)}).
   */
  public Keyed of(AccessLogEntry e) {
    if ("TCP".equals(e.protocol())) {
      return null;
    }
    Reporter reporter = reporter(e);
    Edge edge = edge(reporter, e);
    String path = nz(e.path());
    int pathEnd = pathEnd(path);
    int pathStart = pathStart(path, pathEnd);
    path = pathStart < 0 ? "/" : path.substring(pathStart, pathEnd);
    List<String> flags = e.flags().isEmpty() ? List.of() : new ArrayList<>(e.flags().size());
    if (!e.flags().isEmpty()) {
      for (ResponseFlag f : FLAGS) {
        if (e.flags().contains(f)) {
          flags.add(f.name());
        }
      }
    }
    int grpc = grpcStatus(e.grpcStatus());
    // The all-args constructor, not the builder: the builder's per-field validation and default
    // look-ups cost more than the rest of the event (every string here is non-null already).
    RequestEvent event = new RequestEvent(nz(e.requestId()), traceId(e.traceparent()), reporter,
        identity.proxyId(), reporter == Reporter.DESTINATION ? edge.workload() : self,
        reporter == Reporter.DESTINATION ? self : edge.workload(), protocol(e), nz(e.method()),
        nz(e.authority()), path, nz(e.route()), e.status(), grpc == NO_GRPC ? null : grpc,
        flags, false, Math.max(0, e.attempts() - 1), Math.max(0, e.bytesReceived()),
        Math.max(0, e.bytesSent()), micros(e), e.start(), 0L, null);
    return new Keyed(edge.key(), edge.keyBytes(), event);
  }

  /** The event of a TCP connection's report {@code t}. */
  public Keyed of(TcpEvent t) {
    AccessLogEntry e = t.entry();
    Reporter reporter = reporter(e);
    Edge edge = edge(reporter, e);
    List<String> flags = new ArrayList<>(e.flags().size());
    for (ResponseFlag f : FLAGS) {
      if (e.flags().contains(f)) {
        flags.add(f.name());
      }
    }
    RequestEvent event = new RequestEvent("", "", reporter, identity.proxyId(),
        reporter == Reporter.DESTINATION ? edge.workload() : self,
        reporter == Reporter.DESTINATION ? self : edge.workload(), TCP, "", nz(e.authority()),
        "", "", 0, null, flags, false, t.retries(), t.requestBytes(), t.responseBytes(),
        t.durationMicros(), e.start(), 0L, new TcpReport(t.opened(), t.closed()));
    return new Keyed(edge.key(), edge.keyBytes(), event);
  }

  /** The edge of TCP report {@code t} (its key, shared by its edge's events). */
  Edge edgeOf(TcpEvent t) {
    AccessLogEntry e = t.entry();
    return edge(reporter(e), e);
  }

  /**
   * Appends the Avro body (no header) of the event of TCP report {@code t}, whose
   * {@link #edgeOf(TcpEvent) edge} is {@code edge}, carrying {@code droppedBefore}, to
   * {@code out}: one item of a batch, as {@link #of(TcpEvent)} would build it.
   */
  void encodeBody(TcpEvent t, Edge edge, long droppedBefore, RequestEventEncoder out) {
    AccessLogEntry e = t.entry();
    Reporter reporter = reporter(e);
    out.string("");
    out.string("");
    out.varint(reporter.ordinal());
    out.repeatedString(PROXY_ID_SLOT, identity.proxyId());
    out.workload(reporter == Reporter.DESTINATION ? edge.workload() : self);
    out.workload(reporter == Reporter.DESTINATION ? self : edge.workload());
    out.repeatedString(PROTOCOL_SLOT, TCP);
    out.repeatedString(METHOD_SLOT, "");
    out.repeatedString(AUTHORITY_SLOT, nz(e.authority()));
    out.string("");
    out.repeatedString(ROUTE_SLOT, "");
    out.varint(0);
    out.optionalInt(false, 0);
    flags(e, out);
    out.bool(false);
    out.varint(t.retries());
    out.varint(t.requestBytes());
    out.varint(t.responseBytes());
    out.varint(t.durationMicros());
    out.startTime(e.start());
    out.varint(droppedBefore);
    out.tcpReport(t.opened(), t.closed());
  }

  /** The edge of {@code e} (its key, shared by its edge's events), or null for TCP entries. */
  Edge edgeOf(AccessLogEntry e) {
    if ("TCP".equals(e.protocol())) {
      return null;
    }
    return edge(reporter(e), e);
  }

  /**
   * Appends the Avro body (no header) of the event of {@code e}, whose {@link #edgeOf edge} is
   * {@code edge}, carrying {@code droppedBefore}, to {@code out}: one item of a batch.
   */
  void encodeBody(AccessLogEntry e, Edge edge, long droppedBefore, RequestEventEncoder out) {
    Reporter reporter = reporter(e);
    out.string(nz(e.requestId()));
    String tp = e.traceparent();
    if (hasTraceId(tp)) {
      out.string(tp, 3, 35);
    } else {
      out.string("");
    }
    out.varint(reporter.ordinal());
    // fields an edge's events (written one after the other) nearly always share
    out.repeatedString(PROXY_ID_SLOT, identity.proxyId());
    out.workload(reporter == Reporter.DESTINATION ? edge.workload() : self);
    out.workload(reporter == Reporter.DESTINATION ? self : edge.workload());
    out.repeatedString(PROTOCOL_SLOT, protocol(e));
    out.repeatedString(METHOD_SLOT, nz(e.method()));
    out.repeatedString(AUTHORITY_SLOT, nz(e.authority()));
    String path = nz(e.path());
    int pathEnd = pathEnd(path);
    int pathStart = pathStart(path, pathEnd);
    if (pathStart < 0) {
      out.string("/");
    } else {
      out.string(path, pathStart, pathEnd);
    }
    out.repeatedString(ROUTE_SLOT, nz(e.route()));
    out.varint(e.status());
    int grpc = grpcStatus(e.grpcStatus());
    out.optionalInt(grpc != NO_GRPC, grpc);
    flags(e, out);
    out.bool(false);
    out.varint(Math.max(0, e.attempts() - 1));
    out.varint(Math.max(0, e.bytesReceived()));
    out.varint(Math.max(0, e.bytesSent()));
    out.varint(micros(e));
    out.startTime(e.start());
    out.varint(droppedBefore);
    out.varint(0); // tcp: the union's null branch, no TCP report
  }

  /** Writes the response flags of {@code e}, an Avro array of strings, in a fixed order. */
  private static void flags(AccessLogEntry e, RequestEventEncoder out) {
    if (!e.flags().isEmpty()) {
      out.varint(e.flags().size());
      for (ResponseFlag f : FLAGS) {
        if (e.flags().contains(f)) {
          out.string(f.name());
        }
      }
    }
    out.varint(0);
  }

  /**
   * Writes the {@code LossReport} body of a loss-only record to {@code out} (after
   * {@link RequestEventEncoder#beginLossReport}): this proxy reporting {@code lost} events at
   * {@code at}, on the edge of {@code e} (an entry whose event it encoded; {@code edge} its
   * {@link #edgeOf edge}), with that event's reporter, so that the record has that edge's key.
   */
  void encodeLossReport(AccessLogEntry e, Edge edge, long lost, java.time.Instant at,
                        RequestEventEncoder out) {
    Reporter reporter = reporter(e);
    out.string(identity.proxyId());
    out.varint(reporter.ordinal());
    out.workload(reporter == Reporter.DESTINATION ? edge.workload() : self);
    out.workload(reporter == Reporter.DESTINATION ? self : edge.workload());
    out.varint(lost);
    out.startTime(at);
  }

  private static final ResponseFlag[] FLAGS = ResponseFlag.values();
  /** The protocol of TCP connections' reports. */
  static final String TCP = "tcp";
  /** The encoder's {@link RequestEventEncoder#repeatedString} slots of this event's fields. */
  private static final int PROXY_ID_SLOT = 0;
  private static final int PROTOCOL_SLOT = 1;
  private static final int METHOD_SLOT = 2;
  private static final int AUTHORITY_SLOT = 3;
  private static final int ROUTE_SLOT = 4;
  /** {@link #grpcStatus}: none, or not a number. */
  private static final int NO_GRPC = Integer.MIN_VALUE;

  private static Reporter reporter(AccessLogEntry e) {
    return switch (e.direction()) {
      case "inbound" -> Reporter.DESTINATION;
      case "gateway" -> Reporter.GATEWAY;
      default -> Reporter.SOURCE;
    };
  }

  /** The other side of the request: its caller when this proxy is the destination. */
  private Edge edge(Reporter reporter, AccessLogEntry e) {
    return reporter == Reporter.DESTINATION ? source(e.sourcePeer())
        : destination(e.destinationService(), e.upstream());
  }

  private static String protocol(AccessLogEntry e) {
    return e.grpcStatus() != null ? "grpc" : nz(e.protocol());
  }

  private static long micros(AccessLogEntry e) {
    return e.durationMicros() >= 0 ? e.durationMicros() : e.durationMillis() * 1_000;
  }

  /** Where the path's query starts, or its length. */
  private static int pathEnd(String path) {
    int q = path.indexOf('?');
    return q >= 0 ? q : path.length();
  }

  /**
   * Where the path starts in a request target that may be absolute ({@code http://host/p}), or
   * -1 when an absolute one has no path ({@code /} then).
   */
  private static int pathStart(String path, int end) {
    int scheme = path.indexOf("://");
    if (scheme > 0 && scheme < 6 && scheme + 3 <= end) {
      int slash = path.indexOf('/', scheme + 3);
      return slash < 0 || slash >= end ? -1 : slash;
    }
    return 0;
  }

  /** The caller named by {@code header}, or outside the mesh; remembered per header value. */
  private Edge source(String header) {
    if (header == null || header.isBlank()) {
      return outside;
    }
    Edge edge = byPeer.get(header);
    if (edge == null) {
      PeerMetadata peer = PeerMetadata.decode(header);
      if (peer == null) {
        edge = outside;
      } else {
        Workload w = new Workload(peer.workload(), peer.service(), peer.version(),
            peer.namespace(), peer.cluster(), peer.zone(), null);
        edge = new Edge(header, w, key(w, self));
      }
      if (header.length() <= MAX_CACHED_PEER_CHARS) {
        remember(byPeer, header, edge);
      }
    }
    return edge;
  }

  /** The routed service {@code host} on {@code endpoint}; remembered per endpoint. */
  private Edge destination(String host, EndpointConfig endpoint) {
    String h = host == null ? "" : host;
    Edge edge = endpoint == null ? byHost.get(h) : byEndpoint.get(endpoint);
    if (edge == null || !edge.host().equals(h)) {
      Workload w = destinationWorkload(h, endpoint);
      edge = new Edge(h, w, key(self, w));
      if (endpoint == null) {
        remember(byHost, h, edge);
      } else {
        remember(byEndpoint, endpoint, edge);
      }
    }
    return edge;
  }

  private static <K> void remember(Map<K, Edge> cache, K key, Edge edge) {
    if (cache.size() >= CACHE_ENTRIES) {
      cache.clear();
    }
    cache.put(key, edge);
  }

  /** The topic key of an event from {@code source} to {@code destination}. */
  public static String key(Workload source, Workload destination) {
    return source.getNamespace() + "/" + source.getService() + "->"
        + destination.getNamespace() + "/" + destination.getService();
  }

  /** The trace id of a W3C {@code traceparent} ({@code 00-<32 hex>-<16 hex>-<2 hex>}), or empty. */
  static String traceId(String traceparent) {
    return hasTraceId(traceparent) ? traceparent.substring(3, 35) : "";
  }

  private static boolean hasTraceId(String traceparent) {
    return traceparent != null && traceparent.length() >= 36 && traceparent.charAt(2) == '-'
        && traceparent.charAt(35) == '-';
  }

  private static Workload outside() {
    return new Workload("unknown", "", "", "", "", "", null);
  }

  /**
   * The routed service {@code host} ({@code name.namespace.svc.<domain>} for mesh services, any
   * other host — a ServiceEntry's — as the service with no namespace), on {@code endpoint}.
   */
  private Workload destinationWorkload(String host, EndpointConfig endpoint) {
    ServiceName name = ServiceName.of(host, hostSuffix);
    String service = name.name();
    String namespace = name.namespace();
    if (endpoint == null) {
      return new Workload(service, service, "", namespace, "", "", null);
    }
    String version = endpoint.labels().getOrDefault("version", "");
    return new Workload(version.isEmpty() ? service : service + "-" + version, service, version,
        namespace, nz(endpoint.cluster()), nz(endpoint.zone()), null);
  }

  private static int grpcStatus(String s) {
    if (s == null) {
      return NO_GRPC;
    }
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return NO_GRPC;
    }
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
