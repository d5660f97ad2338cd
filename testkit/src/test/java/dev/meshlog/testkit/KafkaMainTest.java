package dev.meshlog.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;

class KafkaMainTest {

  @Test
  void aConfigSettingIsSplitAtTheFirstEqualsSign() {
    assertThat(KafkaMain.setting("num.io.threads=2")).isEqualTo(Map.entry("num.io.threads", "2"));
    assertThat(KafkaMain.setting("listener.name.x.sasl=a=b")).isEqualTo(
        Map.entry("listener.name.x.sasl", "a=b"));
  }

  @Test
  void rejectsAConfigSettingWithoutAKey() {
    assertThatThrownBy(() -> KafkaMain.setting("=2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--config =2 (expected: KEY=VALUE, a broker setting such as num.io.threads=2)");
    assertThatThrownBy(() -> KafkaMain.setting("num.io.threads"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected: KEY=VALUE");
  }

  @Test
  void refusesASettingTheBrokerDoesNotKnow() {
    assertThatThrownBy(() -> KafkaMain.setting("num.io.thread=2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--config num.io.thread=2: num.io.thread is not a setting of"
            + " this Kafka broker (")
        .hasMessageContaining("refused");
    assertThat(KafkaMain.setting("log.segment.bytes=1048576"))
        .isEqualTo(Map.entry("log.segment.bytes", "1048576"));
  }
}
