package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Arrays;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.RequestEvent;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class EdgeCallTest {

  private static final Instant T0 = Instant.parse("2026-11-24T10:00:00.123Z");

  @Test
  void keepsWhatAggregationReadsAcrossTheRepartitionTopic() {
    RequestEvent event = Requests.request("prod", "productpage", "v1", "reviews", "v2", 503, 12.345, T0, "UF", "-");
    EdgeCall call = EdgeCall.of(event);
    byte[] bytes = EdgeCall.SERDE.serializer().serialize("t", call);
    EdgeCall back = EdgeCall.SERDE.deserializer().deserialize("t", bytes);

    assertThat(back).isEqualTo(call);
    assertThat(back.edge().id()).isEqualTo("prod/productpage/v1->prod/reviews/v2");
    assertThat(back.responseCode()).isEqualTo(503);
    assertThat(back.responseFlags()).containsExactly("UF", "-");
    assertThat(back.requestBytes()).isEqualTo(100);
    assertThat(back.responseBytes()).isEqualTo(1000);
    assertThat(back.durationMicros()).isEqualTo(12_345);
    assertThat(back.startMillis()).isEqualTo(T0.toEpochMilli());
  }

  @Test
  void readsAWholeEventLeftOnTheRepartitionTopicByAnEarlierRelease() {
    RequestEvent event = Requests.request("prod", "productpage", "v1", "reviews", "v2", 200, 4, T0, "DC");
    byte[] old = dev.meshlog.schemas.AvroSerde.of(RequestEvent.class).serializer().serialize("t", event);
    assertThat(EdgeCall.SERDE.deserializer().deserialize("t", old)).isEqualTo(EdgeCall.of(event));
  }

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

  @Test
  void refusesTruncatedOrForeignBytesWithAClearError() {
    byte[] bytes = EdgeCall.SERDE.serializer().serialize("t",
        EdgeCall.of(Requests.request("prod", "a", "v1", "b", "v1", 200, 1, T0)));
    assertThatThrownBy(() -> EdgeCall.SERDE.deserializer().deserialize("t", Arrays.copyOf(bytes, bytes.length - 3)))
        .isInstanceOf(SerializationException.class).hasMessageContaining("truncated or corrupt");
    byte[] foreign = bytes.clone();
    foreign[0] = 9;
    assertThatThrownBy(() -> EdgeCall.SERDE.deserializer().deserialize("t", foreign))
        .isInstanceOf(SerializationException.class).hasMessageContaining("layout 9 (expected: 1)");
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 2);
    assertThatThrownBy(() -> EdgeCall.SERDE.deserializer().deserialize("t", longer))
        .isInstanceOf(SerializationException.class).hasMessageContaining("2 bytes after the value");
  }
}
