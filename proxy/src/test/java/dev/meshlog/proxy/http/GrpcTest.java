package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class GrpcTest {

  @Test
  void readsEveryGrpcTimeoutUnit() {
    assertThat(Grpc.parseTimeout("2H")).isEqualTo(Duration.ofHours(2));
    assertThat(Grpc.parseTimeout("3M")).isEqualTo(Duration.ofMinutes(3));
    assertThat(Grpc.parseTimeout("4S")).isEqualTo(Duration.ofSeconds(4));
    assertThat(Grpc.parseTimeout("250m")).isEqualTo(Duration.ofMillis(250));
    assertThat(Grpc.parseTimeout("1500u")).isEqualTo(Duration.ofNanos(1_500_000));
    assertThat(Grpc.parseTimeout("99999999n")).isEqualTo(Duration.ofNanos(99_999_999));
  }

  @Test
  void refusesATimeoutWithoutUnitWithTooManyDigitsOrWithASign() {
    for (String bad : new String[] {"", "m", "250", "123456789S", "-1S", "1s", "1.5S", " 1S"}) {
      assertThatThrownBy(() -> Grpc.parseTimeout(bad))
          .hasMessage("grpc-timeout: " + bad + " (expected: 1 to 8 digits and a unit H, M, S, "
              + "m, u or n, e.g. 250m)");
    }
  }
}
