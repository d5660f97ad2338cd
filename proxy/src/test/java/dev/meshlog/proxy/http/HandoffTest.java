package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The hand-off's bound (queued plus unreleased), order, wake-ups and stop. */
class HandoffTest {

  /** Long enough that only a wake-up or a stop makes the ring drain within a test. */
  private static final Duration NEVER = Duration.ofHours(1);

  private final ConcurrentLinkedQueue<Integer> taken = new ConcurrentLinkedQueue<>();
  private Handoff<Integer> ring;

  private Handoff<Integer> ring(int capacity, Duration interval) {
    Handoff<Integer>[] self = new Handoff[1];
    ring = new Handoff<Integer>("ring-test", capacity, interval, () -> {
      Integer i;
      while ((i = self[0].poll()) != null) {
        taken.add(i);
      }
    });
    self[0] = ring;
    return ring.start();
  }

  @AfterEach
  void stop() {
    if (ring != null) {
      ring.stop(Duration.ofSeconds(5));
    }
  }

  @Test
  void refusesOffersBeyondItsCapacityUntilTakenItemsAreReleased() {
    ring(8, Duration.ofMillis(1));
    for (int i = 0; i < 8; i++) {
      assertThat(ring.offer(i)).isTrue();
    }
    assertThat(ring.offer(8)).isFalse();
    await().atMost(Duration.ofSeconds(10)).until(() -> taken.size() == 8);
    // taken but not released (e.g. not yet acknowledged by Kafka): still counted
    assertThat(ring.inUse()).isEqualTo(8);
    assertThat(ring.offer(9)).isFalse();

    ring.release();
    ring.release();
    assertThat(ring.inUse()).isEqualTo(6);
    assertThat(ring.offer(10)).isTrue();
    assertThat(ring.offer(11)).isTrue();
    assertThat(ring.offer(12)).isFalse();
    await().atMost(Duration.ofSeconds(10)).until(() -> taken.size() == 10);
    assertThat(taken).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 10, 11);
  }

  @Test
  void releasingABatchFreesAllItsItemsAtOnce() {
    ring(8, Duration.ofMillis(1));
    for (int i = 0; i < 8; i++) {
      assertThat(ring.offer(i)).isTrue();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> taken.size() == 8);
    ring.release(0);
    assertThat(ring.inUse()).isEqualTo(8);
    assertThat(ring.offer(8)).isFalse();

    ring.release(5); // e.g. one Kafka record holding five events, acknowledged
    assertThat(ring.inUse()).isEqualTo(3);
    for (int i = 8; i < 13; i++) {
      assertThat(ring.offer(i)).isTrue();
    }
    assertThat(ring.offer(13)).isFalse();
    await().atMost(Duration.ofSeconds(10)).until(() -> taken.size() == 13);
    assertThat(taken).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
  }

  @Test
  void rejectsANegativeRelease() {
    ring(8, NEVER);
    assertThatThrownBy(() -> ring.release(-1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1 items");
  }

  @Test
  void keepsItsBoundAcrossManyTurnsOfTheRing() {
    ring(5, Duration.ofMillis(1));
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      assertThat(ring.offer(i)).isTrue();
      expected.add(i);
      if (ring.inUse() == 5) {
        assertThat(ring.offer(-1)).isFalse();
        int want = expected.size();
        await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
            .atMost(Duration.ofSeconds(10)).until(() -> taken.size() == want);
        for (int r = 0; r < 5; r++) {
          ring.release();
        }
      }
    }
    ring.stop(Duration.ofSeconds(5));
    assertThat(taken).containsExactlyElementsOf(expected);
  }

  @Test
  void wakesItsThreadWhenAQuarterOfTheCapacityIsQueued() {
    ring(40, NEVER);
    for (int i = 0; i < 9; i++) {
      ring.offer(i);
    }
    assertThat(taken).isEmpty();
    ring.offer(9);
    await().atMost(Duration.ofSeconds(10)).until(() -> taken.size() == 10);
  }

  @Test
  void wakesItsThreadAtItsOwnMarkLongBeforeAQuarterOfTheCapacity() {
    Handoff<Integer>[] self = new Handoff[1];
    ring = new Handoff<Integer>("ring-test", 1000, 5, NEVER, () -> {
      Integer i;
      while ((i = self[0].poll()) != null) {
        taken.add(i);
      }
    });
    self[0] = ring;
    ring.start();
    for (int i = 0; i < 4; i++) {
      ring.offer(i);
    }
    assertThat(taken).isEmpty();
    ring.offer(4);
    await().atMost(Duration.ofSeconds(10)).until(() -> taken.size() == 5);
  }

  @Test
  void rejectsAWakeMarkOutsideItsCapacity() {
    assertThatThrownBy(() -> new Handoff<Integer>("ring-test", 8, 0, NEVER, () -> { }))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ring-test: wake after 0 items (expected: 1..8)");
    assertThatThrownBy(() -> new Handoff<Integer>("ring-test", 8, 9, NEVER, () -> { }))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ring-test: wake after 9 items (expected: 1..8)");
  }

  @Test
  void aDrainThatThrowsLeavesTheThreadDrainingAtTheNextTurn() {
    AtomicBoolean failNext = new AtomicBoolean(true);
    Handoff<Integer>[] self = new Handoff[1];
    ring = new Handoff<Integer>("ring-test", 8, Duration.ofMillis(5), () -> {
      Integer i;
      while ((i = self[0].poll()) != null) {
        self[0].release();
        if (failNext.getAndSet(false)) {
          throw new AssertionError("a broken drain: " + i);
        }
        taken.add(i);
      }
    });
    self[0] = ring;
    ring.start();
    ring.offer(0);
    await().atMost(Duration.ofSeconds(10)).until(() -> !failNext.get());
    for (int i = 1; i <= 3; i++) {
      assertThat(ring.offer(i)).isTrue();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> taken.size() == 3);
    assertThat(taken).containsExactly(1, 2, 3);
  }

  @Test
  void stopDrainsWhatIsQueuedAndRefusesMore() {
    ring(100, NEVER);
    for (int i = 0; i < 5; i++) {
      ring.offer(i);
    }
    ring.stop(Duration.ofSeconds(5));
    assertThat(taken).containsExactly(0, 1, 2, 3, 4);
    assertThat(ring.offer(5)).isFalse();
  }

  @Test
  void everyItemOfManyOfferingThreadsIsTakenOnceAndTheRefusedAreExactlyTheRest()
      throws Exception {
    int threads = 4;
    int each = 50_000;
    ring(1_000, Duration.ofMillis(1));
    // the drain releases at once: only what is queued counts
    Handoff<Integer> r = ring;
    AtomicInteger refused = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> offering = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t * each;
      Thread th = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < each; i++) {
          if (!r.offer(base + i)) {
            refused.incrementAndGet();
          }
        }
      });
      th.start();
      offering.add(th);
    }
    Thread releasing = new Thread(() -> {
      int released = 0;
      while (released < threads * each) {
        int seen = taken.size();
        for (; released < seen; released++) {
          r.release();
        }
        if (released + refused.get() >= threads * each) {
          return;
        }
        Thread.onSpinWait();
      }
    });
    releasing.start();
    go.countDown();
    for (Thread th : offering) {
      th.join();
    }
    ring.stop(Duration.ofSeconds(10));
    releasing.join(10_000);

    assertThat(taken.size() + refused.get()).isEqualTo(threads * each);
    assertThat(taken).doesNotHaveDuplicates();
    // each thread's items come out in the order it offered them
    int[] last = new int[threads];
    java.util.Arrays.fill(last, -1);
    for (int i : taken) {
      assertThat(i).isGreaterThan(last[i / each]);
      last[i / each] = i;
    }
  }

  @Test
  void everyOfferTakenByARingThatStopsWhileThreadsOfferIsDrainedAndTheRestAreRefused()
      throws Exception {
    // Offers race the stop: each one that returned true must be taken by the final drain, so
    // that a caller counting refused items as dropped gets sent + dropped == offered exactly.
    for (int round = 0; round < 200; round++) {
      taken.clear();
      Handoff<Integer>[] self = new Handoff[1];
      self[0] = new Handoff<>("ring-test", 1 << 20, Duration.ofMillis(1), () -> {
        Integer i;
        while ((i = self[0].poll()) != null) {
          taken.add(i);
          self[0].release();
        }
      });
      ring = self[0].start();
      Handoff<Integer> r = ring;
      AtomicInteger accepted = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      CountDownLatch started = new CountDownLatch(2);
      List<Thread> offering = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        Thread th = new Thread(() -> {
          started.countDown();
          // keep offering until the stop refused one of ours
          while (true) {
            if (r.offer(1)) {
              accepted.incrementAndGet();
            } else {
              refused.incrementAndGet();
              if (r.stopped()) {
                return;
              }
            }
          }
        });
        th.start();
        offering.add(th);
      }
      started.await();
      ring.stop(Duration.ofSeconds(10));
      for (Thread th : offering) {
        th.join(10_000);
      }
      assertThat(taken).as("round %d: taken vs offers that returned true", round)
          .hasSize(accepted.get());
      assertThat(ring.inUse()).isZero();
      assertThat(ring.offer(2)).isFalse();
    }
  }

  @Test
  void rejectsACapacityBelowOne() {
    assertThatThrownBy(() -> new Handoff<Integer>("ring-test", 0, NEVER, () -> { }))
        .hasMessage("ring-test: capacity 0 (expected: 1..1073741824)");
  }

  @Test
  void takesUpToItsCapacityUntilItemsAreReleasedAndDrainsWhatIsLeftWhenStopped() {
    List<Integer> drained = new CopyOnWriteArrayList<>();
    Handoff<Integer>[] self = new Handoff[1];
    // A long interval: only stop() makes the thread drain (nothing here may depend on timing).
    self[0] = new Handoff<>("test-handoff", 3, Duration.ofHours(1), () -> {
      Integer i;
      while ((i = self[0].poll()) != null) {
        drained.add(i);
      }
    });
    Handoff<Integer> handoff = self[0];

    assertThat(handoff.offer(1)).isTrue();
    assertThat(handoff.offer(2)).isTrue();
    assertThat(handoff.offer(3)).isTrue();
    assertThat(handoff.offer(4)).as("capacity 3 in use").isFalse();
    handoff.release();
    assertThat(handoff.inUse()).isEqualTo(2);
    assertThat(handoff.offer(5)).isTrue();

    handoff.start().stop(Duration.ofSeconds(10));

    assertThat(drained).containsExactly(1, 2, 3, 5);
    assertThat(handoff.stopped()).isTrue();
    assertThat(handoff.offer(6)).as("stopped").isFalse();
  }
}
