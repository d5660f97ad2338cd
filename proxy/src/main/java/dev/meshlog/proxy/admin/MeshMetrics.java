package dev.meshlog.proxy.admin;

import java.util.concurrent.ConcurrentHashMap;

import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.AccessLogEntry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Request metrics under Istio's standard names, fed from the access log:
 * {@code istio_requests_total} and {@code istio_request_duration_milliseconds} (with Istio's
 * buckets), labelled reporter, source_workload, destination_service, response_code,
 * grpc_response_status (empty unless the request was a gRPC call) and response_flags. Relayed
 * TCP connections count in {@code istio_tcp_connections_closed_total},
 * {@code istio_tcp_sent_bytes_total} and {@code istio_tcp_received_bytes_total} instead.
 */
public final class MeshMetrics implements AccessLog {

  /** Istio's default duration buckets, in milliseconds. */
  static final double[] BUCKETS_MS = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
      10000, 30000, 60000, 300000, 600000, 1800000, 3600000};

  private final PrometheusMeterRegistry registry;
  /**
   * The meters of each label set seen, so a request costs one hash lookup rather than building
   * and sorting tags and having the registry compare them (about 3% of the event loop's time
   * under load, by JFR).
   */
  private final ConcurrentHashMap<Labels, Meters> meters = new ConcurrentHashMap<>();

  private record Labels(String reporter, String sourceWorkload, String destinationService,
                        int status, String grpcStatus, String flags) {

    // Written out: every request looks its meters up, and the generated equals and hashCode go
    // through an indy bootstrap that showed in profiles.
    @Override
    public boolean equals(Object o) {
      return this == o || (o instanceof Labels l && status == l.status
          && reporter.equals(l.reporter) && sourceWorkload.equals(l.sourceWorkload)
          && destinationService.equals(l.destinationService) && grpcStatus.equals(l.grpcStatus)
          && flags.equals(l.flags));
    }

    @Override
    public int hashCode() {
      int h = reporter.hashCode();
      h = 31 * h + sourceWorkload.hashCode();
      h = 31 * h + destinationService.hashCode();
      h = 31 * h + status;
      h = 31 * h + grpcStatus.hashCode();
      return 31 * h + flags.hashCode();
    }
  }

  private record Meters(Counter requests, DistributionSummary duration) {}

  /** Metrics in a new Prometheus registry. */
  public MeshMetrics() {
    this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** Metrics in {@code registry}. */
  public MeshMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
  }

  /** The registry, for other meters (JVM, pools). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  @Override
  public void log(AccessLogEntry e) {
    if ("TCP".equals(e.protocol())) {
      Tags tcp = Tags.of(
          "reporter", "inbound".equals(e.direction()) ? "destination" : "source",
          "source_workload", e.sourceWorkload() == null ? "unknown" : e.sourceWorkload(),
          "destination_service", e.destinationService() == null ? "unknown"
              : e.destinationService(),
          "response_flags", e.flagString());
      Counter.builder("istio.tcp.connections.closed").tags(tcp).register(registry).increment();
      // Istio's names take the destination's view: sent = towards it, received = from it.
      Counter.builder("istio.tcp.sent.bytes").tags(tcp).register(registry)
          .increment(e.bytesReceived());
      Counter.builder("istio.tcp.received.bytes").tags(tcp).register(registry)
          .increment(e.bytesSent());
      return;
    }
    Labels labels = new Labels("inbound".equals(e.direction()) ? "destination" : "source",
        e.sourceWorkload() == null ? "unknown" : e.sourceWorkload(),
        e.destinationService() == null ? "unknown" : e.destinationService(), e.status(),
        e.grpcStatus() == null ? "" : e.grpcStatus(), e.flagString());
    Meters m = meters.get(labels);
    if (m == null) {
      m = meters.computeIfAbsent(labels, this::register);
    }
    m.requests().increment();
    m.duration().record(e.durationMillis());
  }

  private Meters register(Labels l) {
    Tags tags = Tags.of(
        "reporter", l.reporter(),
        "source_workload", l.sourceWorkload(),
        "destination_service", l.destinationService(),
        "response_code", Integer.toString(l.status()),
        "grpc_response_status", l.grpcStatus(),
        "response_flags", l.flags());
    return new Meters(Counter.builder("istio.requests").tags(tags).register(registry),
        DistributionSummary.builder("istio.request.duration.milliseconds").tags(tags)
            .serviceLevelObjectives(BUCKETS_MS).register(registry));
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }
}
