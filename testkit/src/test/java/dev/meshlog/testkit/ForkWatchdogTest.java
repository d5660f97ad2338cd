package dev.meshlog.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;

class ForkWatchdogTest {

  @Test
  void readsTheTimeoutInWholeSeconds() {
    assertThat(ForkWatchdog.seconds(" 1800 ")).isEqualTo(1800);
  }

  @Test
  void rejectsATimeoutThatIsNotAPositiveWholeNumberOfSeconds() {
    for (String value : new String[] {"30 m", "0", "-5", "1.5"}) {
      assertThatThrownBy(() -> ForkWatchdog.seconds(value))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("-Dmeshlog.test.fork.timeout.seconds=" + value
              + " (expected: a whole number of seconds, > 0)");
    }
  }

  @Test
  void theDumpHasEveryThreadsNameStateAndStack() throws InterruptedException {
    CountDownLatch open = new CountDownLatch(1);
    Thread parked = new Thread(() -> {
      try {
        open.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "parked-for-the-dump");
    parked.start();
    try {
      while (parked.getState() != Thread.State.WAITING) {
        Thread.onSpinWait();
      }
      assertThat(ForkWatchdog.threadDump())
          .contains("\"parked-for-the-dump\" Id=" + parked.getId() + " WAITING\n")
          .contains("java.util.concurrent.CountDownLatch.await(")
          .contains("\"" + Thread.currentThread().getName() + "\"");
    } finally {
      open.countDown();
      parked.join();
    }
  }
}
