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
    assertThat(Durations.parse("7ns")).isEqualTo(Duration.ofNanos(7));
  }

  @Test
  void rejectsTextThatIsNotADurationNamingIt() {
    assertThatThrownBy(() -> Durations.parse("10 seconds"))
        .hasMessage("duration: 10 seconds (expected e.g. 10s, 250ms, 1m30s)");
    assertThatThrownBy(() -> Durations.parse("5"))
        .hasMessage("duration: 5 (expected e.g. 10s, 250ms, 1m30s)");
    assertThatThrownBy(() -> Durations.parse(""))
        .hasMessage("duration: empty (expected e.g. 10s, 250ms, 1m30s)");
  }
}
