package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class BatchingAccessLogTest {

  private static AccessLogEntry entry(String path) {
    return new AccessLogEntry(Instant.EPOCH, "outbound", "GET", path, "HTTP/1.1", 200, Set.of(),
        0, 0, 0, 0, "id", "reviews", null, null, null, null, 1, "productpage-v1", "reviews");
  }

  private static List<String> lines(List<String> batches) {
    List<String> out = new ArrayList<>();
    batches.forEach(b -> out.addAll(Arrays.asList(b.split("\n"))));
    return out;
  }

  @Test
  void writesEveryLineFromEveryThreadInOrderAsNewlineSeparatedBatches() throws Exception {
    List<String> batches = new CopyOnWriteArrayList<>();
    BatchingAccessLog log = new BatchingAccessLog(batches::add, () -> true,
        Duration.ofMillis(5), 100_000);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      String name = "t" + t;
      threads.add(new Thread(() -> {
        for (int i = 0; i < 1000; i++) {
          log.log(entry("/" + name + "/" + i));
        }
      }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    log.close();

    List<String> lines = lines(batches);
    assertThat(lines).hasSize(4000).allMatch(l -> l.equals(entry(l.split(" ")[2]).line()));
    for (int t = 0; t < 4; t++) {
      String prefix = "\"GET /t" + t + "/";
      List<String> mine = lines.stream().filter(l -> l.contains(prefix)).toList();
      for (int i = 0; i < 1000; i++) {
        assertThat(mine.get(i)).contains(prefix + i + " ");
      }
    }
    assertThat(batches).hasSizeLessThan(4000);
  }

  @Test
  void dropsAndCountsWhatDoesNotFitWhileTheWriterIsBusy() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> batches = new CopyOnWriteArrayList<>();
    BatchingAccessLog log = new BatchingAccessLog(b -> {
      writing.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      batches.add(b);
    }, () -> true, Duration.ofHours(1), 8);

    log.log(entry("/a"));
    log.log(entry("/b"));
    assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
    for (int i = 0; i < 11; i++) {
      log.log(entry("/" + i));
    }

    assertThat(log.dropped()).isEqualTo(3);
    release.countDown();
    log.close();
    assertThat(lines(batches)).hasSize(10);
  }

  @Test
  void writesOnceMaxWaitingEntriesAreQueuedLongBeforeItsIntervalOrAQuarterOfItsCapacity() {
    List<String> batches = new CopyOnWriteArrayList<>();
    BatchingAccessLog log = new BatchingAccessLog(batches::add, () -> true,
        Duration.ofHours(1), BatchingAccessLog.DEFAULT_CAPACITY);

    for (int i = 0; i < BatchingAccessLog.MAX_WAITING - 1; i++) {
      log.log(entry("/" + i));
    }
    assertThat(batches).isEmpty();
    log.log(entry("/last"));

    await().atMost(Duration.ofSeconds(10))
        .until(() -> lines(batches).size() == BatchingAccessLog.MAX_WAITING);
    assertThat(lines(batches).get(BatchingAccessLog.MAX_WAITING - 1))
        .isEqualTo(entry("/last").line());
    log.close();
  }

  @Test
  void writesNothingWhenTheLoggerIsOff() {
    List<String> batches = new CopyOnWriteArrayList<>();
    BatchingAccessLog log = new BatchingAccessLog(batches::add, () -> false,
        Duration.ofMillis(1), 100);

    log.log(entry("/a"));
    log.close();

    assertThat(batches).isEmpty();
  }

  @Test
  void writesAQueuedLineWithinItsIntervalWithoutClosing() {
    List<String> batches = new CopyOnWriteArrayList<>();
    BatchingAccessLog log = new BatchingAccessLog(batches::add, () -> true,
        Duration.ofMillis(20), 100);

    log.log(entry("/a"));

    await().atMost(Duration.ofSeconds(5)).until(() -> batches.size() == 1);
    assertThat(batches.get(0)).isEqualTo(entry("/a").line());
    log.close();
  }
}
