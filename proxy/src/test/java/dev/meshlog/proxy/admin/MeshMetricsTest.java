package dev.meshlog.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.http.ResponseFlag;
import dev.meshlog.proxy.telemetry.PeerMetadata;
import org.junit.jupiter.api.Test;

class MeshMetricsTest {

  static final String REVIEWS = "reviews.default.svc.cluster.local";
  static final EndpointConfig REVIEWS_V2 = EndpointConfig.of("10.0.0.7", 9080,
      Map.of("app", "reviews", "version", "v2"), "zone-a", "c1");

  /** Metrics of a productpage v1 sidecar. */
  final MeshMetrics productpage = new MeshMetrics(
      ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1"), "cluster.local");
  /** Metrics of a reviews v2 sidecar. */
  final MeshMetrics reviews = new MeshMetrics(
      ProxyIdentity.of("reviews", "default", "v2", "zone-a", "c1"), "cluster.local");

  private static AccessLogEntry entry(String direction, int status, Set<ResponseFlag> flags,
                                      long millis, String grpcStatus, String peer,
                                      EndpointConfig upstream) {
    return new AccessLogEntry(Instant.EPOCH, direction, "GET", "/", "HTTP/1.1", status, flags,
        120, 2_000, millis, -1, "id", "reviews", null, null, null, null, 1, "productpage-v1",
        REVIEWS, grpcStatus, null, peer, upstream, millis * 1_000);
  }

  private static AccessLogEntry outbound(int status, Set<ResponseFlag> flags, long millis) {
    return entry("outbound", status, flags, millis, null, null, REVIEWS_V2);
  }

  @Test
  void exposesIstiosRequestCounterWithIstiosLabels() {
    productpage.log(outbound(503, Set.of(ResponseFlag.UO), 3));
    productpage.log(outbound(503, Set.of(ResponseFlag.UO), 4));

    assertThat(productpage.scrape()).contains("istio_requests_total{"
        + "connection_security_policy=\"unknown\","
        + "destination_app=\"reviews\",destination_canonical_revision=\"v2\","
        + "destination_canonical_service=\"reviews\",destination_cluster=\"c1\","
        + "destination_principal=\"unknown\",destination_service=\"" + REVIEWS + "\","
        + "destination_service_name=\"reviews\",destination_service_namespace=\"default\","
        + "destination_version=\"v2\",destination_workload=\"reviews-v2\","
        + "destination_workload_namespace=\"default\",grpc_response_status=\"\","
        + "reporter=\"source\",request_protocol=\"http\",response_code=\"503\","
        + "response_flags=\"UO\",source_app=\"productpage\","
        + "source_canonical_revision=\"v1\",source_canonical_service=\"productpage\","
        + "source_cluster=\"c1\",source_principal=\"unknown\",source_version=\"v1\","
        + "source_workload=\"productpage-v1\",source_workload_namespace=\"default\"} 2");
  }

  @Test
  void labelsARequestPassedThroughAsIstiosPassthroughCluster() {
    EndpointConfig outside = new EndpointConfig("PassthroughCluster/api.example.com:443",
        "203.0.113.9", 443, Map.of(), "", "", "", true, 1);
    productpage.log(new AccessLogEntry(Instant.EPOCH, "outbound", "GET", "/", "HTTP/1.1", 200,
        Set.of(), 0, 10, 1, 1, "id", "api.example.com:443", null, "203.0.113.9:443",
        "PassthroughCluster", "allow_any", 1, "productpage-v1", "api.example.com", null, null,
        null, outside, 1_000));

    assertThat(productpage.scrape()).contains("istio_requests_total{"
        + "connection_security_policy=\"unknown\","
        + "destination_app=\"unknown\",destination_canonical_revision=\"latest\","
        + "destination_canonical_service=\"unknown\",destination_cluster=\"unknown\","
        + "destination_principal=\"unknown\",destination_service=\"api.example.com\","
        + "destination_service_name=\"PassthroughCluster\","
        + "destination_service_namespace=\"unknown\",destination_version=\"unknown\","
        + "destination_workload=\"unknown\",destination_workload_namespace=\"unknown\","
        + "grpc_response_status=\"\",reporter=\"source\",request_protocol=\"http\","
        + "response_code=\"200\",response_flags=\"-\",source_app=\"productpage\"");
  }

  @Test
  void countsAnHttp2StreamTheCodecRefusedAsResponseCodeZeroWithDpe() {
    productpage.log(AccessLogEntry.malformedHttp2Stream(Instant.EPOCH, "outbound",
        "productpage-v1"));

    assertThat(productpage.scrape()).containsPattern("istio_requests_total\\{[^}]*"
        + "destination_service=\"unknown\"[^}]*reporter=\"source\"[^}]*"
        + "response_code=\"0\",response_flags=\"DPE\"[^}]*"
        + "source_workload=\"productpage-v1\"[^}]*\\} 1");
  }

  @Test
  void theDestinationNamesTheCallerFromItsPeerHeaderAndItselfAsTheDestination() {
    String peer = PeerMetadata.encode(ProxyIdentity.of("productpage", "shop", "v1", "", "c9"));

    reviews.log(entry("inbound", 200, Set.of(), 2, null, peer, null));

    assertThat(reviews.scrape())
        .containsPattern("istio_requests_total\\{[^}]*connection_security_policy=\"none\""
            + "[^}]*destination_version=\"v2\",destination_workload=\"reviews-v2\""
            + "[^}]*reporter=\"destination\"[^}]*source_cluster=\"c9\""
            + "[^}]*source_workload=\"productpage-v1\",source_workload_namespace=\"shop\"} 1");
  }

  @Test
  void aCallerOutsideTheMeshIsUnknown() {
    reviews.log(entry("inbound", 200, Set.of(), 2, null, null, null));

    assertThat(reviews.scrape()).containsPattern("istio_requests_total\\{[^}]*"
        + "source_app=\"unknown\",source_canonical_revision=\"latest\"[^}]*"
        + "source_workload_namespace=\"unknown\"} 1");
  }

  @Test
  void aRequestTheProxyAnsweredItselfHasNoDestinationWorkload() {
    productpage.log(entry("outbound", 503, Set.of(ResponseFlag.UH), 0, null, null, null));

    assertThat(productpage.scrape()).containsPattern("istio_requests_total\\{[^}]*"
        + "destination_service_name=\"reviews\",destination_service_namespace=\"default\","
        + "destination_version=\"unknown\",destination_workload=\"unknown\"[^}]*} 1");
  }

  @Test
  void exposesIstiosDurationHistogramInMillisecondsWithItsBuckets() {
    reviews.log(entry("inbound", 200, Set.of(), 7, null, null, null));

    assertThat(reviews.scrape())
        .contains("istio_request_duration_milliseconds_bucket{")
        .containsPattern("istio_request_duration_milliseconds_bucket\\{[^}]*le=\"5\\.0\"[^}]*} 0")
        .containsPattern("istio_request_duration_milliseconds_bucket\\{[^}]*le=\"10\\.0\"[^}]*} 1")
        .contains("istio_request_duration_milliseconds_sum{");
  }

  @Test
  void exposesIstiosRequestAndResponseSizeHistograms() {
    productpage.log(outbound(200, Set.of(), 1));

    assertThat(productpage.scrape())
        .containsPattern("istio_request_bytes_bucket\\{[^}]*le=\"100\\.0\"[^}]*} 0")
        .containsPattern("istio_request_bytes_bucket\\{[^}]*le=\"250\\.0\"[^}]*} 1")
        .containsPattern("istio_request_bytes_sum\\{[^}]*} 120")
        .containsPattern("istio_response_bytes_bucket\\{[^}]*le=\"1000\\.0\"[^}]*} 0")
        .containsPattern("istio_response_bytes_bucket\\{[^}]*le=\"2500\\.0\"[^}]*} 1")
        .containsPattern("istio_response_bytes_count\\{[^}]*} 1");
  }

  @Test
  void labelsGrpcCallsWithTheirGrpcStatusAndProtocol() {
    reviews.log(entry("inbound", 200, Set.of(), 2, "14", null, null));

    assertThat(reviews.scrape()).containsPattern("istio_requests_total\\{[^}]*"
        + "grpc_response_status=\"14\"[^}]*request_protocol=\"grpc\",response_code=\"200\""
        + "[^}]*} 1");
  }

  @Test
  void theBytesOfThePageAreThePageInUtf8() {
    productpage.log(outbound(200, Set.of(), 1));

    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try {
      productpage.scrape(out);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo(productpage.scrape());
  }

  private static AccessLogEntry tcp(long sent, long received) {
    return new AccessLogEntry(Instant.EPOCH, "outbound", "-", "-", "TCP", 0, Set.of(),
        sent, received, 3, -1, null, "db.default.svc.cluster.local:5432", null, null, null, null,
        1, "productpage-v1", "db.default.svc.cluster.local");
  }

  @Test
  void countsRelayedTcpConnectionsAndTheirBytesUnderIstiosTcpNamesWhileTheyAreOpen() {
    AccessLog.TcpBytes live = productpage.tcpOpened(tcp(0, 0));
    live.towardsDestination(5);
    live.fromDestination(14);
    live.towardsDestination(3);

    // Open: opened and its bytes so far, not closed yet.
    assertThat(productpage.scrape())
        .containsPattern("istio_tcp_connections_opened_total\\{[^}]*destination_service_name="
            + "\"db\"[^}]*reporter=\"source\",request_protocol=\"tcp\"[^}]*} 1")
        .containsPattern("istio_tcp_received_bytes_total\\{[^}]*} 8")
        .containsPattern("istio_tcp_sent_bytes_total\\{[^}]*} 14")
        .doesNotContainPattern("istio_tcp_connections_closed_total\\{")
        .doesNotContain("istio_requests_total{");

    productpage.log(tcp(8, 14));

    // Closed: counted once, and its bytes not again.
    assertThat(productpage.scrape())
        .containsPattern("istio_tcp_connections_closed_total\\{[^}]*} 1")
        .containsPattern("istio_tcp_received_bytes_total\\{[^}]*} 8")
        .containsPattern("istio_tcp_sent_bytes_total\\{[^}]*} 14");
  }

  @Test
  void aConnectionThatNeverOpenedIsCountedOpenedAndClosedAsIstioDoes() {
    productpage.tcpClosed(tcp(0, 0), AccessLog.TcpBytes.NONE);

    assertThat(productpage.scrape())
        .containsPattern("istio_tcp_connections_opened_total\\{[^}]*} 1")
        .containsPattern("istio_tcp_connections_closed_total\\{[^}]*} 1");
  }
}
