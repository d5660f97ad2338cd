package dev.meshlog.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The build's time limit on every test (the root pom's {@code configurationParameters}): a test
 * or lifecycle method that hangs fails on its own, soon, with the stacks of every thread in the
 * report, and the run goes on. Each case launches JUnit on a subject below that hangs on a latch
 * that never opens, with the build's settings, a tiny limit and the thread mode of unit tests
 * (SAME_THREAD) or of integration tests (SEPARATE_THREAD).
 */
class TestTimeoutsTest {

  /** Set only by this test's own launches: the subjects hang, so they never run otherwise. */
  private static final String SUBJECTS = "meshlog.testkit.hanging-subjects";

  private static final String THREAD_MODE = "junit.jupiter.execution.timeout.thread.mode.default";
  private static final String THREAD_DUMP = "junit.jupiter.execution.timeout.threaddump.enabled";

  /** What the build passes to every module's tests, as this test's own launch received it. */
  private static final Map<String, String> build = new ConcurrentHashMap<>();

  @RegisterExtension
  static final BeforeAllCallback buildConfiguration = context -> {
    for (String key : new String[] {THREAD_MODE, THREAD_DUMP,
        "junit.jupiter.execution.timeout.default",
        "junit.jupiter.execution.timeout.beforeall.method.default"}) {
      context.getConfigurationParameter(key).ifPresent(value -> build.put(key, value));
    }
  };

  /** The subjects' latch: opened after each case, so no thread is left behind. */
  private static volatile CountDownLatch never;

  private Thread witness;

  @BeforeEach
  void closeTheLatchAndParkAWitness() {
    never = new CountDownLatch(1);
    // A thread the subject knows nothing of: its stack in the dump shows every thread is there.
    witness = new Thread(() -> awaitIgnoringInterrupts(never), "timeout-witness");
    witness.setDaemon(true);
    witness.start();
    while (witness.getState() != Thread.State.WAITING) {
      Thread.onSpinWait();
    }
  }

  @AfterEach
  void openTheLatch() throws InterruptedException {
    never.countDown();
    witness.join();
  }

  @Test
  void theBuildLimitsEveryTestWithAThreadDump() {
    assertThat(build)
        .as("the root pom's surefire configurationParameters")
        .containsEntry(THREAD_DUMP, "true")
        .containsKey("junit.jupiter.execution.timeout.default")
        .doesNotContainKey(THREAD_MODE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"SAME_THREAD", "SEPARATE_THREAD"})
  void aTestWaitingInterruptiblyFailsWithEveryThreadsStack(String threadMode) {
    Launch launch = launch(Hangs.class, "waitsInterruptibly", threadMode);

    assertThat(launch.failure("waitsInterruptibly()"))
        .isInstanceOf(TimeoutException.class)
        .hasMessage("waitsInterruptibly() timed out after 300 milliseconds");
    assertThat(launch.output)
        .contains("will be interrupted.")
        .contains("\"timeout-witness\"")
        .contains(TestTimeoutsTest.class.getName() + ".awaitIgnoringInterrupts(")
        .contains(Hangs.class.getName() + ".waitsInterruptibly(");
  }

  @Test
  void aTestIgnoringInterruptsFailsTooInAThreadOfItsOwn() {
    Launch launch = launch(Hangs.class, "ignoresInterrupts", "SEPARATE_THREAD");

    Throwable failure = launch.failure("ignoresInterrupts()");
    assertThat(failure)
        .isInstanceOf(TimeoutException.class)
        .hasMessage("ignoresInterrupts() timed out after 300 milliseconds");
    // The hung thread's own stack is the failure's cause: it is in the report even without
    // the dump.
    assertThat(Arrays.stream(failure.getCause().getStackTrace())
        .map(frame -> frame.getClassName() + "." + frame.getMethodName()))
        .contains(Hangs.class.getName() + ".ignoresInterrupts");
    assertThat(launch.output)
        .contains("\"timeout-witness\"")
        .contains(Hangs.class.getName() + ".ignoresInterrupts(");
  }

