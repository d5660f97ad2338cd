package dev.meshlog.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;

class StatsTest {

  @Test
  void aRatioOfProportionalSeriesHasNoSpread() {
    List<Double> floor = new ArrayList<>();
    List<Double> applies = new ArrayList<>();
    for (int i = 1; i <= 300; i++) {
      floor.add((double) i);
      applies.add(2.0 * i);
    }
    assertThat(Stats.bootstrapRatio(applies, floor, 99, 500, 1, 5, 50, 95))
        .containsExactly(2.0, 2.0, 2.0);
  }

  @Test
  void oneSlowApplyInAHundredSpreadsTheP99RatioBetweenWithAndWithoutIt() {
    List<Double> floor = new ArrayList<>(Collections.nCopies(100, 5.0));
    List<Double> applies = new ArrayList<>(Collections.nCopies(100, 10.0));
    applies.set(37, 100.0);
    double[] spread = Stats.bootstrapRatio(applies, floor, 99, 2000, 7, 5, 95);
    // a resample holds the slow apply 0, 1, 2, ... times: its p99 is 10 ms or 100 ms
    assertThat(spread[0]).isEqualTo(2.0);
    assertThat(spread[1]).isEqualTo(20.0);
    assertThat(new Stats(applies).percentile(99) / new Stats(floor).percentile(99)).isEqualTo(2.0);
  }

  @Test
  void refusesSeriesThatAreNotPaired() {
    assertThatThrownBy(() -> Stats.bootstrapRatio(List.of(1.0, 2.0), List.of(1.0), 99, 10, 1, 50))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2 and 1");
  }
}
