package dev.meshlog.proxy.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.meshlog.proxy.config.PoolLimits;
import dev.meshlog.proxy.resilience.CircuitBreaker.Admission;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

  private static PoolLimits limits(int connections, int pending, int requests, int retries) {
    return new PoolLimits(connections, pending, requests, retries, Duration.ofSeconds(1),
        Duration.ZERO);
  }

  private final List<String> admitted = new ArrayList<>();

  private CircuitBreaker.Waiter waiter(String name) {
    return () -> admitted.add(name);
  }

  @Test
  void admitsUpToMaxConnectionsThenQueuesUpToMaxPendingThenOverflows() {
    CircuitBreaker cb = new CircuitBreaker(limits(1, 1, 100, 100));

    assertThat(cb.acquire(waiter("a"))).isEqualTo(Admission.ADMITTED);
    assertThat(cb.acquire(waiter("b"))).isEqualTo(Admission.QUEUED);
    assertThat(cb.acquire(waiter("c"))).isEqualTo(Admission.OVERFLOW);
    assertThat(cb.overflows()).isEqualTo(1);
  }

  @Test
  void aReleasedSlotGoesToTheFirstWaiter() {
    CircuitBreaker cb = new CircuitBreaker(limits(1, 2, 100, 100));
    cb.acquire(waiter("a"));
    cb.acquire(waiter("b"));
    cb.acquire(waiter("c"));

    cb.release();

    assertThat(admitted).containsExactly("b");
    assertThat(cb.active()).isEqualTo(1);
    assertThat(cb.pending()).isEqualTo(1);
  }

  @Test
  void maxRequestsCapsRequestsInFlightAndWaiting() {
    CircuitBreaker cb = new CircuitBreaker(limits(1, 10, 2, 100));

    cb.acquire(waiter("a"));
    cb.acquire(waiter("b"));

    assertThat(cb.acquire(waiter("c"))).isEqualTo(Admission.OVERFLOW);
  }

  @Test
  void zeroPendingRequestsOverflowsAsSoonAsConnectionsAreBusy() {
    CircuitBreaker cb = new CircuitBreaker(limits(2, 0, 100, 100));

    cb.acquire(waiter("a"));
    cb.acquire(waiter("b"));

    assertThat(cb.acquire(waiter("c"))).isEqualTo(Admission.OVERFLOW);
    cb.release();
    assertThat(cb.acquire(waiter("d"))).isEqualTo(Admission.ADMITTED);
  }

  @Test
  void aCancelledWaiterNeverGetsASlot() {
    CircuitBreaker cb = new CircuitBreaker(limits(1, 1, 100, 100));
    cb.acquire(waiter("a"));
    CircuitBreaker.Waiter b = waiter("b");
    cb.acquire(b);

    assertThat(cb.cancel(b)).isTrue();
    cb.release();

    assertThat(admitted).isEmpty();
    assertThat(cb.active()).isZero();
  }

  @Test
  void capsRetriesInFlightAtMaxRetries() {
    CircuitBreaker cb = new CircuitBreaker(limits(10, 10, 100, 1));

    assertThat(cb.tryAcquireRetry()).isTrue();
    assertThat(cb.tryAcquireRetry()).isFalse();
    cb.releaseRetry();
    assertThat(cb.tryAcquireRetry()).isTrue();
  }
}