  @ParameterizedTest
  @ValueSource(strings = {"SAME_THREAD", "SEPARATE_THREAD"})
  void aBeforeAllMethodThatHangsFailsItsClass(String threadMode) {
    Launch launch = launch(HangsBeforeAll.class, null, threadMode);

    assertThat(launch.failure("TestTimeoutsTest$HangsBeforeAll"))
        .isInstanceOf(TimeoutException.class)
        .hasMessage("startsSomethingThatNeverAnswers() timed out after 300 milliseconds");
    assertThat(launch.results).doesNotContainKey("neverRuns()");
    assertThat(launch.output)
        .contains("\"timeout-witness\"")
        .contains(HangsBeforeAll.class.getName() + ".startsSomethingThatNeverAnswers(");
  }

  /** One launch of JUnit on {@code subject} (one method of it, or all), as the build runs it. */
  private static Launch launch(Class<?> subject, String method, String threadMode) {
    assertThat(build).as("the build's timeout configuration").containsKey(THREAD_DUMP);
    LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request()
        .enableImplicitConfigurationParameters(false)
        .configurationParameters(build)
        .configurationParameter(THREAD_MODE, threadMode)
        .configurationParameter("junit.jupiter.execution.timeout.default", "300 ms")
        .configurationParameter("junit.jupiter.execution.timeout.beforeall.method.default",
            "300 ms")
        .configurationParameter(SUBJECTS, "true")
        .selectors(method == null ? selectClass(subject) : selectMethod(subject, method));
    Map<String, TestExecutionResult> results = new LinkedHashMap<>();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    // JUnit prints the dump to System.out (the build's report keeps a test's output with it).
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      LauncherFactory.create().execute(request.build(), new TestExecutionListener() {
        @Override
        public void executionFinished(TestIdentifier test, TestExecutionResult result) {
          results.put(test.getDisplayName(), result);
        }
      });
    } finally {
      System.setOut(original);
    }
    return new Launch(results, out.toString(StandardCharsets.UTF_8));
  }

  private record Launch(Map<String, TestExecutionResult> results, String output) {
    Throwable failure(String displayName) {
      TestExecutionResult result = results.get(displayName);
      assertThat(result).as(displayName + " in " + results.keySet()).isNotNull();
      assertThat(result.getStatus()).as(displayName).isEqualTo(TestExecutionResult.Status.FAILED);
      return result.getThrowable().orElseThrow();
    }
  }

  /** Waits for {@code latch} as code that swallows interrupts does: only opening it ends this. */
  private static void awaitIgnoringInterrupts(CountDownLatch latch) {
    while (true) {
      try {
        latch.await();
        return;
      } catch (InterruptedException ignored) {
        // Deliberately ignored: the hang a SAME_THREAD timeout could not end.
      }
    }
  }

  /** Runs a subject only in this test's own launches. */
  static final class OnlyInTheTestsOwnLaunch implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      return context.getConfigurationParameter(SUBJECTS).filter("true"::equals).isPresent()
          ? ConditionEvaluationResult.enabled("launched by TestTimeoutsTest")
          : ConditionEvaluationResult.disabled("hangs on purpose: run by TestTimeoutsTest only");
    }
  }

  @ExtendWith(OnlyInTheTestsOwnLaunch.class)
  static class Hangs {
    @Test
    void waitsInterruptibly() throws InterruptedException {
      never.await();
    }

    @Test
    void ignoresInterrupts() {
      awaitIgnoringInterrupts(never);
    }
  }

  @ExtendWith(OnlyInTheTestsOwnLaunch.class)
  static class HangsBeforeAll {
    @BeforeAll
    static void startsSomethingThatNeverAnswers() throws InterruptedException {
      never.await();
    }

    @Test
    void neverRuns() {
    }
  }
}
