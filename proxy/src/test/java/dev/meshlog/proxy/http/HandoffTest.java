package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

class HandoffTest {

  @Test
  void takesUpToItsCapacityUntilItemsAreReleasedAndDrainsWhatIsLeftWhenStopped() {
    List<Integer> drained = new CopyOnWriteArrayList<>();
    Handoff<Integer>[] self = new Handoff[1];
    // A long interval: only stop() makes the thread drain (nothing here may depend on timing).
    self[0] = new Handoff<>("test-handoff", 3, Duration.ofHours(1), () -> {
      Integer i;
      while ((i = self[0].poll()) != null) {
        drained.add(i);
      }
    });
    Handoff<Integer> handoff = self[0];

    assertThat(handoff.offer(1)).isTrue();
    assertThat(handoff.offer(2)).isTrue();
    assertThat(handoff.offer(3)).isTrue();
    assertThat(handoff.offer(4)).as("capacity 3 in use").isFalse();
    handoff.release();
    assertThat(handoff.inUse()).isEqualTo(2);
    assertThat(handoff.offer(5)).isTrue();

    handoff.start().stop(Duration.ofSeconds(10));

    assertThat(drained).containsExactly(1, 2, 3, 5);
    assertThat(handoff.stopped()).isTrue();
    assertThat(handoff.offer(6)).as("stopped").isFalse();
  }

  @Test
  void refusesANonPositiveCapacity() {
    assertThatThrownBy(() -> new Handoff<String>("x", 0, Duration.ofMillis(10), () -> { }))
        .hasMessageContaining("capacity 0");
  }
}
