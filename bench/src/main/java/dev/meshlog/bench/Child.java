package dev.meshlog.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A process the proxy harness started (a backend or a proxy), with what Linux says about it and
 * its descendants (nginx's workers): CPU time from {@code /proc/<pid>/stat} and resident memory
 * from {@code /proc/<pid>/status}.
 */
final class Child implements AutoCloseable {

  /** Clock ticks per second of utime/stime in /proc (USER_HZ; 100 on Linux x86). */
  static final long TICKS_PER_SECOND = ticksPerSecond();

  private final String name;
  private final Process process;

  private Child(String name, Process process) {
    this.name = name;
    this.process = process;
  }

  /**
   * Starts {@code command} on {@code cpus} (a taskset list such as {@code 0}, or empty for
   * anywhere), its stdout and stderr going to files.
   */
  static Child start(String name, String cpus, List<String> command, Path stdout, Path stderr)
      throws IOException {
    return start(name, cpus, command, java.util.Map.of(), stdout, stderr);
  }

  /** As {@link #start(String, String, List, Path, Path)}, with {@code env} added to this one's. */
  static Child start(String name, String cpus, List<String> command,
                     java.util.Map<String, String> env, Path stdout, Path stderr)
      throws IOException {
    List<String> full = new ArrayList<>();
    if (!cpus.isEmpty()) {
      // taskset execs the command, so the pid is the command's own.
      full.addAll(List.of("taskset", "-c", cpus));
    }
    full.addAll(command);
    ProcessBuilder b = new ProcessBuilder(full).redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile());
    b.environment().putAll(env);
    Process p = b.start();
    return new Child(name, p);
  }

  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** User + system CPU ticks of the process and its live descendants, all threads. */
  long cpuTicks() {
    return pids().mapToLong(Child::ticksOf).sum();
  }

  /** Resident memory of the process and its live descendants, in KiB. */
  long rssKib() {
    return pids().mapToLong(pid -> statusKib(pid, "VmRSS:")).sum();
  }

  /** One thread's counters: CPU time and scheduler wake-ups, from {@code /proc/<pid>/task/<tid>}. */
  record ThreadStat(String key, String name, long cpuNanos, long waitNanos, long slices,
                    long voluntary, long involuntary) {}

  /**
   * Every thread of the process and its live descendants, keyed {@code pid/tid}: its name, CPU
   * and run-queue wait time ({@code schedstat}), times it was scheduled in, and its voluntary and
   * involuntary context switches ({@code status}) — which thread of a pinned proxy wakes how
   * often and runs how long.
   */
  Map<String, ThreadStat> threadStats() {
    return threadStats(pids());
  }

  /** {@link #threadStats()} of the processes {@code pids}. */
  static Map<String, ThreadStat> threadStats(Stream<Long> pids) {
    Map<String, ThreadStat> all = new TreeMap<>();
    pids.forEach(pid -> {
      Path tasks = Path.of("/proc", Long.toString(pid), "task");
      try (Stream<Path> ts = Files.list(tasks)) {
        for (Path t : ts.toList()) {
          try {
            String comm = Files.readString(t.resolve("comm")).trim();
            String[] sched = Files.readString(t.resolve("schedstat")).trim().split(" ");
            long vol = 0;
            long invol = 0;
            for (String line : Files.readAllLines(t.resolve("status"))) {
              if (line.startsWith("voluntary_ctxt_switches:")) {
                vol = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
              } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                invol = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
              }
            }
            String key = pid + "/" + t.getFileName();
            all.put(key, new ThreadStat(key, comm, Long.parseLong(sched[0]),
                Long.parseLong(sched[1]), Long.parseLong(sched[2]), vol, invol));
          } catch (IOException | RuntimeException e) {
            // the thread ended
          }
        }
      } catch (IOException e) {
        // the process ended
      }
    });
    return all;
  }

  private Stream<Long> pids() {
    return Stream.concat(Stream.of(process.pid()),
        process.descendants().map(ProcessHandle::pid));
  }

  private static long ticksOf(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command name, which may contain spaces, in parentheses.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static long statusKib(long pid, String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return 0;
  }

  private static long ticksPerSecond() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      return Long.parseLong(out);
    } catch (IOException | RuntimeException e) {
      return 100;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 100;
    }
  }

  /** Asks it to stop (SIGTERM), then kills it and its descendants if it has not after 15 s. */
  @Override
  public void close() {
    List<ProcessHandle> descendants = process.descendants().toList();
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    for (ProcessHandle d : descendants) {
      if (d.isAlive()) {
        d.destroyForcibly();
      }
    }
  }
}
