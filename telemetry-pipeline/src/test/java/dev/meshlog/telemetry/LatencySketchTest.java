package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Random;

import com.datadoghq.sketch.ddsketch.DDSketch;
import org.junit.jupiter.api.Test;

class LatencySketchTest {

  @Test
  void theStoreFormatReadsBackTheSameSketchAsTheProtobufOne() {
    DDSketch sketch = LatencySketch.empty(0.01);
    Random random = new Random(7);
    for (int i = 0; i < 2000; i++) {
      sketch.accept(Math.exp(3 + random.nextGaussian()));
    }
    DDSketch fromStore = LatencySketch.decode(ByteBuffer.wrap(LatencySketch.encodeCompact(sketch)),
        LatencySketch.STORE_FORMAT, 0.01);
    DDSketch fromProtobuf = LatencySketch.decode(ByteBuffer.wrap(LatencySketch.encode(sketch)),
        LatencySketch.FORMAT, 0.01);
    for (double q : new double[] {0, 0.5, 0.9, 0.99, 1}) {
      assertThat(fromStore.getValueAtQuantile(q)).isEqualTo(fromProtobuf.getValueAtQuantile(q))
          .isEqualTo(sketch.getValueAtQuantile(q));
    }
    assertThat(fromStore.getCount()).isEqualTo(2000);
    fromStore.mergeWith(fromProtobuf);
    assertThat(fromStore.getCount()).isEqualTo(4000);
  }

  @Test
  void refusesAnUnknownFormatOrForeignBytesWithAClearError() {
    assertThatThrownBy(() -> LatencySketch.decode(ByteBuffer.wrap(new byte[] {1}), "t-digest", 0.01))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("latencySketchFormat: t-digest (expected: ddsketch-protobuf or ddsketch)");
    assertThatThrownBy(() -> LatencySketch.decode(ByteBuffer.wrap(new byte[] {(byte) 0xff, 1}),
        LatencySketch.STORE_FORMAT, 0.01))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("latencySketch: not a ddsketch sketch");
  }
}
