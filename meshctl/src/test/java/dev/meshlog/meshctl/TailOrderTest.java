package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

class TailOrderTest {

  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");

  private static TailOrder.Tailed at(int seconds, int partition, long offset) {
    return new TailOrder.Tailed(T0.plusSeconds(seconds), partition, offset, 0, "t" + seconds);
  }

  private static List<String> lines(List<TailOrder.Tailed> events) {
    return events.stream().map(TailOrder.Tailed::line).toList();
  }

  @Test
  void aBacklogIsPrintedInTimeOrderAcrossPartitionsAsFarAsEveryUnreadPartitionHasReached() {
    TailOrder order = new TailOrder();
    // partition 0 read further than partition 1: its t5 must wait for partition 1's t3 and t4
    order.add(at(1, 0, 0), T0);
    order.add(at(5, 0, 1), T0);
    order.add(at(2, 1, 0), T0);
    assertThat(lines(order.ready(Set.of(0, 1), T0, null))).containsExactly("t1", "t2");
    order.add(at(3, 1, 1), T0);
    order.add(at(4, 1, 2), T0);
    assertThat(lines(order.ready(Set.of(0, 1), T0, null))).containsExactly("t3", "t4");
    // partition 1 read to its end: it holds nothing back
    assertThat(lines(order.ready(Set.of(0), T0, null))).containsExactly("t5");
    assertThat(order.size()).isZero();
  }

  @Test
  void partitionsAheadOfTheSlowestUnreadOneArePausedAndItNever() {
    TailOrder order = new TailOrder();
    order.add(at(50, 0, 0), T0); // partition 0 fetched far ahead
    order.add(at(3, 1, 0), T0);  // partition 1, unread, at t3
    order.add(at(3, 2, 0), T0);  // partition 2, read to its end, at t3
    assertThat(order.ahead(Set.of(0, 1))).containsExactly(0);
    order.add(at(60, 1, 1), T0); // partition 1 catches up past partition 0
    assertThat(order.ahead(Set.of(0, 1))).containsExactly(1);
    assertThat(order.ahead(Set.of())).isEmpty(); // no backlog: nothing paused
    TailOrder fresh = new TailOrder();
    fresh.add(at(9, 0, 0), T0);
    assertThat(fresh.ahead(Set.of(0, 1))).as("partition 1 delivered nothing yet: no watermark").isEmpty();
  }

  @Test
  void anUnreadPartitionThatDeliveredNothingYetHoldsEverythingBack() {
    TailOrder order = new TailOrder();
    order.add(at(1, 0, 0), T0);
    assertThat(order.ready(Set.of(0, 1), T0, null)).isEmpty();
    order.saw(1, T0.plusSeconds(9)); // only another service's events: still a time reached
    assertThat(lines(order.ready(Set.of(0, 1), T0, null))).containsExactly("t1");
  }

  @Test
  void aFollowedEventWaitsForTheOtherPartitionsAtMostTheReorderWindow() {
    TailOrder order = new TailOrder();
    Duration window = Duration.ofSeconds(1);
    order.add(at(10, 0, 0), T0);
    order.add(at(10, 1, 0), T0);
    assertThat(lines(order.ready(order.seen(), T0, window))).containsExactly("t10", "t10");
    // t12 arrives on partition 0 first, t11 on partition 1 half a second later: printed t11, t12
    order.add(at(12, 0, 1), T0);
    assertThat(order.ready(order.seen(), T0.plusMillis(100), window)).isEmpty();
    order.add(at(11, 1, 1), T0.plusMillis(500));
    assertThat(lines(order.ready(order.seen(), T0.plusMillis(600), window))).containsExactly("t11");
    // partition 1 then goes quiet: t12 is printed once it has waited the window, not later
    assertThat(order.ready(order.seen(), T0.plusMillis(999), window)).isEmpty();
    assertThat(lines(order.ready(order.seen(), T0.plusMillis(1000), window))).containsExactly("t12");
  }

  @Test
  void anOverdueEventTakesTheOlderOnesAlongSoLinesStayInOrder() {
    TailOrder order = new TailOrder();
    order.saw(2, T0);
    order.add(at(5, 0, 0), T0);
    order.add(at(3, 1, 0), T0.plusMillis(800));
    // t5 has waited 1 s; t3 (read later) is older: printed first, though it waited less
    assertThat(lines(order.ready(order.seen(), T0.plusSeconds(1), Duration.ofSeconds(1))))
        .containsExactly("t3", "t5");
  }

  @Test
  void eventsOfOneTimeKeepTheOrderTheyWereRead() {
    TailOrder order = new TailOrder();
    order.add(new TailOrder.Tailed(T0, 1, 7, 1, "b"), T0);
    order.add(new TailOrder.Tailed(T0, 1, 7, 0, "a"), T0);
    order.add(new TailOrder.Tailed(T0, 0, 9, 0, "p0"), T0);
    assertThat(lines(order.drain())).containsExactly("p0", "a", "b");
  }

  @Test
  void newestKeepsTheNNewestWhateverTheOrderTheyCome() {
    TailOrder.Newest newest = new TailOrder.Newest(3);
    for (int s : new int[] {4, 9, 1, 7, 3, 8, 2}) {
      newest.offer(at(s, s % 2, s));
    }
    assertThat(lines(newest.oldestFirst())).containsExactly("t7", "t8", "t9");
    assertThat(newest.size()).isEqualTo(3);
  }
}
