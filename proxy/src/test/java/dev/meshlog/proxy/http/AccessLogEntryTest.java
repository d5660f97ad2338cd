package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Set;

import org.junit.jupiter.api.Test;

class AccessLogEntryTest {

  @Test
  void printsAnEnvoyStyleLineWithFlagsInEnvoysOrder() {
    AccessLogEntry e = new AccessLogEntry(Instant.parse("2026-11-24T12:00:00Z"), "outbound",
        "GET", "/reviews/1", "HTTP/1.1", 503, Set.of(ResponseFlag.URX, ResponseFlag.UF), 0, 95,
        12, -1, "r-1", "reviews:9080", "curl/8", "127.0.0.1:15006",
        "outbound||v1|reviews.default.svc.cluster.local", "r", 3, "productpage-v1",
        "reviews.default.svc.cluster.local");

    assertThat(e.line()).isEqualTo("[2026-11-24T12:00:00Z] \"GET /reviews/1 HTTP/1.1\" 503 UF,URX"
        + " 0 95 12 - \"curl/8\" \"r-1\" \"reviews:9080\" \"127.0.0.1:15006\" outbound "
        + "outbound||v1|reviews.default.svc.cluster.local r attempts=3");
  }

  @Test
  void printsADashWithoutFlags() {
    AccessLogEntry e = new AccessLogEntry(Instant.EPOCH, "inbound", "GET", "/", "HTTP/1.1", 200,
        Set.of(), 0, 0, 0, 0, null, null, null, null, null, null, 1, "unknown", "unknown");

    assertThat(e.flagString()).isEqualTo("-");
  }
}
