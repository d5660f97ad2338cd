package dev.meshlog.proxy.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.meshlog.events.telemetry.LossReport;
import dev.meshlog.events.telemetry.Reporter;
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
      /** The record's events, as a reader of the topic gets them. */
      List<RequestEvent> events() {
        return Topics.TELEMETRY_REQUESTS.deserializeValue(value).getEvents();
      }

      List<String> ids() {
        return events().stream().map(RequestEvent::getRequestId).toList();
      }

      /** The loss report of a loss-only record, else null. */
      LossReport lossReport() {
        return Topics.TELEMETRY_REQUESTS.deserializeValue(value).getLossReport();
      }
    }

    /** The loss-only records sent, in order. */
    List<Sent> lossOnly() {
      return sent.stream().filter(s -> s.lossReport() != null).toList();
    }

    /**
     * The loss reported by the records sent: {@code droppedBefore} of their events and
     * {@code lost} of their loss reports (what a reader of the topic sums per proxy).
     */
    long reportedLoss() {
      return events().stream().mapToLong(RequestEvent::getDroppedBefore).sum()
          + lossOnly().stream().mapToLong(s -> s.lossReport().getLost()).sum();
    }

    /** The events of every record sent, in order. */
    List<RequestEvent> events() {
      return sent.stream().flatMap(s -> s.events().stream()).toList();
    }

    int eventCount() {
      return events().size();
    }

    final List<Sent> sent = new CopyOnWriteArrayList<>();
    volatile boolean autoAck;
    volatile RuntimeException throwOnSend;
    /** Whether it takes no record now (like Kafka without the topic's metadata). */
    volatile boolean refuse;
    final java.util.concurrent.atomic.AtomicInteger refusals =
        new java.util.concurrent.atomic.AtomicInteger();
    volatile boolean closed;
    volatile int completedUpTo;

    @Override
    public void send(byte[] key, byte[] value, Outcome outcome) {
      if (throwOnSend != null) {
        throw throwOnSend;
      }
      if (refuse) {
        refusals.incrementAndGet();
        throw new NotTakenException(new org.apache.kafka.common.errors.TimeoutException(
            "Topic mesh.telemetry.requests not present in metadata after 2000 ms."));
      }
      sent.add(new Sent(new String(key, java.nio.charset.StandardCharsets.UTF_8), value, outcome));
      if (autoAck) {
        outcome.completed(null);
        completedUpTo = sent.size(); // not completed again by completeAll
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
    assertThat(sink.events()).extracting(RequestEvent::getRequestId)
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
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.eventCount() == 10);
    assertThat(emitter.dropped()).isEqualTo(15);
    assertThat(emitter.buffered()).isEqualTo(10);

    sink.completeAll(null); // Kafka is back
    assertThat(emitter.sent()).isEqualTo(10);
    assertThat(emitter.buffered()).isZero();
    emitter.log(request(99));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.eventCount() == 11);
    // the drops ride on the first event of the first record handed over after them (one of the
    // first records if the thread took it after the drops, else the last): reported exactly
    // once either way
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.unreported() == 0);
    assertThat(sink.reportedLoss()).isEqualTo(15);
  }

  @Test
  void aFailedSendIsCountedAndReportedOnceOnTheTopic() {
    emitter(10);
    emitter.log(request(0));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.eventCount() == 1);
    for (int i = 1; i < 13; i++) { // 9 fit beside the first; 3 are dropped
      emitter.log(request(i));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.eventCount() == 10);
    // the 3 drops ride on the second record handed over; Kafka then times everything out
    sink.completeAll(new org.apache.kafka.common.errors.TimeoutException("expired"));
    assertThat(emitter.failed()).isEqualTo(10);
    assertThat(emitter.dropped()).isEqualTo(3);
    assertThat(emitter.unreported()).isEqualTo(13);

    emitter.log(request(50));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.eventCount() == 11);
    sink.completeAll(null);
    List<RequestEvent> last = sink.events().subList(10, 11);
    assertThat(last).extracting(RequestEvent::getRequestId).containsExactly("req-50");
    // on req-50's event, or on a loss-only record if a drain came between the failure and it
    long before = sink.events().subList(0, 10).stream()
        .mapToLong(RequestEvent::getDroppedBefore).sum(); // the 3 drops, on a failed record
    assertThat(sink.reportedLoss() - before).isEqualTo(13);
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
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.sent() == 1
        && emitter.unreported() == 0);
    // on request 2's event, or on a loss-only record if a drain came before it
    assertThat(sink.reportedLoss()).isEqualTo(1);
  }

  @Test
  void recordsTheSinkCannotTakeAreHeldAndDeliveredInOrderOnceItCan() {
    sink.refuse = true;
    sink.autoAck = true;
    emitter(10);
    for (int i = 0; i < 25; i++) {
      emitter.log(request(i));
    }
    // the 10 that fit are held (offered again each drain), the other 15 dropped and counted
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.refusals.get() >= 3);
    assertThat(emitter.recordsNotTaken()).isPositive();
    assertThat(emitter.buffered()).isEqualTo(10);
    assertThat(emitter.dropped()).isEqualTo(15);
    assertThat(emitter.failed()).isZero();
    assertThat(sink.sent).isEmpty();

    sink.refuse = false; // Kafka is back
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.sent() == 10);
    assertThat(sink.events()).extracting(RequestEvent::getRequestId)
        .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 10)
            .mapToObj(i -> "req-" + i).toList());
    emitter.log(request(99));
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.sent() == 11);
    // the drops ride on the held records if they came before those were encoded, else on a
    // loss-only record or the next event: reported exactly once either way
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.unreported() == 0);
    assertThat(sink.reportedLoss()).isEqualTo(15);
    assertThat(emitter.failed()).isZero();
    assertThat(emitter.buffered()).isZero();
  }

  /**
   * Closes {@link #emitter} (1 s close timeout, time read from {@code nanos}); once the close
   * began, time passes its deadline and {@code then} runs.
   */
  void closePastTheDeadline(java.util.concurrent.atomic.AtomicLong nanos, Runnable then)
      throws InterruptedException {
    TelemetryEmitter e = emitter;
    Thread clock = new Thread(() -> {
      await().atMost(Duration.ofSeconds(10)).until(e::closing);
      nanos.addAndGet(Duration.ofSeconds(2).toNanos());
      then.run();
    });
    clock.start();
    emitter.close();
    clock.join();
  }

  @Test
  void recordsStillHeldAtTheCloseDeadlineAreDroppedAndCounted() throws Exception {
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    sink.refuse = true;
    emitter = new TelemetryEmitter(new RequestEvents(identity, "cluster.local"), sink, 100,
        Duration.ofMillis(5), Duration.ofSeconds(1), nanos::get);
    for (int i = 0; i < 30; i++) {
      emitter.log(request(i));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.refusals.get() >= 1
        && emitter.buffered() == 30);
    closePastTheDeadline(nanos, () -> { });
    assertThat(emitter.dropped()).isEqualTo(30);
    assertThat(emitter.failed()).isZero();
    assertThat(emitter.sent()).isZero();
    assertThat(emitter.buffered()).isZero();
    assertThat(emitter.unreported()).isEqualTo(30);
    assertThat(sink.sent).isEmpty();
    emitter = null;
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
    assertThat(sink.eventCount()).isEqualTo(100);
    assertThat(sink.sent).hasSize(1); // one edge, one drain: one record
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
    emitter.log(request(0));
    assertThat(entered.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    for (int i = 1; i < 20; i++) { // queued behind the blocked send
      emitter.log(request(i));
    }
    closePastTheDeadline(nanos, release::countDown);
    assertThat(emitter.failed()).isEqualTo(1); // the record (of one event) that was blocked
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
          handed.addAndGet(Topics.TELEMETRY_REQUESTS.deserializeValue(value).getEvents().size());
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

  static AccessLogEntry request(int i, String service, String path) {
    return new AccessLogEntry(RequestEventsTest.START, "outbound", "GET", path, "HTTP/1.1", 200,
        Set.of(), 0, 2, 1, 1, "req-" + i, service, null, null, null, null, 1,
        "productpage-v1", service + ".default.svc.cluster.local", null, null, null, null, 1_000);
  }

  /** An emitter that drains only when closed: one drain takes everything logged before. */
  TelemetryEmitter drainingOnClose(int capacity) {
    sink.autoAck = true;
    emitter = new TelemetryEmitter(new RequestEvents(identity, "cluster.local"), sink, capacity,
        Duration.ofHours(1), Duration.ofSeconds(5));
    return emitter;
  }

  @Test
  void aDrainWithTwoEdgesSendsOneRecordPerEdgeEachWithItsEventsInOrder() {
    drainingOnClose(1_000);
    for (int i = 0; i < 10; i++) {
      emitter.log(request(i, i % 3 == 0 ? "ratings" : "reviews", "/"));
    }
    emitter.close();
    emitter = null;
    // in the order of each edge's first event
    assertThat(sink.sent).extracting(HeldSink.Sent::key).containsExactly(
        "default/productpage->default/ratings", "default/productpage->default/reviews");
    assertThat(sink.sent.get(0).ids()).containsExactly("req-0", "req-3", "req-6", "req-9");
    assertThat(sink.sent.get(1).ids())
        .containsExactly("req-1", "req-2", "req-4", "req-5", "req-7", "req-8");
    assertThat(sink.sent).allSatisfy(s -> assertThat(s.events()).allSatisfy(e ->
        assertThat(RequestEvents.key(e.getSource(), e.getDestination())).isEqualTo(s.key())));
  }

  @Test
  void eventsOfOneServiceOnDifferentEndpointsShareTheEdgesRecord() {
    drainingOnClose(1_000);
    dev.meshlog.proxy.config.EndpointConfig v1 = dev.meshlog.proxy.config.EndpointConfig.of(
        "10.0.0.1", 9080, java.util.Map.of("version", "v1"), "", "");
    dev.meshlog.proxy.config.EndpointConfig v2 = dev.meshlog.proxy.config.EndpointConfig.of(
        "10.0.0.2", 9080, java.util.Map.of("version", "v2"), "", "");
    for (int i = 0; i < 6; i++) {
      AccessLogEntry r = request(i);
      emitter.log(new AccessLogEntry(r.start(), "outbound", "GET", "/", "HTTP/1.1", 200,
          Set.of(), 0, 2, 1, 1, "req-" + i, "reviews", null, null, null, null, 1,
          "productpage-v1", "reviews.default.svc.cluster.local", null, null, null,
          i % 2 == 0 ? v1 : v2, 1_000));
    }
    emitter.close();
    emitter = null;
    assertThat(sink.sent).hasSize(1);
    assertThat(sink.sent.get(0).events()).extracting(e -> e.getDestination().getVersion())
        .containsExactly("v1", "v2", "v1", "v2", "v1", "v2");
  }

  @Test
  void anEdgesEventsAreSplitIntoRecordsOfAtMostMaxBatchEvents() {
    int n = 2 * TelemetryEmitter.MAX_BATCH_EVENTS + 1;
    drainingOnClose(8 * n); // woken early only after a quarter of it
    for (int i = 0; i < n; i++) {
      emitter.log(request(i));
    }
    emitter.close();
    emitter = null;
    assertThat(sink.sent).extracting(s -> s.events().size())
        .containsExactly(TelemetryEmitter.MAX_BATCH_EVENTS, TelemetryEmitter.MAX_BATCH_EVENTS, 1);
    assertThat(sink.sent).extracting(HeldSink.Sent::key).containsOnly(
        "default/productpage->default/reviews");
    assertThat(sink.events()).extracting(RequestEvent::getRequestId).containsExactlyElementsOf(
        java.util.stream.IntStream.range(0, n).mapToObj(i -> "req-" + i).toList());
  }

  @Test
  void anEdgesEventsAreSplitIntoRecordsOfAtMostMaxBatchBytes() {
    String path = "/" + "p".repeat(2_000); // ~2.1 KB an event: ~15 fit in 32 KiB
    int n = 300;
    drainingOnClose(2_000);
    for (int i = 0; i < n; i++) {
      emitter.log(request(i, "reviews", path));
    }
    TelemetryEmitter e = emitter;
    emitter.close();
    emitter = null;
    assertThat(e.sent()).isEqualTo(n);
    assertThat(sink.sent).hasSizeGreaterThanOrEqualTo(3)
        .allSatisfy(s -> assertThat(s.value().length)
            .isLessThanOrEqualTo(TelemetryEmitter.MAX_BATCH_BYTES));
    int oneEvent = sink.sent.get(sink.sent.size() - 1).value().length
        / sink.sent.get(sink.sent.size() - 1).events().size();
    // every record but the last is full: one more event would have passed the bound
    for (HeldSink.Sent s : sink.sent.subList(0, sink.sent.size() - 1)) {
      assertThat(s.value().length + oneEvent).isGreaterThan(TelemetryEmitter.MAX_BATCH_BYTES);
    }
    assertThat(sink.events()).extracting(RequestEvent::getRequestId).containsExactlyElementsOf(
        java.util.stream.IntStream.range(0, n).mapToObj(i -> "req-" + i).toList());
    assertThat(e.sent()).isEqualTo(n);
  }

  @Test
  void anEventBiggerThanTheByteBoundGoesInARecordOfItsOwn() {
    drainingOnClose(100);
    emitter.log(request(0, "reviews", "/small"));
    emitter.log(request(1, "reviews", "/" + "b".repeat(TelemetryEmitter.MAX_BATCH_BYTES)));
    emitter.log(request(2, "reviews", "/small"));
    TelemetryEmitter e = emitter;
    emitter.close();
    emitter = null;
    assertThat(sink.sent).extracting(HeldSink.Sent::ids).containsExactly(
        List.of("req-0"), List.of("req-1"), List.of("req-2"));
    assertThat(sink.sent.get(1).value().length)
        .isGreaterThan(TelemetryEmitter.MAX_BATCH_BYTES);
    assertThat(e.sent()).isEqualTo(3);
  }

  @Test
  void aFailedRecordCountsAllItsEventsAsFailedAndTheNextRecordReportsThem() {
    emitter = new TelemetryEmitter(new RequestEvents(identity, "cluster.local"), sink, 100,
        Duration.ofHours(1), Duration.ofSeconds(5));
    for (int i = 0; i < 7; i++) {
      emitter.log(request(i, i < 5 ? "reviews" : "ratings", "/"));
    }
    // the thread drains a quarter of the buffer (25) after it was queued, or at close: wake it
    for (int i = 7; i < 25; i++) {
      emitter.log(request(i, "details", "/"));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.sent.size() == 3);
    assertThat(sink.sent).extracting(s -> s.events().size()).containsExactly(5, 2, 18);
    assertThat(emitter.buffered()).isEqualTo(25);

    sink.sent.get(0).outcome().completed(
        new org.apache.kafka.common.errors.RecordTooLargeException("too large"));
    sink.sent.get(1).outcome().completed(null);
    sink.sent.get(2).outcome().completed(null);
    sink.completedUpTo = 3;
    assertThat(emitter.failed()).isEqualTo(5);
    assertThat(emitter.sent()).isEqualTo(20);
    assertThat(emitter.buffered()).isZero(); // every event of every record released
    assertThat(emitter.unreported()).isEqualTo(5);

    sink.autoAck = true;
    emitter.log(request(100, "ratings", "/"));
    emitter.log(request(101, "ratings", "/"));
    emitter.close();
    emitter = null;
    List<RequestEvent> next = sink.sent.get(3).events();
    assertThat(next).extracting(RequestEvent::getRequestId).containsExactly("req-100", "req-101");
    assertThat(next).extracting(RequestEvent::getDroppedBefore).containsExactly(5L, 0L);
  }

  /** An emitter draining every 5 ms, its loss reports dated by {@link #CLOCK}. */
  TelemetryEmitter clockedEmitter(int capacity) {
    emitter = new TelemetryEmitter(new RequestEvents(identity, "cluster.local"), sink, capacity,
        Duration.ofMillis(5), Duration.ofSeconds(1), System::nanoTime, CLOCK);
    return emitter;
  }

  static final java.time.Clock CLOCK = java.time.Clock.fixed(
      java.time.Instant.parse("2026-11-26T10:15:30.123456Z"), java.time.ZoneOffset.UTC);

  /** Four events sent, then failed by Kafka (it timed them out): four lost, none reported yet. */
  void fourEventsFail() {
    for (int i = 0; i < 4; i++) {
      emitter.log(request(i));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.eventCount() == 4);
    assertThat(sink.lossOnly()).isEmpty();
    sink.completeAll(new org.apache.kafka.common.errors.TimeoutException("expired"));
    assertThat(emitter.failed()).isEqualTo(4);
  }

  @Test
  void aLossFollowedBySilenceIsReportedByOneLossOnlyRecordWithTheExactCount() {
    clockedEmitter(10);
    fourEventsFail();

    // no further request: the next drain has no event to carry the loss and sends it alone
    await().atMost(Duration.ofSeconds(10)).until(() -> !sink.lossOnly().isEmpty());
    HeldSink.Sent record = sink.lossOnly().get(0);
    assertThat(record.events()).isEmpty();
    assertThat(record.key()).isEqualTo("default/productpage->default/reviews"); // its edge's
    LossReport report = record.lossReport();
    assertThat(report.getLost()).isEqualTo(4);
    assertThat(report.getProxyId()).isEqualTo(identity.proxyId());
    assertThat(report.getReporter()).isEqualTo(Reporter.SOURCE);
    assertThat(report.getSource().getService()).isEqualTo("productpage");
    assertThat(report.getSource().getVersion()).isEqualTo("v1");
    assertThat(report.getDestination().getService()).isEqualTo("reviews");
    assertThat(report.getReportedAt()).isEqualTo(CLOCK.instant());
    assertThat(emitter.unreported()).isZero();
    sink.completeAll(null); // Kafka acknowledges it
    assertThat(emitter.failed()).isEqualTo(4); // a loss-only record holds no event
    assertThat(emitter.sent()).isZero();
    assertThat(emitter.buffered()).isZero();

    // traffic again: its records do not report the loss a second time
    sink.autoAck = true;
    emitter.log(request(50));
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.sent() == 1);
    assertThat(sink.events().get(4).getDroppedBefore()).isZero();
    assertThat(sink.lossOnly()).hasSize(1);
    assertThat(sink.reportedLoss()).isEqualTo(4);
  }

  @Test
  void aLossOnlyRecordThatFailsPutsItsCountBackAndTheNextOneReportsIt() {
    clockedEmitter(10);
    fourEventsFail();
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.lossOnly().size() == 1);
    sink.completeAll(new org.apache.kafka.common.errors.TimeoutException("expired"));

    // its count is lost again, and goes on the next loss-only record (traffic is still quiet)
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.lossOnly().size() == 2);
    assertThat(sink.lossOnly().get(1).lossReport().getLost()).isEqualTo(4);
    sink.completeAll(null);
    assertThat(emitter.unreported()).isZero();
    assertThat(emitter.failed()).isEqualTo(4); // the loss-only record's failure lost no event
    assertThat(emitter.dropped()).isZero();
    assertThat(emitter.buffered()).isZero();
    // only one record is in flight at a time: acknowledged, nothing more is made
    sink.autoAck = true;
    emitter.log(request(50));
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.sent() == 1);
    assertThat(sink.lossOnly()).hasSize(2);
    assertThat(sink.events().get(4).getDroppedBefore()).isZero();
  }

  @Test
  void aLossOnlyRecordTheSinkCannotTakeIsHeldAloneUntilItCan() {
    clockedEmitter(10);
    fourEventsFail();
    sink.refuse = true;
    sink.autoAck = true;
    int refusedBefore = sink.refusals.get();
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.refusals.get() >= refusedBefore + 3);
    assertThat(emitter.unreported()).isZero(); // carried by the held record
    sink.refuse = false;
    await().atMost(Duration.ofSeconds(10)).until(() -> !sink.lossOnly().isEmpty());
    emitter.log(request(50));
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.sent() == 1);
    assertThat(sink.lossOnly()).hasSize(1); // offered again and again, made once
    assertThat(sink.reportedLoss()).isEqualTo(4);
  }

  @Test
  void closeReportsAPendingLossAlone() {
    // no periodic drain: the four requests (a quarter of the buffer) wake one, then only close
    emitter = new TelemetryEmitter(new RequestEvents(identity, "cluster.local"), sink, 16,
        Duration.ofHours(1), Duration.ofSeconds(1), System::nanoTime, CLOCK);
    fourEventsFail();
    assertThat(emitter.unreported()).isEqualTo(4);
    sink.autoAck = true;
    emitter.close();
    emitter = null;
    assertThat(sink.lossOnly()).hasSize(1);
    assertThat(sink.reportedLoss()).isEqualTo(4);
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
        "meshlog_telemetry_events_buffered", "meshlog_telemetry_events_unreported",
        "meshlog_telemetry_records_not_taken_total");
  }

  // TCP connections

  final dev.meshlog.proxy.support.MutableClock clock = new dev.meshlog.proxy.support.MutableClock(
      RequestEventsTest.START);

  TelemetryEmitter tcpEmitter(Duration reportEvery) {
    emitter = new TelemetryEmitter(new RequestEvents(identity, "cluster.local"), sink, 1_000,
        Duration.ofMillis(5), Duration.ofSeconds(1), System::nanoTime, clock, reportEvery);
    return emitter;
  }

  static AccessLogEntry tcp(Set<dev.meshlog.proxy.http.ResponseFlag> flags, long in, long out) {
    return new AccessLogEntry(RequestEventsTest.START, "outbound", "-", "-", "TCP", 0, flags, in,
        out, 2, -1, null, "db.default.svc.cluster.local:5432", null, null, null, null, 1,
        "productpage-v1", "db.default.svc.cluster.local", null, null, null, null, 2_000);
  }

  List<RequestEvent> tcpEvents() {
    return sink.events().stream().filter(e -> e.getTcp() != null).toList();
  }

  @Test
  void aLongConnectionIsReportedEveryIntervalWithDeltasThatSumToItsTotalsOpenedAndClosedOnce() {
    sink.autoAck = true;
    tcpEmitter(Duration.ofSeconds(15));
    AccessLogEntry opening = tcp(Set.of(), 0, 0);
    dev.meshlog.proxy.http.AccessLog.TcpBytes live = emitter.tcpOpened(opening);
    live.towardsDestination(10);
    live.fromDestination(100);
    clock.advance(Duration.ofSeconds(15));
    await().atMost(Duration.ofSeconds(10)).until(() -> tcpEvents().size() == 1);
    live.towardsDestination(5);
    clock.advance(Duration.ofSeconds(14)); // not due yet: 15 s after the last report
    live.fromDestination(1);
    clock.advance(Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> tcpEvents().size() == 2);
    live.towardsDestination(7);
    emitter.tcpClosed(tcp(Set.of(), 22, 101), live);
    await().atMost(Duration.ofSeconds(10)).until(() -> tcpEvents().size() == 3);

    List<RequestEvent> reports = tcpEvents();
    assertThat(reports).extracting(RequestEvent::getRequestBytes).containsExactly(10L, 5L, 7L);
    assertThat(reports).extracting(RequestEvent::getResponseBytes).containsExactly(100L, 1L, 0L);
    assertThat(reports).extracting(e -> e.getTcp().getOpened()).containsExactly(true, false,
        false);
    assertThat(reports).extracting(e -> e.getTcp().getClosed()).containsExactly(false, false,
        true);
    assertThat(reports).extracting(RequestEvent::getDurationMicros)
        .containsExactly(15_000_000L, 30_000_000L, 30_000_000L);
    assertThat(reports).allSatisfy(e -> {
      assertThat(e.getProtocol()).isEqualTo("tcp");
      assertThat(e.getStartTime()).isEqualTo(RequestEventsTest.START);
      assertThat(e.getReporter()).isEqualTo(Reporter.SOURCE);
      assertThat(e.getResponseCode()).isZero();
    });
    // nothing more once it closed
    clock.advance(Duration.ofSeconds(60));
    emitter.log(request(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.eventCount() == 4);
    assertThat(tcpEvents()).hasSize(3);
  }

  @Test
  void aConnectionClosedWithinItsFirstIntervalHasOneReportBothOpenedAndClosed() {
    sink.autoAck = true;
    tcpEmitter(Duration.ofSeconds(15));
    dev.meshlog.proxy.http.AccessLog.TcpBytes live = emitter.tcpOpened(tcp(Set.of(), 0, 0));
    live.towardsDestination(8);
    live.fromDestination(14);
    clock.advance(Duration.ofSeconds(14));
    emitter.tcpClosed(tcp(Set.of(), 8, 14), live);
    clock.advance(Duration.ofSeconds(60));
    await().atMost(Duration.ofSeconds(10)).until(() -> tcpEvents().size() == 1);
    emitter.close();

    RequestEvent only = tcpEvents().get(0);
    assertThat(only.getTcp().getOpened()).isTrue();
    assertThat(only.getTcp().getClosed()).isTrue();
    assertThat(only.getRequestBytes()).isEqualTo(8);
    assertThat(only.getResponseBytes()).isEqualTo(14);
    assertThat(only.getDurationMicros()).isEqualTo(2_000);
    assertThat(tcpEvents()).hasSize(1);
  }

  @Test
  void aFailedConnectionHasOneReportWithItsFlags() {
    sink.autoAck = true;
    tcpEmitter(Duration.ofSeconds(15));
    emitter.tcpClosed(tcp(Set.of(dev.meshlog.proxy.http.ResponseFlag.UF), 0, 0),
        dev.meshlog.proxy.http.AccessLog.TcpBytes.NONE);
    await().atMost(Duration.ofSeconds(10)).until(() -> tcpEvents().size() == 1);

    RequestEvent e = tcpEvents().get(0);
    assertThat(e.getResponseFlags()).containsExactly("UF");
    assertThat(e.getTcp().getOpened()).isTrue();
    assertThat(e.getTcp().getClosed()).isTrue();
    assertThat(e.getRequestBytes()).isZero();
  }

  @Test
  void withTheIntervalZeroAConnectionIsReportedOnlyWhenItClosesWithTheEntrysBytes() {
    sink.autoAck = true;
    tcpEmitter(Duration.ZERO);
    dev.meshlog.proxy.http.AccessLog.TcpBytes live = emitter.tcpOpened(tcp(Set.of(), 0, 0));
    assertThat(live).isSameAs(dev.meshlog.proxy.http.AccessLog.TcpBytes.NONE);
    clock.advance(Duration.ofHours(1));
    emitter.log(request(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.eventCount() == 1);
    emitter.tcpClosed(tcp(Set.of(), 3, 4), live);
    await().atMost(Duration.ofSeconds(10)).until(() -> tcpEvents().size() == 1);

    assertThat(tcpEvents().get(0).getRequestBytes()).isEqualTo(3);
    assertThat(tcpEvents().get(0).getResponseBytes()).isEqualTo(4);
    assertThat(tcpEvents().get(0).getTcp().getOpened()).isTrue();
    assertThat(tcpEvents().get(0).getTcp().getClosed()).isTrue();
  }

  @Test
  void aConnectionsLastReportOfferedAfterCloseIsDroppedAndCounted() {
    tcpEmitter(Duration.ofSeconds(15));
    emitter.close();
    emitter.tcpClosed(tcp(Set.of(), 1, 1), dev.meshlog.proxy.http.AccessLog.TcpBytes.NONE);
    assertThat(emitter.dropped()).isEqualTo(1);
    assertThat(emitter.unreported()).isEqualTo(1);
  }

  @Test
  void shortConnectionsAreForgottenWithoutWaitingForAnInterval() {
    sink.autoAck = true;
    tcpEmitter(Duration.ofHours(1));
    dev.meshlog.proxy.http.AccessLog.TcpBytes longLived = emitter.tcpOpened(tcp(Set.of(), 0, 0));
    for (int i = 0; i < 500; i++) {
      dev.meshlog.proxy.http.AccessLog.TcpBytes live = emitter.tcpOpened(tcp(Set.of(), 0, 0));
      live.towardsDestination(1);
      emitter.tcpClosed(tcp(Set.of(), 1, 0), live);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> tcpEvents().size() == 500);
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.followedConnections() == 1);
    assertThat(tcpEvents()).allSatisfy(e -> {
      assertThat(e.getRequestBytes()).isEqualTo(1);
      assertThat(e.getTcp().getOpened()).isTrue();
      assertThat(e.getTcp().getClosed()).isTrue();
    });
    assertThat(longLived).isNotNull();
  }

  @Test
  void connectionsTheSweepFollowedAreForgottenOnceTheyCloseWithoutWaitingForAnInterval() {
    sink.autoAck = true;
    tcpEmitter(Duration.ofHours(1));
    emitter.tcpOpened(tcp(Set.of(), 0, 0)); // stays open
    List<dev.meshlog.proxy.http.AccessLog.TcpBytes> live = new java.util.ArrayList<>();
    for (int i = 0; i < 500; i++) {
      live.add(emitter.tcpOpened(tcp(Set.of(), 0, 0)));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.followedConnections() == 501);
    for (dev.meshlog.proxy.http.AccessLog.TcpBytes c : live) {
      emitter.tcpClosed(tcp(Set.of(), 0, 0), c);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> tcpEvents().size() == 500);
    await().atMost(Duration.ofSeconds(10)).until(() -> emitter.followedConnections() == 1);
  }
}
