package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.RequestEvent;
import org.junit.jupiter.api.Test;

class EdgeCallTest {

  private static final Instant T0 = Instant.parse("2026-11-24T10:00:00.123Z");

  @Test
  void aggregatesTheSameFromTheCallAsFromTheEvent() {
    EdgeAggregation aggregation = new EdgeAggregation(0.01);
    RequestEvent event = Requests.request("prod", "productpage", "v1", "reviews", "v2", 200, 7.5, T0, "DC");
    assertThat(aggregation.add(aggregation.empty(), EdgeCall.of(event)))
        .isEqualTo(aggregation.add(aggregation.empty(), event));
  }

  @Test
  void addLeavesTheGivenAggregateAloneWhileTheTopologysFoldUpdatesItsFreshCopy() {
    EdgeAggregation aggregation = new EdgeAggregation(0.01);
    EdgeCall call = EdgeCall.of(Requests.request("prod", "a", "v1", "b", "v1", 500, 3, T0, "UF"));
    EdgeMetrics one = aggregation.add(aggregation.empty(), call);
    EdgeMetrics copy = EdgeMetrics.newBuilder(one).build();
    EdgeMetrics two = aggregation.add(one, call);
    assertThat(one).isEqualTo(copy);
    assertThat(two.getRequests()).isEqualTo(2);
    assertThat(two.getResponseFlags()).containsEntry("UF", 2L);

    EdgeMetrics folded = aggregation.addInPlace(copy, call);
    assertThat(folded).isSameAs(copy);
    assertThat(folded.getLatencySketchFormat()).isEqualTo(LatencySketch.STORE_FORMAT);
    assertThat(EdgeAggregation.published(folded)).isEqualTo(two);
  }

}
