package dev.meshlog.proxy.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import dev.meshlog.proxy.config.OutlierConfig;
import dev.meshlog.proxy.support.MutableClock;
import org.junit.jupiter.api.Test;

class OutlierDetectorTest {

  private final MutableClock clock = new MutableClock();
  private final OutlierState a = new OutlierState();
  private final OutlierState b = new OutlierState();
  private final OutlierState c = new OutlierState();
  private final OutlierState d = new OutlierState();
  private final List<OutlierState> cluster = List.of(a, b, c, d);

  private static OutlierConfig fiveXx(int n, int maxPercent) {
    return new OutlierConfig(n, 0, Duration.ofSeconds(10), Duration.ofSeconds(30), maxPercent, 0);
  }

  private void record(OutlierDetector od, OutlierState s, AttemptOutcome o, int times) {
    for (int i = 0; i < times; i++) {
      od.record(s, o, cluster);
    }
  }

  @Test
  void ejectsAnEndpointAfterConsecutive5xx() {
    OutlierDetector od = new OutlierDetector(fiveXx(3, 100), clock);

    record(od, a, AttemptOutcome.response(500), 2);
    assertThat(od.isEjected(a)).isFalse();
    record(od, a, AttemptOutcome.response(500), 1);

    assertThat(od.isEjected(a)).isTrue();
  }

  @Test
  void aSuccessBreaksTheStreak() {
    OutlierDetector od = new OutlierDetector(fiveXx(3, 100), clock);

    record(od, a, AttemptOutcome.response(503), 2);
    record(od, a, AttemptOutcome.response(200), 1);
    record(od, a, AttemptOutcome.response(503), 2);

    assertThat(od.isEjected(a)).isFalse();
  }

  @Test
  void returnsTheEndpointAfterTheBaseEjectionTime() {
    OutlierDetector od = new OutlierDetector(fiveXx(1, 100), clock);
    record(od, a, AttemptOutcome.response(503), 1);

    clock.advance(Duration.ofSeconds(29));
    assertThat(od.isEjected(a)).isTrue();
    clock.advance(Duration.ofSeconds(1));

    assertThat(od.isEjected(a)).isFalse();
  }

  @Test
  void aSecondEjectionLastsTwiceAsLong() {
    OutlierDetector od = new OutlierDetector(fiveXx(1, 100), clock);
    record(od, a, AttemptOutcome.response(503), 1);
    clock.advance(Duration.ofSeconds(30));
    record(od, a, AttemptOutcome.response(503), 1);

    clock.advance(Duration.ofSeconds(59));
    assertThat(od.isEjected(a)).isTrue();
    clock.advance(Duration.ofSeconds(1));

    assertThat(od.isEjected(a)).isFalse();
    assertThat(a.ejections()).isEqualTo(2);
  }

  @Test
  void theEjectionMultiplierDecaysWhileTheEndpointBehaves() {
    OutlierDetector od = new OutlierDetector(fiveXx(1, 100), clock);
    record(od, a, AttemptOutcome.response(503), 1);
    clock.advance(Duration.ofSeconds(30 + 10));
    record(od, a, AttemptOutcome.response(503), 1);

    clock.advance(Duration.ofSeconds(30));

    assertThat(od.isEjected(a)).isFalse();
  }

  @Test
  void neverEjectsMoreThanMaxEjectionPercentOfTheCluster() {
    OutlierDetector od = new OutlierDetector(fiveXx(1, 50), clock);

    record(od, a, AttemptOutcome.response(503), 1);
    record(od, b, AttemptOutcome.response(503), 1);
    record(od, c, AttemptOutcome.response(503), 1);

    assertThat(List.of(od.isEjected(a), od.isEjected(b), od.isEjected(c)))
        .containsExactly(true, true, false);
  }

  @Test
  void alwaysAllowsOneEjectionWhenTheLimitIsAboveZero() {
    OutlierDetector od = new OutlierDetector(fiveXx(1, 10), clock);

    record(od, a, AttemptOutcome.response(503), 1);

    assertThat(od.isEjected(a)).isTrue();
  }

  @Test
  void gatewayErrorsCount503AndConnectFailuresButNot500() {
    OutlierConfig gw = new OutlierConfig(0, 2, Duration.ofSeconds(10), Duration.ofSeconds(30),
        100, 0);
    OutlierDetector od = new OutlierDetector(gw, clock);

    record(od, a, AttemptOutcome.response(500), 5);
    record(od, b, AttemptOutcome.response(503), 1);
    record(od, b, AttemptOutcome.connectFailure(), 1);

    assertThat(od.isEjected(a)).isFalse();
    assertThat(od.isEjected(b)).isTrue();
  }

  @Test
  void doesNothingWhenDisabled() {
    OutlierDetector od = new OutlierDetector(OutlierConfig.DISABLED, clock);

    record(od, a, AttemptOutcome.response(503), 100);

    assertThat(od.isEjected(a)).isFalse();
  }
}
