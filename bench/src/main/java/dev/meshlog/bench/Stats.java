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
    return at(sorted, p);
  }

  double mean() {
    return Arrays.stream(sorted).average().orElse(Double.NaN);
  }

  int count() {
    return sorted.length;
  }

  /**
   * How far a percentile ratio of two paired series ({@code numerators[i]} and
   * {@code denominators[i]} measured together) moves when the same run is resampled: the
   * ratio's percentiles {@code quantiles} over {@code resamples} bootstrap resamples of the
   * pairs (drawn with replacement, seeded, so a run prints the same interval every time).
   * With n samples a p99 is about the (n/100)-th worst value, so a few slow samples more or
   * less move it a lot; this says how much.
   */
  static double[] bootstrapRatio(List<Double> numerators, List<Double> denominators,
                                 double percentile, int resamples, long seed, double... quantiles) {
    if (numerators.size() != denominators.size() || numerators.isEmpty()) {
      throw new IllegalArgumentException("paired series of equal, non-zero length expected: "
          + numerators.size() + " and " + denominators.size());
    }
    int n = numerators.size();
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    double[] ratios = new double[resamples];
    double[] num = new double[n];
    double[] den = new double[n];
    for (int r = 0; r < resamples; r++) {
      for (int i = 0; i < n; i++) {
        int pick = random.nextInt(n);
        num[i] = numerators.get(pick);
        den[i] = denominators.get(pick);
      }
      Arrays.sort(num);
      Arrays.sort(den);
      ratios[r] = at(num, percentile) / at(den, percentile);
    }
    Arrays.sort(ratios);
    double[] out = new double[quantiles.length];
    for (int q = 0; q < quantiles.length; q++) {
      out[q] = at(ratios, quantiles[q]);
    }
    return out;
  }

  private static double at(double[] sorted, double p) {
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  String row(String name) {
    return String.format("| %s | %d | %.2f | %.2f | %.2f | %.2f |", name, count(), percentile(50),
        percentile(90), percentile(99), percentile(100));
  }
}
