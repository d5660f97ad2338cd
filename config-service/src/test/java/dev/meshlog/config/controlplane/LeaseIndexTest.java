package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LeaseIndexTest {

  @Test
  void givesDueKeysEarliestFirstAndOnlyOnce() {
    LeaseIndex index = new LeaseIndex();
    index.schedule("b", 20);
    index.schedule("a", 10);
    index.schedule("c", 30);

    assertThat(index.takeDue(20)).containsExactly("a", "b");
    assertThat(index.takeDue(20)).isEmpty();
    assertThat(index.size()).isEqualTo(1);
  }

  @Test
  void schedulingAKeyAgainReplacesItsDueTime() {
    LeaseIndex index = new LeaseIndex();
    index.schedule("a", 10);
    index.schedule("a", 50);

    assertThat(index.takeDue(40)).isEmpty();
    assertThat(index.takeDue(50)).containsExactly("a");
  }

  @Test
  void aRemovedKeyIsNeverDue() {
    LeaseIndex index = new LeaseIndex();
    index.schedule("a", 10);
    index.schedule("b", 10);
    index.remove("a");

    assertThat(index.takeDue(Long.MAX_VALUE)).containsExactly("b");
    assertThat(index.size()).isZero();
  }

  @Test
  void keysDueAtTheSameTimeAreAllKept() {
    LeaseIndex index = new LeaseIndex();
    for (int i = 0; i < 1000; i++) {
      index.schedule("k" + i, 5);
    }
    assertThat(index.takeDue(5)).hasSize(1000);
  }

  @Test
  void nextDueIsTheEarliestDueTimeOrNever() {
    LeaseIndex index = new LeaseIndex();
    assertThat(index.nextDue()).isEqualTo(Long.MAX_VALUE);
    index.schedule("b", 20);
    index.schedule("a", 10);
    assertThat(index.nextDue()).isEqualTo(10);
    index.takeDue(10);
    assertThat(index.nextDue()).isEqualTo(20);
  }

  @Test
  void keepsTheShortestLeaseOfTheKeysExpectedToHeartbeatUntilTheyAreDue() {
    LeaseIndex index = new LeaseIndex();
    assertThat(index.shortestExpectedLease()).isEqualTo(Long.MAX_VALUE);
    index.schedule("fast", 6, 6);
    index.schedule("slow", 30, 30);
    index.schedule("held", 40); // a lease that ended: not expected to heartbeat
    assertThat(index.shortestExpectedLease()).isEqualTo(6);

    assertThat(index.takeDue(6)).containsExactly("fast");
    assertThat(index.shortestExpectedLease()).isEqualTo(30);
    index.schedule("slow", 50); // scheduled again without a lease
    assertThat(index.shortestExpectedLease()).isEqualTo(Long.MAX_VALUE);
    index.schedule("a", 60, 30);
    index.schedule("b", 60, 30);
    index.remove("a");
    assertThat(index.shortestExpectedLease()).isEqualTo(30);
  }
}
