package dev.meshlog.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The machine's CPU time per CPU, from {@code /proc/stat}, and the wake-up interrupts each CPU
 * received, from {@code /proc/interrupts}: what each core did during a phase, whoever did it
 * (the proxy, the load generator, the backend, the harness's broker, the kernel's soft
 * interrupts, another engineer's build), how much of it the hypervisor took ({@code steal}), and
 * how often a core was woken by another ({@code RES}: rescheduling, {@code CAL}: function-call
 * interrupts — on a virtual machine each one sent to a halted CPU is a VM exit on the sender,
 * paid by the proxy's core when it wakes the load generator or the backend on the other). The
 * per-process figures name who used a core; these say how busy it was in all.
 *
 * @param cpus per CPU, the {@code /proc/stat} ticks: user nice system idle iowait irq softirq
 *     steal
 * @param wakeups per CPU, the {@code RES} and {@code CAL} interrupt counts received
 */
record CpuStat(List<long[]> cpus, List<long[]> wakeups) {

  /** The fields of a {@code cpuN} line: user nice system idle iowait irq softirq steal. */
  static final int USER = 0;
  static final int NICE = 1;
  static final int SYSTEM = 2;
  static final int IDLE = 3;
  static final int IOWAIT = 4;
  static final int IRQ = 5;
  static final int SOFTIRQ = 6;
  static final int STEAL = 7;

  /** Now; empty where {@code /proc/stat} cannot be read. */
  static CpuStat read() {
    try {
      List<String> interrupts = List.of();
      try {
        interrupts = Files.readAllLines(Path.of("/proc/interrupts"));
      } catch (IOException e) {
        // no wake-up counts then
      }
      return parse(Files.readAllLines(Path.of("/proc/stat")), interrupts);
    } catch (IOException | RuntimeException e) {
      return new CpuStat(List.of(), List.of());
    }
  }

  /** The {@code cpuN} lines of a {@code /proc/stat} text and the RES/CAL lines of interrupts. */
  static CpuStat parse(List<String> lines, List<String> interrupts) {
    List<long[]> cpus = new ArrayList<>();
    for (String l : lines) {
      if (!l.startsWith("cpu") || l.startsWith("cpu ")) {
        continue;
      }
      String[] f = l.trim().split("\\s+");
      long[] v = new long[8];
      for (int i = 0; i < v.length && i + 1 < f.length; i++) {
        v[i] = Long.parseLong(f[i + 1]);
      }
      cpus.add(v);
    }
    long[] res = interruptCounts(interrupts, "RES:", cpus.size());
    long[] cal = interruptCounts(interrupts, "CAL:", cpus.size());
    List<long[]> wakeups = new ArrayList<>();
    for (int c = 0; c < cpus.size(); c++) {
      wakeups.add(new long[] {res[c], cal[c]});
    }
    return new CpuStat(cpus, wakeups);
  }

  private static long[] interruptCounts(List<String> interrupts, String label, int n) {
    long[] v = new long[n];
    for (String l : interrupts) {
      String t = l.trim();
      if (t.startsWith(label)) {
        String[] f = t.substring(label.length()).trim().split("\\s+");
        for (int c = 0; c < n && c < f.length; c++) {
          v[c] = Long.parseLong(f[c]);
        }
      }
    }
    return v;
  }

  /**
   * Per CPU, the share of the time since {@code before} it spent busy (user, nice, system, irq,
   * softirq), in soft interrupts and stolen, in percent: {@code [cpu][busy, softirq, steal]}.
   */
  double[][] since(CpuStat before) {
    int n = Math.min(cpus.size(), before.cpus().size());
    double[][] r = new double[n][];
    for (int c = 0; c < n; c++) {
      long[] a = cpus.get(c);
      long[] b = before.cpus().get(c);
      long[] d = new long[8];
      long total = 0;
      for (int i = 0; i < 8; i++) {
        d[i] = a[i] - b[i];
        total += d[i];
      }
      long busy = d[USER] + d[NICE] + d[SYSTEM] + d[IRQ] + d[SOFTIRQ];
      r[c] = total == 0 ? new double[] {Double.NaN, Double.NaN, Double.NaN}
          : new double[] {100.0 * busy / total, 100.0 * d[SOFTIRQ] / total,
              100.0 * d[STEAL] / total};
    }
    return r;
  }

  /**
   * Per CPU, the rescheduling and function-call interrupts it received since {@code before},
   * per 1,000 {@code requests}: {@code [cpu][res, cal]}.
   */
  double[][] wakeupsSince(CpuStat before, long requests) {
    int n = Math.min(wakeups.size(), before.wakeups().size());
    double per = requests == 0 ? Double.NaN : 1000.0 / requests;
    double[][] r = new double[n][];
    for (int c = 0; c < n; c++) {
      r[c] = new double[] {(wakeups.get(c)[0] - before.wakeups().get(c)[0]) * per,
          (wakeups.get(c)[1] - before.wakeups().get(c)[1]) * per};
    }
    return r;
  }

  /**
   * {@code since(before)} as one line: {@code cpu0 97% busy (softirq 3%, steal 0%; woken
   * 12.0 RES + 3.0 CAL per 1,000 req), cpu1 ...}.
   */
  String describeSince(CpuStat before, long requests) {
    double[][] r = since(before);
    double[][] w = wakeupsSince(before, requests);
    List<String> parts = new ArrayList<>();
    for (int c = 0; c < r.length; c++) {
      parts.add(String.format(Locale.ROOT, "cpu%d %.0f%% busy (softirq %.0f%%, steal %.0f%%; "
              + "woken %.1f RES + %.1f CAL per 1,000 req)", c, r[c][0], r[c][1], r[c][2],
          c < w.length ? w[c][0] : Double.NaN, c < w.length ? w[c][1] : Double.NaN));
    }
    return String.join(", ", parts);
  }
}
