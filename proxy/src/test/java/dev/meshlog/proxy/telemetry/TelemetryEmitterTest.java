package dev.meshlog.proxy.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.schemas.Topics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The buffer and its accounting, against a sink whose acknowledgements the test controls. */
class TelemetryEmitterTest {

  /** Holds what was sent; completes sends only when told to. */
  static final class HeldSink implements EventSink {
    record Sent(String key, byte[] value, Outcome outcome) {
      RequestEvent event() {
        return Topics.TELEMETRY_REQUESTS.deserializeValue(value);
      }
    }

    final List<Sent> sent = new CopyOnWriteArrayList<>();
    volatile boolean autoAck;
    volatile RuntimeException throwOnSend;
    volatile boolean closed;
    int completedUpTo;

    @Override
    public void send(byte[] key, byte[] value, Outcome outcome) {
      if (throwOnSend != null) {
        throw throwOnSend;
      }
      sent.add(new Sent(new String(key, java.nio.charset.StandardCharsets.UTF_8), value, outcome));
      if (autoAck) {
        outcome.completed(null);
      }
    }

    /** Completes every send not completed yet, with {@code failure} (null = acknowledged). */
    void completeAll(Exception failure) {
      for (int i = completedUpTo; i < sent.size(); i++) {
        sent.get(i).outcome().completed(failure);
      }
      completedUpTo = sent.size();
    }

    @Override
    public void close(Duration timeout) {
      closed = true;
      completeAll(null);
    }
  }

  final HeldSink sink = new HeldSink();
  final ProxyIdentity identity = ProxyIdentity.of("productpage", "default", "v1", "", "");
  TelemetryEmitter emitter;

  TelemetryEmitter emitter(int capacity) {
    emitter = new TelemetryEmitter(new RequestEvents(identity, "cluster.local"), sink, capacity,
        Duration.ofMillis(5), Duration.ofSeconds(1));
    return emitter;
  }

  @AfterEach
  void close() {
    if (emitter != null) {
      emitter.close();
    }
  }

  static AccessLogEntry request(int i) {
    return new AccessLogEntry(RequestEventsTest.START, "outbound", "GET", "/", "HTTP/1.1", 200,
        Set.of(), 0, 2, 1, 1, "req-" + i, "reviews", null, null, null, null, 1,
        "productpage-v1", "reviews.default.svc.cluster.local", null, null, null, null, 1_000);
  }

