package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.RequestEvent;
import org.junit.jupiter.api.Test;

class MutableAggregateTest {

  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");

  @Test
  void foldsTheSameAsEdgeAggregationAddAndReadsBackFromItsStoreRecord() {
    EdgeAggregation aggregation = new EdgeAggregation(0.01);
    Edge edge = new Edge(new Edge.End("prod", "a", "v1"), new Edge.End("prod", "b", "v2"));
    MutableAggregate mutable = MutableAggregate.empty(edge, 0, 0, 0.01);
    EdgeMetrics reference = aggregation.empty();
    SplittableRandom random = new SplittableRandom(3);
    String[][] flags = {{}, {"UH"}, {"-"}, {"UF", "URX"}, {" "}};
    for (int i = 0; i < 500; i++) {
      int code = new int[] {0, 101, 200, 204, 302, 404, 500, 503}[random.nextInt(8)];
      RequestEvent e = Requests.request("prod", "a", "v1", "b", "v2", code,
          Math.exp(random.nextGaussian() + 2), T0.plusMillis(random.nextInt(60_000)),
          flags[random.nextInt(flags.length)]);
      mutable.add(e.getResponseCode(), e.getResponseFlags().stream().map(CharSequence::toString).toList(),
          e.getRequestBytes(), e.getResponseBytes(), e.getDurationMicros(), e.getStartTime().toEpochMilli());
      reference = aggregation.add(reference, e);
    }
    EdgeMetrics published = mutable.toMetrics(LatencySketch.FORMAT);
    assertThat(published).isEqualTo(reference);

    EdgeMetrics stored = mutable.toMetrics(LatencySketch.STORE_FORMAT);
    MutableAggregate back = MutableAggregate.of(edge, 0, 0, stored, 0.01);
    assertThat(back.toMetrics(LatencySketch.FORMAT)).isEqualTo(reference);
    back.add(200, List.of("UH"), 1, 2, 3_000, T0.toEpochMilli());
    assertThat(back.toMetrics(LatencySketch.FORMAT).getRequests()).isEqualTo(501);
  }
}
