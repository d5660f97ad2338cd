package dev.meshlog.proxy.admin;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ServiceName;
import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.telemetry.PeerMetadata;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Istio's standard metrics, fed from the access log, under Istio's names, buckets and labels
 * so that its Grafana dashboards and Kiali read them: {@code istio_requests_total},
 * {@code istio_request_duration_milliseconds}, {@code istio_request_bytes} and
 * {@code istio_response_bytes} (histograms with Envoy's default buckets, as Istio's), and for
 * relayed TCP connections {@code istio_tcp_connections_opened_total},
 * {@code istio_tcp_connections_closed_total}, {@code istio_tcp_sent_bytes_total} and
 * {@code istio_tcp_received_bytes_total} (bytes counted as they pass, so a long-lived
 * connection's traffic shows while it is open). Every series
 * carries Istio's label set (reporter; source and destination workload, namespace, app,
 * version, cluster, canonical service and revision, principal; destination service, its name
 * and namespace; request protocol, response code, gRPC status, response flags, connection
 * security policy); what the proxy cannot know is {@code unknown}, as in Istio.
 *
 * <p>They are the Prometheus Java client's metrics (the library under Micrometer's Prometheus
 * registry, in the same registry and scrape), not Micrometer meters: a Micrometer distribution
 * summary also keeps a time-windowed maximum, reading the clock and compare-and-setting on
 * every record, ≈100 ns against the client's ≈17 ns per observation (proxy/README.md,
 * "Istio's metrics"), and a request feeds three histograms.
 */
public final class MeshMetrics implements AccessLog {

