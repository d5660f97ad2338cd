package dev.meshlog.bench;

import java.util.Arrays;
import java.util.List;

/** Percentiles of a list of measurements (exact: sorts a copy). */
final class Stats {

  private final double[] sorted;

  Stats(List<Double> values) {
    sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
  }

  double percentile(double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  double mean() {
    return Arrays.stream(sorted).average().orElse(Double.NaN);
  }

  int count() {
    return sorted.length;
  }

  String row(String name) {
    return String.format("| %s | %d | %.2f | %.2f | %.2f | %.2f |", name, count(), percentile(50),
        percentile(90), percentile(99), percentile(100));
  }
}
