package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
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

  @Test
  void writesTheStartTimeExactlyAsInstantPrintsIt() {
    List<Instant> times = new ArrayList<>(List.of(
        Instant.parse("2026-11-24T12:00:00Z"), Instant.parse("2026-11-24T12:00:00.001Z"),
        Instant.parse("2026-11-24T12:00:59.120Z"), Instant.parse("2026-11-24T12:00:59.000120Z"),
        Instant.parse("2026-11-24T12:00:59.000000120Z"), Instant.parse("1970-01-01T00:00:00Z"),
        Instant.parse("0999-03-04T05:06:07.890Z"), Instant.parse("9999-12-31T23:59:59.999999999Z"),
        Instant.parse("+10000-01-01T00:00:00Z"), Instant.parse("1969-12-31T23:59:59.500Z"),
        Instant.parse("2024-02-29T23:59:59.999Z")));
    Random random = new Random(42);
    for (int i = 0; i < 10_000; i++) {
      times.add(Instant.ofEpochMilli(random.nextLong(4_102_444_800_000L)));
      // the same second twice in a row: the second is written from what the first formatted
      Instant last = times.get(times.size() - 1);
      times.add(Instant.ofEpochSecond(last.getEpochSecond(), random.nextInt(1_000_000_000)));
    }

    for (Instant t : times) {
      assertThat(AccessLogEntry.appendInstant(new StringBuilder(), t).toString())
          .isEqualTo(t.toString());
    }
  }
}