  @Test
  void everyRequestBecomesOneEventWhenNothingIsDropped() {
    sink.autoAck = true;
    emitter(1_000);
    for (int i = 0; i < 250; i++) {
      emitter.log(request(i));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.sent() == 250);
    assertThat(sink.sent).extracting(s -> s.event().getRequestId())
        .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 250)
            .mapToObj(i -> "req-" + i).toList());
    assertThat(sink.sent).allSatisfy(s ->
        assertThat(s.key()).isEqualTo("default/productpage->default/reviews"));
    assertThat(emitter.dropped()).isZero();
    assertThat(emitter.failed()).isZero();
    assertThat(emitter.buffered()).isZero();
  }

  @Test
  void aFullBufferDropsAndCountsAndTheNextDeliveredEventReportsTheLoss() {
    emitter(10);
    for (int i = 0; i < 25; i++) {
      emitter.log(request(i));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.sent.size() == 10);
    assertThat(emitter.dropped()).isEqualTo(15);
    assertThat(emitter.buffered()).isEqualTo(10);

    sink.completeAll(null); // Kafka is back
    assertThat(emitter.sent()).isEqualTo(10);
    assertThat(emitter.buffered()).isZero();
    emitter.log(request(99));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.sent.size() == 11);
    // the drops ride on the first event handed over after them (one of the first ten if the
    // thread took it after the drops, else the eleventh): reported exactly once either way
    assertThat(sink.sent.stream().mapToLong(s -> s.event().getDroppedBefore()).sum())
        .isEqualTo(15);
    assertThat(emitter.unreported()).isZero();
  }

  @Test
  void aFailedSendIsCountedAndItsReportMovesToTheNextEvent() {
    emitter(10);
    emitter.log(request(0));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.sent.size() == 1);
    for (int i = 1; i < 13; i++) { // 9 fit beside the first; 3 are dropped
      emitter.log(request(i));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.sent.size() == 10);
    // the 3 drops ride on the second event handed over; Kafka then times everything out
    sink.completeAll(new org.apache.kafka.common.errors.TimeoutException("expired"));
    assertThat(emitter.failed()).isEqualTo(10);
    assertThat(emitter.dropped()).isEqualTo(3);
    assertThat(emitter.unreported()).isEqualTo(13);

    emitter.log(request(50));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.sent.size() == 11);
    sink.completeAll(null);
    assertThat(sink.sent.get(10).event().getDroppedBefore()).isEqualTo(13);
    assertThat(emitter.unreported()).isZero();
    assertThat(emitter.sent()).isEqualTo(1);
  }

  @Test
  void aSinkThatThrowsLosesTheEventButNotTheProxy() {
    sink.throwOnSend = new org.apache.kafka.common.KafkaException("closed");
    emitter(10);
    emitter.log(request(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.failed() == 1);
    assertThat(emitter.buffered()).isZero();
    sink.throwOnSend = null;
    sink.autoAck = true;
    emitter.log(request(2));
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.sent() == 1);
    assertThat(sink.sent.get(0).event().getDroppedBefore()).isEqualTo(1);
  }

  @Test
  void closeSendsWhatIsQueued() {
    emitter = new TelemetryEmitter(new RequestEvents(identity, "cluster.local"), sink, 1_000,
        Duration.ofHours(1), Duration.ofSeconds(1));
    for (int i = 0; i < 100; i++) {
      emitter.log(request(i));
    }
    emitter.close();
    assertThat(sink.closed).isTrue();
    assertThat(emitter.sent()).isEqualTo(100);
    assertThat(sink.sent).hasSize(100);
    emitter = null;
  }

  @Test
  void closeGivesUpOnASinkThatBlocksAndCountsWhatItLeft() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    EventSink blocking = new EventSink() {
      @Override
      public void send(byte[] key, byte[] value, Outcome outcome) {
        entered.countDown();
        try {
          release.await(); // like a send waiting for metadata of a topic that does not exist
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        outcome.completed(new org.apache.kafka.common.errors.TimeoutException("metadata"));
      }

      @Override
      public void close(Duration timeout) {
      }
    };
    emitter = new TelemetryEmitter(new RequestEvents(identity, "cluster.local"), blocking, 100,
        Duration.ofMillis(5), Duration.ofSeconds(1), nanos::get);
    for (int i = 0; i < 20; i++) {
      emitter.log(request(i));
    }
    assertThat(entered.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    TelemetryEmitter e = emitter;
    Thread kafka = new Thread(() -> {
      await().atMost(Duration.ofSeconds(10)).until(e::closing);
      nanos.addAndGet(Duration.ofSeconds(2).toNanos()); // the close deadline passes
      release.countDown();
    });
    kafka.start();
    emitter.close();
    kafka.join();
    assertThat(emitter.failed()).isEqualTo(1); // the send that was blocked
    assertThat(emitter.dropped()).isEqualTo(19); // the rest, left at the deadline
    assertThat(emitter.buffered()).isZero();
    emitter = null;
  }

  @Test
  void everyRequestLoggedWhileCloseRunsIsSentOrCountedAsDropped() throws Exception {
    // sent + dropped == logged exactly, also for requests that finish while the proxy closes
    for (int round = 0; round < 20; round++) {
      java.util.concurrent.atomic.AtomicLong handed = new java.util.concurrent.atomic.AtomicLong();
      EventSink acking = new EventSink() {
        @Override
        public void send(byte[] key, byte[] value, Outcome outcome) {
          handed.incrementAndGet();
          outcome.completed(null);
        }

        @Override
        public void close(Duration timeout) {
        }
      };
      TelemetryEmitter e = new TelemetryEmitter(new RequestEvents(identity, "cluster.local"),
          acking, 1_000, Duration.ofMillis(1), Duration.ofSeconds(5));
      java.util.concurrent.atomic.AtomicInteger logged =
          new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(2);
      List<Thread> loops = new java.util.ArrayList<>();
      for (int t = 0; t < 2; t++) {
        Thread th = new Thread(() -> {
          started.countDown();
          for (int i = 0; !e.closing() || i % 64 != 0; i++) { // and a few after close began
            e.log(request(i));
            logged.incrementAndGet();
          }
        });
        th.start();
        loops.add(th);
      }
      started.await();
      await().atMost(Duration.ofSeconds(10)).until(() -> logged.get() > 1_000);
      e.close();
      for (Thread th : loops) {
        th.join(10_000);
      }
      assertThat(e.failed()).isZero();
      assertThat(e.sent() + e.dropped()).as("round %d: sent %d, dropped %d, buffered %d", round,
          e.sent(), e.dropped(), e.buffered()).isEqualTo(logged.get());
      assertThat(handed.get()).isEqualTo(e.sent());
      assertThat(e.buffered()).isZero();
    }
  }

  @Test
  void countersAreOnThePrometheusPage() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    emitter(1).bindTo(registry);
    emitter.log(request(1));
    emitter.log(request(2));
    String page = registry.scrape();
    assertThat(page).contains("meshlog_telemetry_events_dropped_total 1.0",
        "meshlog_telemetry_events_sent_total", "meshlog_telemetry_events_failed_total",
        "meshlog_telemetry_events_buffered", "meshlog_telemetry_events_unreported");
  }
}
