package dev.meshlog.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import com.datadoghq.sketch.ddsketch.DDSketch;
import dev.meshlog.telemetry.LatencySketch;

/**
 * Issue 5's sketch accuracy: the pipeline's latency sketch (DDSketch, {@link LatencySketch},
 * 1% relative accuracy) against exact quantiles of the same latencies, for one sketch and for 60
 * per-window sketches merged (how hours are answered). Latencies come from a file (one request
 * per line, e.g. h2load's {@code --log-file} from the proxy benchmark: column 3 in microseconds)
 * or, without one, from a recorded-like mixture: log-normal around 5 ms plus 10% of requests
 * delayed by 400 ms (a fault), plus a tail to 2 s.
 */
public final class SketchAccuracyBench {

  static final String USAGE = """
      usage: meshlog-bench sketch-accuracy [--file LATENCIES [--column 3] [--unit us|ms]]
                                           [--samples 1000000] [--accuracy 0.01]""";

  private static final double[] QUANTILES = {0.5, 0.75, 0.9, 0.95, 0.99, 0.999};

  private SketchAccuracyBench() {}

  public static void main(String[] args) throws IOException {
    Path file = null;
    int column = 3;
    double unitToMillis = 0.001;
    int samples = 1_000_000;
    double accuracy = LatencySketch.DEFAULT_RELATIVE_ACCURACY;
    for (int i = 0; i + 1 < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--file" -> file = Path.of(v);
        case "--column" -> column = Integer.parseInt(v);
        case "--unit" -> unitToMillis = switch (v) {
          case "us" -> 0.001;
          case "ms" -> 1;
          default -> throw new IllegalArgumentException("--unit " + v + " (expected: us or ms)");
        };
        case "--samples" -> samples = Integer.parseInt(v);
        case "--accuracy" -> accuracy = Double.parseDouble(v);
        default -> throw new IllegalArgumentException("unknown option " + args[i] + "\n" + USAGE);
      }
    }
    double[] millis = file != null ? read(file, column, unitToMillis) : synthetic(samples);
    if (millis.length == 0) {
      throw new IllegalArgumentException("no latencies read (expected: numbers in column "
          + column + ")");
    }
    System.out.println(report(millis, accuracy, file == null
        ? "synthetic: log-normal ~5 ms, 10% delayed 400 ms, tail to 2 s" : file.toString()));
  }

  static String report(double[] millis, double accuracy, String source) {
    DDSketch one = LatencySketch.empty(accuracy);
    int windows = 60;
    List<DDSketch> perWindow = new ArrayList<>();
    for (int w = 0; w < windows; w++) {
      perWindow.add(LatencySketch.empty(accuracy));
    }
    for (int i = 0; i < millis.length; i++) {
      one.accept(millis[i]);
      perWindow.get((int) ((long) i * windows / millis.length)).accept(millis[i]);
    }
    DDSketch merged = LatencySketch.empty(accuracy);
    perWindow.forEach(merged::mergeWith);
    double[] sorted = millis.clone();
    Arrays.sort(sorted);
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "## Sketch accuracy: %,d latencies (%s), stated bound "
        + "%.2f%%, %d B encoded%n%n", millis.length, source, accuracy * 100,
        LatencySketch.encode(one).length));
    b.append("| quantile | exact ms | sketch ms | rel. error | merged 60 windows ms | "
        + "rel. error | within bound |\n| --- | --- | --- | --- | --- | --- | --- |\n");
    boolean all = true;
    for (double q : QUANTILES) {
      double exact = sorted[(int) Math.floor(q * (sorted.length - 1))];
      double s = LatencySketch.quantile(one, q);
      double m = LatencySketch.quantile(merged, q);
      double e1 = Math.abs(s - exact) / exact;
      double e2 = Math.abs(m - exact) / exact;
      boolean ok = e1 <= accuracy + 1e-12 && e2 <= accuracy + 1e-12;
      all &= ok;
      b.append(String.format(Locale.ROOT, "| p%s | %.3f | %.3f | %.3f%% | %.3f | %.3f%% | %s |%n",
          trim(q * 100), exact, s, e1 * 100, m, e2 * 100, ok ? "yes" : "NO"));
    }
    b.append(String.format(Locale.ROOT, "%nevery quantile within %.2f%%: %s%n", accuracy * 100,
        all ? "yes" : "NO"));
    return b.toString();
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  private static double[] read(Path file, int column, double unitToMillis) throws IOException {
    List<String> lines = Files.readAllLines(file);
    double[] out = new double[lines.size()];
    int n = 0;
    for (String line : lines) {
      String[] f = line.trim().split("\\s+");
      if (f.length < column) {
        continue;
      }
      try {
        double v = Double.parseDouble(f[column - 1]) * unitToMillis;
        if (v > 0) {
          out[n++] = v;
        }
      } catch (NumberFormatException e) {
        // a header or a comment
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static double[] synthetic(int n) {
    SplittableRandom r = new SplittableRandom(7);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      double u1 = Math.max(1e-12, r.nextDouble());
      double g = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * r.nextDouble());
      double v = Math.exp(Math.log(5) + 0.7 * g);
      if (r.nextInt(10) == 0) {
        v += 400;
      }
      if (r.nextInt(1000) == 0) {
        v += r.nextDouble() * 2000;
      }
      out[i] = v;
    }
    return out;
  }
}
