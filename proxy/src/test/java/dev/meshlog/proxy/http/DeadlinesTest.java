package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

import io.netty.channel.DefaultEventLoop;
import org.junit.jupiter.api.Test;

class DeadlinesTest {

  /** A scheduler on a clock the test advances: tasks run when the clock reaches them. */
  static final class ManualLoop implements Deadlines.Scheduler {
    record Task(long at, long seq, Runnable run) {}

    long now = 1_000_000_000L;
    long seq;
    final PriorityQueue<Task> tasks = new PriorityQueue<>(
        Comparator.comparingLong(Task::at).thenComparingLong(Task::seq));
    int scheduled;

    @Override
    public void schedule(Runnable task, long delayNanos) {
      scheduled++;
      tasks.add(new Task(now + delayNanos, seq++, task));
    }

    void advance(long nanos) {
      long until = now + nanos;
      while (!tasks.isEmpty() && tasks.peek().at() <= until) {
        Task t = tasks.poll();
        now = Math.max(now, t.at());
        t.run().run();
      }
      now = until;
    }
  }

  static final class Named extends Deadlines.Entry {
    final String name;
    final List<String> log;

    Named(String name, List<String> log) {
      this.name = name;
      this.log = log;
    }

    @Override
    protected void expired() {
      log.add(name);
    }
  }

  private final ManualLoop loop = new ManualLoop();
  private final Deadlines deadlines = new Deadlines(loop, () -> loop.now);
  private final List<String> expired = new ArrayList<>();

  @Test
  void expiresEachEntryAtItsDeadlineAndNotBefore() {
    deadlines.arm(new Named("a", expired), 100);
    loop.advance(40);
    deadlines.arm(new Named("b", expired), 100);

    loop.advance(59);
    assertThat(expired).isEmpty();
    loop.advance(1);
    assertThat(expired).containsExactly("a");
    loop.advance(39);
    assertThat(expired).containsExactly("a");
    loop.advance(1);
    assertThat(expired).containsExactly("a", "b");
    assertThat(deadlines.armed()).isZero();
  }

  @Test
  void aCancelledEntryNeverExpiresAndIsNotKept() {
    Named a = new Named("a", expired);
    Named b = new Named("b", expired);
    Named c = new Named("c", expired);
    deadlines.arm(a, 100);
    deadlines.arm(b, 100);
    deadlines.arm(c, 100);

    Deadlines.cancel(b);
    Deadlines.cancel(a);
    assertThat(a.armed()).isFalse();
    assertThat(deadlines.armed()).isEqualTo(1);
    loop.advance(100);

    assertThat(expired).containsExactly("c");
    Deadlines.cancel(c);
    assertThat(expired).containsExactly("c");
  }

  @Test
  void oneTaskServesManyRequestsOfTheSameTimeout() {
    // 1,000 requests, 1 ns apart, each answered 1 ns after it came, under a 100 ns timeout.
    for (int i = 0; i < 1_000; i++) {
      Named e = new Named("r" + i, expired);
      deadlines.arm(e, 100);
      loop.advance(1);
      Deadlines.cancel(e);
    }
    loop.advance(1_000);

    assertThat(expired).isEmpty();
    // one task per timeout length's worth of time at most, not one per request
    assertThat(loop.scheduled).isLessThanOrEqualTo(1_000 / 100 + 2);
    assertThat(deadlines.pendingLanes()).isZero();
  }

  @Test
  void aShorterTimeoutIsNotHeldUpByALongerOne() {
    deadlines.arm(new Named("long", expired), 1_000);
    deadlines.arm(new Named("short", expired), 10);

    loop.advance(10);
    assertThat(expired).containsExactly("short");
    loop.advance(990);
    assertThat(expired).containsExactly("short", "long");
  }

  @Test
  void reArmingMovesTheDeadline() {
    Named a = new Named("a", expired);
    deadlines.arm(a, 100);
    loop.advance(50);
    deadlines.arm(a, 100);

    loop.advance(50);
    assertThat(expired).isEmpty();
    loop.advance(50);
    assertThat(expired).containsExactly("a");
  }

  @Test
  void anExpiryMayArmAnotherEntry() {
    List<String> log = expired;
    Named retry = new Named("retry", log);
    Deadlines.Entry first = new Deadlines.Entry() {
      @Override
      protected void expired() {
        log.add("first");
        deadlines.arm(retry, 100);
      }
    };
    deadlines.arm(first, 100);

    loop.advance(100);
    assertThat(expired).containsExactly("first");
    loop.advance(100);
    assertThat(expired).containsExactly("first", "retry");
  }

  @Test
  void timeoutsBeyondTheLanesGetATaskOfTheirOwn() {
    for (int i = 1; i <= Deadlines.LANES + 3; i++) {
      deadlines.arm(new Named("t" + i, expired), i * 10L);
    }
    Named solo = new Named("cancelled", expired);
    deadlines.arm(solo, 5_000);
    Deadlines.cancel(solo);

    loop.advance(10_000);
    assertThat(expired).hasSize(Deadlines.LANES + 3).doesNotContain("cancelled");
    assertThat(expired.get(0)).isEqualTo("t1");
    assertThat(expired.get(expired.size() - 1)).isEqualTo("t" + (Deadlines.LANES + 3));
  }

  @Test
  void anEmptyLaneIsReusedForAnotherTimeout() {
    for (int i = 1; i <= Deadlines.LANES; i++) {
      deadlines.arm(new Named("t" + i, expired), i * 10L);
    }
    loop.advance(1_000);
    int before = loop.scheduled;
    deadlines.arm(new Named("new", expired), 7);
    loop.advance(7);

    assertThat(expired).contains("new");
    assertThat(loop.scheduled - before).isEqualTo(1);
  }

  @Test
  void anExpiryThatThrowsDoesNotStopTheOthers() {
    deadlines.arm(new Deadlines.Entry() {
      @Override
      protected void expired() {
        throw new IllegalStateException("boom");
      }
    }, 10);
    deadlines.arm(new Named("after", expired), 10);

    loop.advance(10);
    assertThat(expired).containsExactly("after");
  }

  @Test
  void isUsedOnItsOwnEventLoopOnly() throws Exception {
    DefaultEventLoop nettyLoop = new DefaultEventLoop();
    try {
      assertThatThrownBy(() -> Deadlines.of(nettyLoop))
          .isInstanceOf(IllegalStateException.class);
      Deadlines onLoop = nettyLoop.submit(() -> Deadlines.of(nettyLoop)).get();
      assertThat(nettyLoop.submit(() -> Deadlines.of(nettyLoop)).get()).isSameAs(onLoop);
    } finally {
      nettyLoop.shutdownGracefully().sync();
    }
  }
}
