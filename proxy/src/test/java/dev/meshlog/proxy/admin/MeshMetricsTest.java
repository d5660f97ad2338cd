package dev.meshlog.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Set;

import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.http.ResponseFlag;
import org.junit.jupiter.api.Test;

class MeshMetricsTest {

  private static AccessLogEntry entry(String direction, int status, Set<ResponseFlag> flags,
                                      long millis) {
    return new AccessLogEntry(Instant.EPOCH, direction, "GET", "/", "HTTP/1.1", status, flags,
        0, 0, millis, -1, "id", "reviews", null, null, null, null, 1, "productpage-v1",
        "reviews.default.svc.cluster.local");
  }

  @Test
  void exposesIstiosRequestCounterWithItsLabels() {
    MeshMetrics m = new MeshMetrics();

    m.log(entry("outbound", 503, Set.of(ResponseFlag.UO), 3));
    m.log(entry("outbound", 503, Set.of(ResponseFlag.UO), 4));

    assertThat(m.scrape()).contains("istio_requests_total{destination_service="
        + "\"reviews.default.svc.cluster.local\",grpc_response_status=\"\",reporter=\"source\","
        + "response_code=\"503\","
        + "response_flags=\"UO\",source_workload=\"productpage-v1\"} 2");
  }

  @Test
  void exposesIstiosDurationHistogramInMillisecondsWithItsBuckets() {
    MeshMetrics m = new MeshMetrics();

    m.log(entry("inbound", 200, Set.of(), 7));

    assertThat(m.scrape())
        .contains("istio_request_duration_milliseconds_bucket{")
        .containsPattern("le=\"5\\.0\"[^\\n]*} 0")
        .containsPattern("le=\"10\\.0\"[^\\n]*} 1")
        .contains("reporter=\"destination\"")
        .contains("istio_request_duration_milliseconds_sum{");
  }

  @Test
  void labelsGrpcCallsWithTheirGrpcStatus() {
    MeshMetrics m = new MeshMetrics();

    m.log(new AccessLogEntry(Instant.EPOCH, "inbound", "POST", "/reviews.Reviews/Get", "HTTP/2",
        200, Set.of(), 0, 0, 2, 1, "id", "reviews", null, null, null, null, 1, "productpage-v1",
        "reviews.default.svc.cluster.local", "14"));

    assertThat(m.scrape()).containsPattern(
        "istio_requests_total\\{[^}]*grpc_response_status=\"14\"[^}]*response_code=\"200\"[^}]*} 1");
  }

  @Test
  void countsRelayedTcpConnectionsAndTheirBytesUnderIstiosTcpNames() {
    MeshMetrics m = new MeshMetrics();

    m.log(new AccessLogEntry(Instant.EPOCH, "outbound", "-", "-", "TCP", 0, Set.of(), 8, 14, 3,
        -1, null, "db.default.svc.cluster.local:5432", null, null, null, null, 1,
        "productpage-v1", "db.default.svc.cluster.local"));

    assertThat(m.scrape())
        .containsPattern("istio_tcp_connections_closed_total\\{[^}]*reporter=\"source\"[^}]*} 1")
        .containsPattern("istio_tcp_sent_bytes_total\\{[^}]*} 8")
        .containsPattern("istio_tcp_received_bytes_total\\{[^}]*} 14")
        .doesNotContain("istio_requests_total{");
  }
}
