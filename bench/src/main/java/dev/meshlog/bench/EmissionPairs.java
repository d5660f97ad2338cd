package dev.meshlog.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The cost of emission (issue 5) from interleaved pairs: in each pair the same sidecar ran once
 * with telemetry off and once with it on, back to back, the order alternating from pair to pair
 * (off first in odd pairs), and each pair gives its own ratio. A single pair says little: a
 * sidecar process runs its whole life in a fast or a slow JIT mode (proxy/README.md, "Two speed
 * modes"), so one pair may compare a fast process with a slow one. What the report gives is the
 * median of the per-pair ratios with their spread, the same for CPU per request (which the
 * machine's other load distorts less than throughput), and each side's C2 compiler CPU, which
 * names a pair whose side was still compiling.
 *
 * <p>The verdict is on the <em>order-balanced</em> ratio: on a quiet machine the sidecar that
 * runs second in a pair was faster in every pair of eight (BENCHMARKS.md, "Cost of emission"),
 * so pairs run off-first overstate the ratio and pairs run on-first understate it, and a median
 * over an odd number of alternating pairs leans to the order that ran more often. The geometric
 * mean of the two orders' medians cancels a second-run speed-up that is the same factor in
 * both orders. The harness also gives every side the same start (a broker warmed before the
 * first pair and settled before each side, {@code ProxyBench.settle}) and can run A/A pairs
 * ({@code --emission-control}), whose report has the same figures and no verdict.
 */
final class EmissionPairs {

  /**
   * C2 compiler CPU (ms per 1,000 requests) in the measured phase above which a side counts as
   * still compiling: fast processes showed 3–7, slow ones 12–54.
   */
  static final double C2_BUSY_MS = 10;

  /** The throughput target: telemetry on keeps at least this share of telemetry off's. */
  static final double TARGET = 0.95;

  /**
   * One side of a pair, from its throughput phase: requests per second, the proxies' CPU µs per
   * request (all threads), per 1,000 requests the CPU ms of the event loops, of the C2
   * compiler threads, of the telemetry threads (the emitter and its producer's sender) and of the
   * harness's embedded broker ({@link ProxyBench.ThreadCpu#brokerMs}), the warm-up rounds it
   * took (more than asked when C2 was still busy) and the context switches per 1,000 requests
   * ({@link ProxyBench.Switches}).
   */
  record Side(double rps, double cpuMicrosPerRequest, double eventLoopMs, double c2Ms,
              double telemetryMs, double brokerMs, int warmupRounds,
              ProxyBench.Switches switches) {

    boolean compiling() {
      return c2Ms > C2_BUSY_MS;
    }
  }

  /** Pair {@code pair} (from 1), off measured first or not. */
  record Pair(int pair, boolean offFirst, Side off, Side on) {

    /** Throughput with telemetry on / off. */
    double ratio() {
      return on.rps() / off.rps();
    }

    /** CPU per request off / on: the throughput ratio a fully busy core would give. */
    double cpuRatio() {
      return off.cpuMicrosPerRequest() / on.cpuMicrosPerRequest();
    }

    boolean compiling() {
      return off.compiling() || on.compiling();
    }
  }

  private EmissionPairs() {
  }

  /** Whether pair {@code pair} (from 1) measures telemetry off first. */
  static boolean offFirst(int pair) {
    return pair % 2 == 1;
  }

  /** The markdown section: one row per pair, then the medians, spreads and the verdict. */
  static String report(String off, String on, List<Pair> pairs) {
    return report(off, on, pairs, false);
  }

  /**
   * As {@link #report(String, String, List)}; for an A/A control ({@code control}: both sides
   * ran with the same telemetry) the same figures without a verdict on telemetry.
   */
  static String report(String off, String on, List<Pair> pairs, boolean control) {
    StringBuilder b = new StringBuilder();
    b.append("\n### Cost of emission (issue 5): ").append(pairs.size())
        .append(" interleaved pair(s), ").append(on).append(" vs ").append(off).append("\n\n");
    b.append("Per pair, throughput phase (wrk). \"loop\", \"C2\", \"telemetry\": CPU ms per 1,000 "
        + "requests of the event loop(s), the C2 compiler and the telemetry threads (emitter + "
        + "producer sender); \"broker\": the embedded broker's threads in the harness (idle "
        + "with telemetry off, receiving the events with it on); * = C2 above ")
        .append(fmt("%.0f", C2_BUSY_MS))
        .append(" ms per 1,000 requests (still compiling: the slow mode).\n\n");
    b.append("| pair | order (warm-up rounds) | off req/s | off µs/req | off loop / C2 | on req/s | on µs/req "
        + "| on loop / C2 / telemetry | broker off / on | on / off req/s | off / on µs/req |\n"
        + "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Pair p : pairs) {
      b.append("| ").append(p.pair()).append(" | ").append(p.offFirst()
              ? "off, on (" + p.off().warmupRounds() + ", " + p.on().warmupRounds() + ")"
              : "on, off (" + p.on().warmupRounds() + ", " + p.off().warmupRounds() + ")")
          .append(" | ").append(fmt("%,.0f", p.off().rps()))
          .append(" | ").append(fmt("%.1f", p.off().cpuMicrosPerRequest()))
          .append(" | ").append(fmt("%.1f", p.off().eventLoopMs())).append(" / ")
          .append(fmt("%.1f", p.off().c2Ms())).append(p.off().compiling() ? "*" : "")
          .append(" | ").append(fmt("%,.0f", p.on().rps()))
          .append(" | ").append(fmt("%.1f", p.on().cpuMicrosPerRequest()))
          .append(" | ").append(fmt("%.1f", p.on().eventLoopMs())).append(" / ")
          .append(fmt("%.1f", p.on().c2Ms())).append(p.on().compiling() ? "*" : "")
          .append(" / ").append(fmt("%.2f", p.on().telemetryMs()))
          .append(" | ").append(fmt("%.2f", p.off().brokerMs())).append(" / ")
          .append(fmt("%.2f", p.on().brokerMs()))
          .append(" | ").append(fmt("%.3f", p.ratio()))
          .append(" | ").append(fmt("%.3f", p.cpuRatio())).append(" |\n");
    }
    List<Pair> settled = pairs.stream().filter(p -> !p.compiling()).toList();
    b.append("\n- on / off throughput, median of the per-pair ratios: ")
        .append(summary(pairs, Pair::ratio)).append("; pairs at or above ")
        .append(fmt("%.2f", TARGET)).append(": ")
        .append(pairs.stream().filter(p -> p.ratio() >= TARGET).count()).append(" of ")
        .append(pairs.size()).append('\n');
    b.append("- off / on CPU per request, median of the per-pair ratios: ")
        .append(summary(pairs, Pair::cpuRatio)).append('\n');
    b.append("- order-balanced (geometric mean of the off-first and on-first pairs' medians): "
        + "throughput ").append(balancedSummary(pairs, Pair::ratio)).append(", CPU per request ")
        .append(balancedSummary(pairs, Pair::cpuRatio)).append('\n');
    b.append("- pairs with neither side compiling (C2 ≤ ").append(fmt("%.0f", C2_BUSY_MS))
        .append(" ms / 1,000 req): ").append(settled.size()).append(" of ").append(pairs.size());
    if (!settled.isEmpty()) {
      b.append("; their on / off throughput ").append(summary(settled, Pair::ratio))
          .append(", off / on CPU ").append(summary(settled, Pair::cpuRatio));
    }
    b.append('\n');
    b.append("- telemetry threads' own CPU: ").append(summary(pairs, p -> p.on().telemetryMs()))
        .append(" ms per 1,000 requests; event loop with telemetry on / off: ")
        .append(summary(pairs, p -> p.on().eventLoopMs() / p.off().eventLoopMs()))
        .append('\n');
    b.append("- context switches per 1,000 requests: the telemetry threads' wake-ups ")
        .append(summary(pairs, p -> p.on().switches().telemetryWakeups()))
        .append(" and preemptions ")
        .append(summary(pairs, p -> p.on().switches().telemetryPreempted()))
        .append("; the event loop preempted on / off ")
        .append(summary(pairs, p -> p.on().switches().eventLoopPreempted()))
        .append(" / ").append(summary(pairs, p -> p.off().switches().eventLoopPreempted()))
        .append("; the broker's wake-ups on / off ")
        .append(summary(pairs, p -> p.on().switches().brokerWakeups()))
        .append(" / ").append(summary(pairs, p -> p.off().switches().brokerWakeups()))
        .append('\n');
    b.append("- the broker's CPU for the events (on − off): ")
        .append(summary(pairs, p -> p.on().brokerMs() - p.off().brokerMs()))
        .append(" ms per 1,000 requests\n");
    b.append("- ").append(control ? "no verdict: an A/A control (both sides ran with the same"
        + " telemetry; the off-first and on-first medians above are the position effect)"
        : verdict(pairs)).append('\n');
    return b.toString();
  }

  /**
   * Judged on the pairs in which neither side was still compiling (a side whose C2 was busy
   * measured the JIT, not emission): met when both order-balanced ratios ({@link #balanced}) —
   * throughput on / off and CPU per request off / on — are at least {@link #TARGET}; with fewer
   * than 3 such pairs, or none in one of the two orders, not judged (one pair is a coin toss,
   * and one order alone carries the second run's speed-up).
   */
  static String verdict(List<Pair> pairs) {
    List<Pair> settled = pairs.stream().filter(p -> !p.compiling()).toList();
    double r = balanced(settled, Pair::ratio);
    double c = balanced(settled, Pair::cpuRatio);
    if (settled.size() < 3 || Double.isNaN(r)) {
      return "**not judged** — telemetry costs ≤ 5% of throughput (issue 5): " + settled.size()
          + " of " + pairs.size() + " pair(s) with neither side compiling; at least 3 are needed,"
          + " in both orders";
    }
    boolean met = r >= TARGET && c >= TARGET;
    return (met ? "**met**" : "**missed**") + " — telemetry costs ≤ 5% of throughput (issue 5): "
        + "order-balanced ratio " + fmt("%.3f", r) + " (throughput), " + fmt("%.3f", c)
        + " (CPU per request), over the " + settled.size() + " of " + pairs.size()
        + " pairs with neither side compiling (median per-pair ratio "
        + fmt("%.3f", median(settled, Pair::ratio)) + ", " + fmt("%.3f", median(settled, Pair::cpuRatio))
        + ")";
  }

  /**
   * The geometric mean of the median ratio of the pairs run off-first and that of the pairs run
   * on-first; NaN when one order has no pair. A speed-up of whichever side runs second
   * multiplies the first and divides the second, so it cancels here.
   */
  static double balanced(List<Pair> pairs, ToDoubleFunction<Pair> f) {
    double offFirst = median(pairs.stream().filter(Pair::offFirst).toList(), f);
    double onFirst = median(pairs.stream().filter(p -> !p.offFirst()).toList(), f);
    return Math.sqrt(offFirst * onFirst);
  }

  private static String balancedSummary(List<Pair> pairs, ToDoubleFunction<Pair> f) {
    double offFirst = median(pairs.stream().filter(Pair::offFirst).toList(), f);
    double onFirst = median(pairs.stream().filter(p -> !p.offFirst()).toList(), f);
    return fmt("%.3f", Math.sqrt(offFirst * onFirst)) + " (off first " + fmt("%.3f", offFirst)
        + ", on first " + fmt("%.3f", onFirst) + ")";
  }

  static double median(List<Pair> pairs, ToDoubleFunction<Pair> f) {
    double[] v = pairs.stream().mapToDouble(f).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** Median [min–max], interquartile range. */
  static String summary(List<Pair> pairs, ToDoubleFunction<Pair> f) {
    double[] v = pairs.stream().mapToDouble(f).sorted().toArray();
    if (v.length == 0) {
      return "—";
    }
    String s = fmt("%.3f", median(pairs, f));
    if (v.length == 1) {
      return s;
    }
    s += " [" + fmt("%.3f", v[0]) + "–" + fmt("%.3f", v[v.length - 1]) + "]";
    if (v.length >= 4) {
      s += ", IQR " + fmt("%.3f", quantile(v, 0.25)) + "–" + fmt("%.3f", quantile(v, 0.75));
    }
    return s;
  }

  /** Linear interpolation between the closest ranks of sorted {@code v}. */
  static double quantile(double[] v, double q) {
    double pos = q * (v.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(v.length - 1, lo + 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - lo);
  }

  /** Pairs the measurements of {@code off} and {@code on} by run. */
  static List<Pair> pairs(List<ProxyBench.Measurement> all, String off, String on) {
    List<Pair> pairs = new ArrayList<>();
    for (ProxyBench.Measurement m : all) {
      if (!m.target().name().equals(off)) {
        continue;
      }
      all.stream().filter(x -> x.run() == m.run() && x.target().name().equals(on)).findFirst()
          .ifPresent(x -> pairs.add(new Pair(m.run(), offFirst(m.run()), m.side(), x.side())));
    }
    return pairs;
  }

  private static String fmt(String format, double v) {
    return String.format(Locale.ROOT, format, v);
  }
}
