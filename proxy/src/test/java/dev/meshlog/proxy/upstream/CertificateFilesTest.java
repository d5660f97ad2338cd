package dev.meshlog.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.meshlog.proxy.support.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which changes of a watched file a check reports: each once, whatever form it takes. */
class CertificateFilesTest {

  @TempDir
  Path dir;

  // An hour between timed checks: only the test's own check() runs.
  private final CertificateFiles files = new CertificateFiles(Duration.ofHours(1));

  @AfterEach
  void stop() {
    files.close();
  }

  @Test
  void reportsEachChangeOnceAndNothingWhenTheFilesAreAsTheyWere() throws Exception {
    Path ca = dir.resolve("ca.pem");
    Files.writeString(ca, "one");
    AtomicInteger changes = new AtomicInteger();
    files.watch(List.of(ca.toString(), ""), changes::incrementAndGet);

    files.check();
    assertThat(changes).hasValue(0);

    TestCertificates.replace(ca, "two");
    files.check();
    files.check();
    assertThat(changes).hasValue(1);

    Files.delete(ca);
    files.check();
    assertThat(changes).hasValue(2);

    Files.writeString(ca, "three");
    files.check();
    assertThat(changes).hasValue(3);
  }

  @Test
  void aClosedWatchIsNotToldAnyMore() throws Exception {
    Path ca = dir.resolve("ca.pem");
    Files.writeString(ca, "one");
    AtomicInteger changes = new AtomicInteger();
    CertificateFiles.Watch w = files.watch(List.of(ca.toString()), changes::incrementAndGet);

    w.close();
    TestCertificates.replace(ca, "two");
    files.check();

    assertThat(changes).hasValue(0);
  }

  @Test
  void refusesAnIntervalThatIsNotPositive() {
    assertThatThrownBy(() -> new CertificateFiles(Duration.ZERO))
        .hasMessage("interval: PT0S (expected: > 0)");
  }
}
