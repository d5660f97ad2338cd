package dev.meshlog.config.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void parsesEveryUnitIstioWrites() {
    assertThat(Durations.parse("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(Durations.parse("0.5s")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.parse("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(Durations.parse("100us")).isEqualTo(Duration.ofNanos(100_000));
    assertThat(Durations.parse("5ns")).isEqualTo(Duration.ofNanos(5));
    assertThat(Durations.parse("1h1m1s1ms")).isEqualTo(Duration.ofMillis(3_661_001));
  }

  @Test
  void rejectsTextThatIsNotADuration() {
    assertThatThrownBy(() -> Durations.parse("10")).hasMessage("duration: 10 (expected e.g. 10s, 250ms, 1m30s)");
    assertThatThrownBy(() -> Durations.parse("ten seconds")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Durations.parse("")).isInstanceOf(IllegalArgumentException.class);
  }
}
