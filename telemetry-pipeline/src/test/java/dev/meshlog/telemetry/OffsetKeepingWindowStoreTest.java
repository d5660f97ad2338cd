package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The offsets file of {@link OffsetKeepingWindowStore}: read back as written, and a missing or
 * damaged one is no offsets (the store then restores from its changelog), never an error.
 */
class OffsetKeepingWindowStoreTest {

  @Test
  void readsTheOffsetsOfACleanClose(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("edges-10s.offsets"),
        "app-edges-10s-changelog 3 1234\napp-edges-10s-changelog 4 0\n");
    assertThat(OffsetKeepingWindowStore.read(file)).isEqualTo(Map.of(
        new TopicPartition("app-edges-10s-changelog", 3), 1234L,
        new TopicPartition("app-edges-10s-changelog", 4), 0L));
  }

  @Test
  void readsAMissingOrDamagedFileAsNoOffsets(@TempDir Path dir) throws Exception {
    assertThat(OffsetKeepingWindowStore.read(dir.resolve("none.offsets"))).isEmpty();
    assertThat(OffsetKeepingWindowStore.read(Files.writeString(dir.resolve("a.offsets"), "topic 3\n"))).isEmpty();
    assertThat(OffsetKeepingWindowStore.read(Files.writeString(dir.resolve("b.offsets"), "topic x 12\n"))).isEmpty();
    assertThat(OffsetKeepingWindowStore.read(Files.write(dir.resolve("c.offsets"), new byte[] {(byte) 0xff, 0, 1})))
        .isEmpty();
  }

  @Test
  void keepsTheSuppliersShapeAndRefusesAStoreWithoutTimestamps() {
    var inner = Stores.persistentTimestampedWindowStore("w", Duration.ofHours(1), Duration.ofSeconds(10), false);
    var supplier = OffsetKeepingWindowStore.supplier(inner);
    assertThat(supplier.name()).isEqualTo("w");
    assertThat(supplier.windowSize()).isEqualTo(10_000);
    assertThat(supplier.retentionPeriod()).isEqualTo(3_600_000);
    assertThat(supplier.segmentIntervalMs()).isEqualTo(inner.segmentIntervalMs());
    assertThat(supplier.get().persistent()).isTrue();
    var plain = OffsetKeepingWindowStore.supplier(
        Stores.persistentWindowStore("p", Duration.ofHours(1), Duration.ofSeconds(10), false));
    org.assertj.core.api.Assertions.assertThatThrownBy(plain::get)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("store p:").hasMessageContaining("expected: a persistent timestamped window store");
  }
}
