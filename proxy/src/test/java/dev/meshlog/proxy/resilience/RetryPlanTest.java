package dev.meshlog.proxy.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import dev.meshlog.proxy.config.RetryConfig;
import dev.meshlog.proxy.config.RetryConfig.RetryOn;
import org.junit.jupiter.api.Test;

class RetryPlanTest {

  private static RetryConfig on(RetryOn... conditions) {
    return new RetryConfig(2, Duration.ZERO, EnumSet.of(conditions[0], conditions), Set.of(409 + 0,
        418), Duration.ofMillis(25), Duration.ofMillis(250));
  }

  @Test
  void gatewayErrorRetries503ButNot500() {
    RetryConfig c = on(RetryOn.GATEWAY_ERROR);

    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(503))).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(500))).isFalse();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.timeout())).isTrue();
  }

  @Test
  void fiveXxRetriesAny5xxAndEveryFailureWithoutAResponse() {
    RetryConfig c = on(RetryOn.FIVE_XX);

    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(500))).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.connectFailure())).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.reset())).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(404))).isFalse();
  }

  @Test
  void unavailableRetriesATrailersOnlyGrpcUnavailableButNotOtherGrpcErrors() {
    RetryConfig c = on(RetryOn.GRPC_UNAVAILABLE);

    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(200, 14))).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(200, 5))).isFalse();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(200))).isFalse();
  }

  @Test
  void connectFailureRetriesOnlyConnectFailures() {
    RetryConfig c = on(RetryOn.CONNECT_FAILURE);

    assertThat(RetryPlan.retriable(c, AttemptOutcome.connectFailure())).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.reset())).isFalse();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(503))).isFalse();
  }

  @Test
  void resetRetriesResetsAndPerTryTimeouts() {
    RetryConfig c = on(RetryOn.RESET);

    assertThat(RetryPlan.retriable(c, AttemptOutcome.reset())).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.timeout())).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(502))).isFalse();
  }

  @Test
  void resetRetriesRemoteResetsAndRefusedStreamsToo() {
    RetryConfig c = on(RetryOn.RESET);

    assertThat(RetryPlan.retriable(c, AttemptOutcome.remoteReset())).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.refusedStream())).isTrue();
  }

  @Test
  void refusedStreamRetriesOnlyStreamsTheUpstreamDidNotProcess() {
    RetryConfig c = on(RetryOn.REFUSED_STREAM);

    assertThat(RetryPlan.retriable(c, AttemptOutcome.refusedStream())).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.remoteReset())).isFalse();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.reset())).isFalse();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.timeout())).isFalse();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.protocolError())).isFalse();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.connectFailure())).isFalse();
  }

  @Test
  void retriable4xxRetriesConflictsOnly() {
    RetryConfig c = on(RetryOn.RETRIABLE_4XX);

    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(409))).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(404))).isFalse();
  }

  @Test
  void retriableStatusCodesRetriesTheListedStatuses() {
    RetryConfig c = on(RetryOn.RETRIABLE_STATUS_CODES);

    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(418))).isTrue();
    assertThat(RetryPlan.retriable(c, AttemptOutcome.response(503))).isFalse();
  }

  @Test
  void stopsAfterTheConfiguredAttempts() {
    RetryConfig c = on(RetryOn.FIVE_XX);

    assertThat(RetryPlan.shouldRetry(c, AttemptOutcome.response(503), 1, true)).isTrue();
    assertThat(RetryPlan.shouldRetry(c, AttemptOutcome.response(503), 2, true)).isTrue();
    assertThat(RetryPlan.shouldRetry(c, AttemptOutcome.response(503), 3, true)).isFalse();
  }

  @Test
  void doesNotRetryOnceTheBodyStreamedBeyondTheBuffer() {
    RetryConfig c = on(RetryOn.FIVE_XX);

    assertThat(RetryPlan.shouldRetry(c, AttemptOutcome.response(503), 1, false)).isFalse();
  }

  @Test
  void backoffIsFullyJitteredAndGrowsExponentiallyUpToTheMax() {
    RetryConfig c = on(RetryOn.FIVE_XX);
    Random random = new Random(7);

    long max1 = IntStream.range(0, 2000)
        .mapToLong(i -> RetryPlan.backoff(c, 1, random).toMillis()).max().orElseThrow();
    long max2 = IntStream.range(0, 2000)
        .mapToLong(i -> RetryPlan.backoff(c, 2, random).toMillis()).max().orElseThrow();
    long max9 = IntStream.range(0, 2000)
        .mapToLong(i -> RetryPlan.backoff(c, 9, random).toMillis()).max().orElseThrow();
    long min9 = IntStream.range(0, 2000)
        .mapToLong(i -> RetryPlan.backoff(c, 9, random).toMillis()).min().orElseThrow();

    assertThat(max1).isBetween(20L, 24L);
    assertThat(max2).isBetween(65L, 74L);
    assertThat(max9).isBetween(240L, 249L);
    assertThat(min9).isLessThan(10L);
  }
}
