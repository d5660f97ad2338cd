package dev.meshlog.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

class WeightedSplitTest {

  private static DestinationConfig d(String subset, int weight) {
    return new DestinationConfig("reviews", subset, null, weight, null, null);
  }

  private static Map<Integer, Integer> counts(WeightedSplit split, int n) {
    Map<Integer, Integer> counts = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(split.pick(i), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void routesExactlyTenPercentToV2WhenWeightIsTen() {
    WeightedSplit split = WeightedSplit.of(List.of(d("v1", 90), d("v2", 10)));

    assertThat(counts(split, 1000)).containsExactlyInAnyOrderEntriesOf(Map.of(0, 900, 1, 100));
  }

  @Test
  void splitsThreeWaysExactlyOverEveryHundredRequests() {
    WeightedSplit split = WeightedSplit.of(List.of(d("v1", 50), d("v2", 33), d("v3", 17)));

    assertThat(split.period()).isEqualTo(100);
    assertThat(counts(split, 300)).containsExactlyInAnyOrderEntriesOf(Map.of(0, 150, 1, 99, 2, 51));
  }

  @Test
  void interleavesRatherThanSendingBursts() {
    WeightedSplit split = WeightedSplit.of(List.of(d("v1", 50), d("v2", 50)));

    assertThat(List.of(split.pick(0), split.pick(1), split.pick(2), split.pick(3)))
        .containsExactly(0, 1, 0, 1);
  }

  @Test
  void neverPicksADestinationWithWeightZero() {
    WeightedSplit split = WeightedSplit.of(List.of(d("v1", 0), d("v2", 100)));

    assertThat(counts(split, 50)).containsOnlyKeys(1);
  }
}