  /** Envoy's default histogram buckets (milliseconds, or bytes), which Istio's metrics use. */
  static final double[] BUCKETS = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
      10000, 30000, 60000, 300000, 600000, 1800000, 3600000};

  private static final String UNKNOWN = "unknown";
  /** Istio's labels of every metric, in the order {@link #labelValues} gives them. */
  private static final String[] LABELS = {"reporter",
      "source_workload", "source_workload_namespace", "source_app", "source_canonical_service",
      "source_version", "source_canonical_revision", "source_cluster", "source_principal",
      "destination_workload", "destination_workload_namespace", "destination_app",
      "destination_canonical_service", "destination_version", "destination_canonical_revision",
      "destination_cluster", "destination_principal", "destination_service",
      "destination_service_name", "destination_service_namespace", "request_protocol",
      "connection_security_policy", "response_flags"};
  /** A request's labels: {@link #LABELS} and its outcome. */
  private static final String[] REQUEST_LABELS = concat(LABELS, "response_code",
      "grpc_response_status");

  private final PrometheusMeterRegistry registry;
  private final ProxyIdentity self;
  private final String hostSuffix;
  private final Counter requests;
  private final Histogram duration;
  private final Histogram requestBytes;
  private final Histogram responseBytes;
  private final Counter tcpOpened;
  private final Counter tcpClosed;
  private final Counter tcpSent;
  private final Counter tcpReceived;
  /**
   * The meters of each label set seen, so a request costs one hash lookup rather than building
   * and sorting tags and having the registry compare them (about 3% of the event loop's time
   * under load, by JFR). The key holds only what varies per request; the other labels follow
   * from it and this proxy's identity.
   */
  private final ConcurrentHashMap<Labels, Meters> meters = new ConcurrentHashMap<>();

  /**
   * What tells one series from another: the reporting side; the source workload and the
   * caller's peer header (inbound); the destination service, and the version and cluster of the
   * endpoint the request went to ({@code endpoint} false when none: the proxy answered itself);
   * whether it went to a host outside the mesh ({@code passthrough}); the outcome.
   */
  private record Labels(boolean inbound, String sourceWorkload, String sourcePeer,
                        String destinationService, boolean endpoint, String destinationVersion,
                        String destinationCluster, int status, String grpcStatus,
                        String flags, boolean passthrough) {

    // Written out: every request looks its meters up, and the generated equals and hashCode go
    // through an indy bootstrap that showed in profiles.
    @Override
    public boolean equals(Object o) {
      return this == o || (o instanceof Labels l && status == l.status && inbound == l.inbound
          && endpoint == l.endpoint && passthrough == l.passthrough && sourceWorkload.equals(l.sourceWorkload)
          && sourcePeer.equals(l.sourcePeer) && destinationService.equals(l.destinationService)
          && destinationVersion.equals(l.destinationVersion)
          && destinationCluster.equals(l.destinationCluster) && grpcStatus.equals(l.grpcStatus)
          && flags.equals(l.flags));
    }

    @Override
    public int hashCode() {
      int h = sourceWorkload.hashCode();
      h = 31 * h + sourcePeer.hashCode();
      h = 31 * h + destinationService.hashCode();
      h = 31 * h + destinationVersion.hashCode();
      h = 31 * h + destinationCluster.hashCode();
      h = 31 * h + status;
      h = 31 * h + grpcStatus.hashCode();
      h = 31 * h + flags.hashCode();
      return 8 * h + (inbound ? 1 : 0) + (endpoint ? 2 : 0) + (passthrough ? 4 : 0);
    }
  }

  private record Meters(CounterDataPoint requests, DistributionDataPoint duration,
                        DistributionDataPoint requestBytes, DistributionDataPoint responseBytes) {}

  /** Metrics of the proxy {@code self} in the cluster DNS {@code domain}, in a new registry. */
  public MeshMetrics(ProxyIdentity self, String domain) {
    this(self, domain, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** Metrics of the proxy {@code self} in the cluster DNS {@code domain}, in {@code registry}. */
  public MeshMetrics(ProxyIdentity self, String domain, PrometheusMeterRegistry registry) {
    this.self = Objects.requireNonNull(self, "self");
    this.hostSuffix = ServiceName.hostSuffix(domain);
    this.registry = registry;
    PrometheusRegistry r = registry.getPrometheusRegistry();
    requests = counter("istio_requests", "Requests, by Istio's labels", REQUEST_LABELS, r);
    duration = histogram("istio_request_duration_milliseconds", "Request duration, ms", r);
    requestBytes = histogram("istio_request_bytes", "Request body size, bytes", r);
    responseBytes = histogram("istio_response_bytes", "Response body size, bytes", r);
    tcpOpened = counter("istio_tcp_connections_opened", "Relayed TCP connections opened",
        LABELS, r);
    tcpClosed = counter("istio_tcp_connections_closed", "Relayed TCP connections closed",
        LABELS, r);
    // Istio's definitions: received = bytes of the request (towards the destination), sent =
    // bytes of the response (from it), whichever side reports.
    tcpSent = counter("istio_tcp_sent_bytes",
        "Bytes relayed from the destination back to the source (the response's)", LABELS, r);
    tcpReceived = counter("istio_tcp_received_bytes",
        "Bytes relayed from the source towards the destination (the request's)", LABELS, r);
  }

  private static Counter counter(String name, String help, String[] labels,
                                 PrometheusRegistry r) {
    return Counter.builder().name(name).help(help).labelNames(labels).withoutExemplars()
        .register(r);
  }

  private static Histogram histogram(String name, String help, PrometheusRegistry r) {
    return ((Histogram.Builder) Histogram.builder().name(name).help(help)
        .labelNames(REQUEST_LABELS).classicOnly().classicUpperBounds(BUCKETS)
        .withoutExemplars()).register(r);
  }

  /** The registry, for other meters (JVM, pools). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  @Override
  public void log(AccessLogEntry e) {
    Labels labels = labels(e);
    if ("TCP".equals(e.protocol())) {
      // Its bytes were counted as they passed (tcpOpened); a connection that never opened has
      // none.
      tcpClosed.labelValues(labelValues(labels, "tcp", false)).inc();
      return;
    }
    Meters m = meters.get(labels);
    if (m == null) {
      m = meters.computeIfAbsent(labels, this::register);
    }
    m.requests().inc();
    m.duration().observe(e.durationMillis());
    m.requestBytes().observe(e.bytesReceived());
    m.responseBytes().observe(e.bytesSent());
  }

  /**
   * A connection that never opened (no route, no healthy upstream, a failed connect) is counted
   * opened as well as closed, as Istio counts the downstream connection it accepted: opened and
   * closed totals agree once every connection has ended.
   */
  @Override
  public void tcpClosed(AccessLogEntry closing, TcpBytes live) {
    if (live == TcpBytes.NONE) {
      tcpOpened.labelValues(labelValues(labels(closing), "tcp", false)).inc();
    }
    log(closing);
  }

  @Override
  public TcpBytes tcpOpened(AccessLogEntry opening) {
    String[] tcp = labelValues(labels(opening), "tcp", false);
    tcpOpened.labelValues(tcp).inc();
    // Istio's names: received = the request's bytes (towards the destination), sent = the
    // response's (from it).
    CounterDataPoint received = tcpReceived.labelValues(tcp);
    CounterDataPoint sent = tcpSent.labelValues(tcp);
    return new TcpBytes() {
      @Override
      public void towardsDestination(long bytes) {
        received.inc(bytes);
      }

      @Override
      public void fromDestination(long bytes) {
        sent.inc(bytes);
      }
    };
  }

  private static Labels labels(AccessLogEntry e) {
    boolean inbound = "inbound".equals(e.direction());
    EndpointConfig ep = inbound ? null : e.upstream();
    return new Labels(inbound, e.sourceWorkload() == null ? UNKNOWN : e.sourceWorkload(),
        inbound && e.sourcePeer() != null ? e.sourcePeer() : "",
        e.destinationService() == null ? UNKNOWN : e.destinationService(), ep != null,
        ep == null ? "" : ep.labels().getOrDefault("version", ""),
        ep == null || ep.cluster() == null ? "" : ep.cluster(), e.status(),
        e.grpcStatus() == null ? "" : e.grpcStatus(), e.flagString(),
        !inbound && Cluster.PASSTHROUGH.equals(e.cluster()));
  }

  private Meters register(Labels l) {
    String[] values = labelValues(l, l.grpcStatus().isEmpty() ? "http" : "grpc", true);
    return new Meters(requests.labelValues(values), duration.labelValues(values),
        requestBytes.labelValues(values), responseBytes.labelValues(values));
  }

  /**
   * Istio's labels of a series: this proxy is the source of outbound requests and the
   * destination of inbound ones; the other side is the caller's peer header (inbound) or the
   * routed service and the endpoint it went to (outbound).
   */
  private String[] labelValues(Labels l, String protocol, boolean withResponse) {
    String[] source;
    String[] destination;
    ServiceName service = ServiceName.of(l.destinationService(), hostSuffix);
    String serviceNamespace = orUnknown(service.namespace());
    if (l.inbound()) {
      PeerMetadata peer = PeerMetadata.decode(l.sourcePeer());
      source = peer == null
          ? workload(l.sourceWorkload(), UNKNOWN, UNKNOWN, "", "")
          : workload(peer.workload(), peer.namespace(), peer.service(), peer.version(),
              peer.cluster());
      destination = workload(self.workload(), self.namespace(), self.service(), self.version(),
          self.cluster());
    } else {
      source = workload(l.sourceWorkload(), self.namespace(), self.service(), self.version(),
          self.cluster());
      destination = l.endpoint() && !l.passthrough()
          ? workload(l.destinationVersion().isEmpty() ? service.name()
                  : service.name() + "-" + l.destinationVersion(), serviceNamespace,
              service.name(), l.destinationVersion(), l.destinationCluster())
          : workload(UNKNOWN, UNKNOWN, UNKNOWN, "", "");
    }
    String[] common = {l.inbound() ? "destination" : "source",
        source[0], source[1], source[2], source[2], source[3], source[4], source[5], UNKNOWN,
        destination[0], destination[1], destination[2], destination[2], destination[3],
        destination[4], destination[5], UNKNOWN,
        // A host outside the mesh: Istio names the service by its cluster, with no namespace.
        l.destinationService(), l.passthrough() ? Cluster.PASSTHROUGH : service.name(),
        l.passthrough() ? UNKNOWN : serviceNamespace, protocol,
        // no mTLS between proxies yet: plain text as the destination sees it
        l.inbound() ? "none" : UNKNOWN,
        l.flags()};
    return withResponse ? concat(common, Integer.toString(l.status()), l.grpcStatus()) : common;
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /**
   * A workload's labels: name, namespace, app (= canonical service), version, canonical
   * revision ({@code latest} without a version, as Istio), cluster.
   */
  private static String[] workload(String name, String namespace, String app, String version,
                                   String cluster) {
    return new String[] {orUnknown(name), orUnknown(namespace), orUnknown(app),
        orUnknown(version), version == null || version.isEmpty() ? "latest" : version,
        orUnknown(cluster)};
  }

  private static String orUnknown(String s) {
    return s == null || s.isEmpty() ? UNKNOWN : s;
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  /** Writes {@link #scrape()} to {@code out} as UTF-8, without the page in memory. */
  public void scrape(java.io.OutputStream out) throws java.io.IOException {
    registry.scrape(out);
  }
}
