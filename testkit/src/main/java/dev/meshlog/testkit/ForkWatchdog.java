package dev.meshlog.testkit;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * The last resort for a test JVM that never ends: after {@value #TIMEOUT_PROPERTY} seconds it
 * prints every thread's stack to the build's log and stops the JVM, so the module fails, naming
 * what hung, and the build goes on to report it.
 *
 * <p>Surefire's own {@code forkedProcessTimeoutInSeconds} does not do this: when it fires it
 * writes a thread dump to a {@code .dump} file and asks the fork to stop, and a fork whose tests
 * hang does not stop (SUREFIRE-1722); Maven then waits for it for ever. JUnit's per-test time
 * limit (the root pom) ends almost every hang long before this; what is left is a hang outside
 * any test or lifecycle method — a static initialiser, an extension's set-up such as the shared
 * broker's start, a test class's constructor.
 *
 * <p>Registered for the JUnit launcher of every module that tests with testkit
 * ({@code META-INF/services}); the root pom sets the property in the tests' {@code argLine}.
 * Without it (an IDE, the {@code kafka} process) nothing happens.
 */
public final class ForkWatchdog implements LauncherSessionListener {

  /** System property: seconds this test JVM may run before it is stopped; absent: no limit. */
  public static final String TIMEOUT_PROPERTY = "meshlog.test.fork.timeout.seconds";

  /** One watchdog per JVM: a JVM's tests open more than one launcher session. */
  private static final AtomicBoolean started = new AtomicBoolean();

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    String value = System.getProperty(TIMEOUT_PROPERTY);
    if (value == null || value.isBlank() || !started.compareAndSet(false, true)) {
      return;
    }
    long seconds = seconds(value);
    Thread watchdog = new Thread(() -> {
      try {
        TimeUnit.SECONDS.sleep(seconds);
      } catch (InterruptedException e) {
        return;
      }
      System.err.println("meshlog: this test JVM has run for " + seconds + " s (" + TIMEOUT_PROPERTY
          + ", the root pom's test.fork.timeout.seconds) and is stopped: a hang outside any"
          + " test method. Every thread's stack:\n" + threadDump());
      System.err.flush();
      try {
        // Surefire sends a fork's output to Maven from a thread of its own: let it.
        TimeUnit.SECONDS.sleep(2);
      } catch (InterruptedException e) {
        // Stop now.
      }
      Runtime.getRuntime().halt(1);
    }, "meshlog-fork-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  static long seconds(String value) {
    try {
      long seconds = Long.parseLong(value.strip());
      if (seconds > 0) {
        return seconds;
      }
    } catch (NumberFormatException e) {
      // Reported below.
    }
    throw new IllegalArgumentException(
        "-D" + TIMEOUT_PROPERTY + "=" + value + " (expected: a whole number of seconds, > 0)");
  }

  /** Every live thread's name, state and stack, as {@code jstack} would show them. */
  static String threadDump() {
    StringBuilder dump = new StringBuilder();
    long[] deadlocked = ManagementFactory.getThreadMXBean().findDeadlockedThreads();
    if (deadlocked != null) {
      dump.append("deadlocked thread ids: ").append(Arrays.toString(deadlocked))
          .append('\n');
    }
    Map<Thread, StackTraceElement[]> stacks = Thread.getAllStackTraces();
    stacks.keySet().stream().sorted(Comparator.comparingLong(Thread::getId)).forEach(thread -> {
      dump.append('\n').append('"').append(thread.getName()).append('"')
          .append(thread.isDaemon() ? " daemon" : "").append(" Id=").append(thread.getId())
          .append(' ').append(thread.getState()).append('\n');
      for (StackTraceElement frame : stacks.get(thread)) {
        dump.append("\tat ").append(frame).append('\n');
      }
    });
    return dump.toString();
  }
}
