package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RegistryFlowTest {

  private static final long LEASE = 30_000;

  @Test
  void isSilentBeforeItsFirstRecordWhichResumesIt() {
    RegistryFlow flow = new RegistryFlow();
    assertThat(flow.silent(1_000)).isTrue();
    assertThat(flow.lapses(0, LEASE, 1_000_000)).isFalse();
    assertThat(flow.graceEnd(LEASE)).isEqualTo(Long.MIN_VALUE);

    assertThat(flow.recordArrived(1_000_000)).isTrue();
    flow.expectHeartbeatsWithin(LEASE);
    assertThat(flow.graceEnd(LEASE)).isEqualTo(1_030_000);
    assertThat(flow.lapses(0, LEASE, 1_029_999)).as("within a lease of the first record").isFalse();
  }

  @Test
  void countsAsSilentOnceQuietForHalfTheShortestExpectedLease() {
    RegistryFlow flow = new RegistryFlow();
    flow.recordArrived(0);
    flow.expectHeartbeatsWithin(LEASE);
    assertThat(flow.silent(15_000)).isFalse();
    assertThat(flow.silent(15_001)).isTrue();
    assertThat(flow.recordArrived(14_000)).as("a heartbeat within half a lease").isFalse();
    assertThat(flow.recordArrived(40_000)).as("the first record after a silence").isTrue();
  }

  @Test
  void lapsesAnEndedLeaseOnlyWhileFlowingAndAWholeLeaseAfterItResumed() {
    RegistryFlow flow = new RegistryFlow();
    flow.recordArrived(0);
    flow.expectHeartbeatsWithin(LEASE);
    for (long t = 10_000; t <= 40_000; t += 10_000) {
      flow.recordArrived(t);
    }
    assertThat(flow.lapses(0, LEASE, 40_000)).as("ended, flowing, resumed long ago").isTrue();
    assertThat(flow.lapses(0, LEASE, 56_000)).as("silent").isFalse();
    flow.recordArrived(56_000);
    assertThat(flow.lapses(0, LEASE, 60_000)).as("a lease after it resumed").isFalse();
    flow.recordArrived(66_000);
    flow.recordArrived(76_000);
    assertThat(flow.lapses(0, LEASE, 86_000)).isTrue();
  }

  @Test
  void withNoInstanceExpectedToHeartbeatAnyQuietIsSilence() {
    RegistryFlow flow = new RegistryFlow();
    flow.recordArrived(0);
    flow.expectHeartbeatsWithin(Long.MAX_VALUE);
    assertThat(flow.silent(0)).isFalse();
    assertThat(flow.silent(1)).isTrue();
  }
}
