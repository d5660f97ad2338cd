package dev.meshlog.telemetry;

import static dev.meshlog.telemetry.Requests.batch;
import static dev.meshlog.telemetry.Requests.key;
import static dev.meshlog.telemetry.Requests.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;

import com.datadoghq.sketch.ddsketch.DDSketch;
import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.LossReport;
import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TelemetryTopologyTest {

  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");
  /**
   * The driver's wall clock: after every event of these tests (a proxy's event may be only
   * {@code maxAhead}, 1 min, ahead of the pipeline's clock).
   */
  private static final Instant WALL = T0.plus(Duration.ofHours(1));
  private static final String PRODUCTPAGE_TO_REVIEWS_V2 = "default/productpage/v1->default/reviews/v2";

  private TopologyTestDriver driver;
  private TestInputTopic<String, RequestEventBatch> requests;
  /** The topic as releases before batching wrote it: one RequestEvent per record. */
  private TestInputTopic<String, RequestEvent> singles;
  private TestInputTopic<String, byte[]> rawRequests;
  private TestOutputTopic<String, EdgeMetrics> edges;
  private TestOutputTopic<String, DeadLetter> deadLetters;

  @TempDir
  Path stateDir;

  @BeforeEach
  void start() {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "telemetry-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, "true");
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(TelemetryTopology.build(new TelemetryTopology.Settings(
        "telemetry-test", Duration.ofSeconds(30), Duration.ofHours(1), Duration.ofHours(24), 0.01)),
        props, WALL);
    requests = driver.createInputTopic(Topics.TELEMETRY_REQUESTS.name(), Serdes.String().serializer(),
        Topics.TELEMETRY_REQUESTS.valueSerde().serializer());
    singles = driver.createInputTopic(Topics.TELEMETRY_REQUESTS.name(), Serdes.String().serializer(),
        Requests.SINGLE.serializer());
    rawRequests = driver.createInputTopic(Topics.TELEMETRY_REQUESTS.name(),
        Serdes.String().serializer(), Serdes.ByteArray().serializer());
    edges = driver.createOutputTopic(Topics.TELEMETRY_EDGES.name(), Serdes.String().deserializer(),
        Topics.TELEMETRY_EDGES.valueSerde().deserializer());
    deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS.name(),
        Serdes.String().deserializer(), Topics.DEAD_LETTERS.valueSerde().deserializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  /** Sends {@code e} as a proxy does: a batch (of one) keyed by its edge. */
  private void send(RequestEvent e) {
    requests.pipeInput(key(e), batch(List.of(e)), e.getStartTime());
  }

  /** The latest value per key on the edges topic (what compaction keeps). */
  private Map<String, EdgeMetrics> latestEdges() {
    Map<String, EdgeMetrics> latest = new LinkedHashMap<>();
    edges.readKeyValuesToList().forEach(kv -> latest.put(kv.key, kv.value));
    return latest;
  }

  @Test
  void countsRequestsPerEdgeAndVersionInTenSecondAndOneMinuteWindows() {
    for (int i = 0; i < 3; i++) {
      send(request("default", "productpage", "v1", "reviews", "v2", 200, 10, T0.plusSeconds(i)));
    }
    send(request("default", "productpage", "v1", "reviews", "v3", 200, 10, T0.plusSeconds(1)));
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 10, T0.plusSeconds(12)));

    Map<String, EdgeMetrics> out = latestEdges();
    long start = T0.toEpochMilli();
    assertThat(out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + start + "/10000").getRequests()).isEqualTo(3);
    assertThat(out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + (start + 10_000) + "/10000").getRequests()).isEqualTo(1);
    assertThat(out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + start + "/60000").getRequests()).isEqualTo(4);
    assertThat(out.get("default/productpage/v1->default/reviews/v3@" + start + "/60000").getRequests()).isEqualTo(1);
    EdgeMetrics first = out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + start + "/10000");
    assertThat(first.getSource().getService()).isEqualTo("productpage");
    assertThat(first.getDestination().getVersion()).isEqualTo("v2");
    assertThat(first.getWindowStart()).isEqualTo(T0);
    assertThat(first.getWindowEnd()).isEqualTo(T0.plusSeconds(10));
    assertThat(first.getRequestBytes()).isEqualTo(300);
    assertThat(first.getResponseBytes()).isEqualTo(3000);
    assertThat(first.getUpdatedAt()).isEqualTo(T0.plusSeconds(2));
  }

  @Test
  void countsResponseCodeClassesAndErrorsAsFiveHundredsPlusNoResponse() {
    int[] codes = {101, 200, 201, 204, 302, 404, 429, 500, 503, 503, 0};
    for (int code : codes) {
      send(request("default", "productpage", "v1", "reviews", "v2", code, 5, T0));
    }
    EdgeMetrics m = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getRequests()).isEqualTo(11);
    assertThat(m.getResponses1xx()).isEqualTo(1);
    assertThat(m.getResponses2xx()).isEqualTo(3);
    assertThat(m.getResponses3xx()).isEqualTo(1);
    assertThat(m.getResponses4xx()).isEqualTo(2);
    assertThat(m.getResponses5xx()).isEqualTo(3);
    assertThat(m.getNoResponse()).isEqualTo(1);
    assertThat(m.getErrors()).isEqualTo(4);
  }

  @Test
  void countsResponseFlagsIgnoringTheNoFlagDash() {
    send(request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0, "UH"));
    send(request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0, "UH", "URX"));
    send(request("default", "productpage", "v1", "reviews", "v2", 0, 5, T0, "UT"));
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0, "-"));
    EdgeMetrics m = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getResponseFlags()).containsExactlyInAnyOrderEntriesOf(Map.of("UH", 2L, "URX", 1L, "UT", 1L));
  }

  @Test
  void countsALateEventWithinTheGracePeriodAndDropsOneAfterIt() {
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0.plusSeconds(1)));
    // Stream time moves to T0+35s: the [T0, T0+10s) window closes at T0+40s (10 s + 30 s grace).
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0.plusSeconds(35)));
    send(request("default", "productpage", "v1", "reviews", "v2", 500, 5, T0.plusSeconds(2)));
    EdgeMetrics within = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(within.getRequests()).isEqualTo(2);
    assertThat(within.getErrors()).isEqualTo(1);

    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0.plusSeconds(41)));
    send(request("default", "productpage", "v1", "reviews", "v2", 500, 5, T0.plusSeconds(3)));
    Map<String, EdgeMetrics> after = latestEdges();
    assertThat(after).doesNotContainKey(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    // The one-minute window [T0, T0+60s) is still open: it counts the event.
    assertThat(after.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/60000").getRequests()).isEqualTo(5);
    assertThat(driver.<String, EdgeMetrics>getTimestampedWindowStore(TelemetryTopology.STORE_10S)
        .fetch(PRODUCTPAGE_TO_REVIEWS_V2, T0.toEpochMilli()).value().getRequests()).isEqualTo(2);
  }

  /**
   * The aggregator folds each request into one partial and rolls the coarser windows and the
   * totals up from it before each commit. Reference: each request folded into each aggregate
   * it counts in, by {@link EdgeAggregation#add}, with the lateness rule applied per request
   * (stream time = the latest start seen; a window is closed once its end plus the grace is
   * not after stream time). Events go back in time within and beyond the grace, land on window
   * boundaries, and one edge goes quiet long enough to leave memory and be read back from the
   * stores. (A restart cannot be driven here: the driver deletes its state directory on close.)
   */
  @Test
  void rolledUpWindowsAndTotalsEqualFoldingEachRequestIntoEachAggregate() {
    EdgeAggregation aggregation = new EdgeAggregation(0.01);
    Map<String, EdgeMetrics> expected = new java.util.HashMap<>();
    Map<String, EdgeMetrics> expectedTotals = new java.util.HashMap<>();
    java.util.SplittableRandom random = new java.util.SplittableRandom(11);
    String[] dsts = {"reviews", "details", "ratings"};
    int[] codes = {200, 200, 200, 404, 500, 503, 0};
    long grace = 30_000;
    long streamTime = Long.MIN_VALUE;
    long now = T0.toEpochMilli();
    Map<String, EdgeMetrics> out = new java.util.HashMap<>();
    for (int i = 0; i < 3_000; i++) {
      now += random.nextInt(400);
      long t;
      int r = random.nextInt(20);
      if (r == 0) {
        t = now - 35_000 - random.nextInt(60_000); // late: beyond the 10 s windows' grace, maybe the 1 min's
      } else if (r == 1) {
        t = now - random.nextInt(30_000); // late within the grace
      } else if (r == 2) {
        t = now - now % 10_000; // on a window boundary
      } else {
        t = now;
      }
      // "ratings" is quiet in the middle third: its windows and totals leave memory.
      String dst = dsts[random.nextInt(i >= 1_000 && i < 2_000 ? 2 : 3)];
      RequestEvent e = request("default", "productpage", "v" + (1 + random.nextInt(2)), dst, "v1",
          codes[random.nextInt(codes.length)], Math.exp(random.nextGaussian() + 2), Instant.ofEpochMilli(t),
          random.nextInt(10) == 0 ? new String[] {"URX"} : new String[0]);
      if (random.nextInt(8) == 0) { // a TCP connection report on the same edge, reported at t
        long open = random.nextInt(600_000);
        e = Requests.tcp("default", "productpage", e.getSource().getVersion(), dst, "v1",
            Instant.ofEpochMilli(t - open), open, random.nextBoolean(), random.nextBoolean(),
            random.nextInt(100_000), random.nextInt(1_000_000), random.nextInt(5) == 0 ? "UF" : "-");
      }
      // Now and then a proxy reports a loss: the caller's on a counted report, or the callee's on
      // its duplicate report, which counts for the loss only.
      int loss = random.nextInt(25);
      boolean duplicate = loss == 0;
      if (loss <= 1) {
        e = RequestEvent.newBuilder(e).setDroppedBefore(1 + random.nextInt(1_000))
            .setReporter(duplicate ? Reporter.DESTINATION : Reporter.SOURCE).build();
      }
      send(e);

      String id = "default/productpage/" + e.getSource().getVersion() + "->default/" + dst + "/v1";
      streamTime = Math.max(streamTime, t);
      RequestEvent event = e;
      java.util.function.UnaryOperator<EdgeMetrics> fold = m -> aggregation.addLost(
          duplicate ? m : aggregation.add(m, event), event.getDroppedBefore(), duplicate, Edge.of(event), t);
      expectedTotals.put(id, fold.apply(expectedTotals.getOrDefault(id, aggregation.empty())));
      for (long size : new long[] {10_000, 60_000}) {
        long start = t - t % size;
        if (start + size > streamTime - grace) {
          String key = id + "@" + start + "/" + size;
          expected.put(key, fold.apply(expected.getOrDefault(key, aggregation.empty())));
        }
      }
    }
    out.putAll(latestEdges());
    assertThat(out.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
    expected.forEach((key, metrics) -> assertThat(EdgeMetrics.newBuilder(out.get(key))
        .setWindowStart(Instant.EPOCH).setWindowEnd(Instant.EPOCH).build()).as(key).isEqualTo(metrics));
    KeyValueStore<String, ValueAndTimestamp<EdgeMetrics>> totals =
        driver.getTimestampedKeyValueStore(TelemetryTopology.TOTALS_STORE);
    expectedTotals.forEach((id, metrics) ->
        assertThat(EdgeAggregation.published(totals.get(id).value())).as(id).isEqualTo(metrics));
  }

  @Test
  void countsATcpConnectionsReportsOnceInTheTcpFieldsOfTheWindowsOfTheirOwnTimes() {
    // A connection opened at T0 + 5 s, reported by both proxies after 10 s open and at its close
    // 25 s after opening: each report's bytes in the window it was sent in, opened and closed once.
    Instant opened = T0.plusSeconds(5);
    List<RequestEvent> outbound = List.of(
        Requests.tcp("default", "reviews", "v1", "mysql", "v1", opened, 10_000, true, false, 300, 4_000),
        Requests.tcp("default", "reviews", "v1", "mysql", "v1", opened, 25_000, false, true, 20, 500));
    for (RequestEvent e : outbound) {
      RequestEvent inbound = RequestEvent.newBuilder(e).setReporter(Reporter.DESTINATION).build();
      requests.pipeInput(key(e), batch(List.of(e)), e.getStartTime());
      requests.pipeInput(key(inbound), batch(List.of(inbound)), e.getStartTime());
    }
    send(request("default", "reviews", "v1", "mysql", "v1", 200, 3, T0.plusSeconds(16))); // HTTP too, same edge

    Map<String, EdgeMetrics> out = latestEdges();
    String edge = "default/reviews/v1->default/mysql/v1@";
    long start = T0.toEpochMilli();
    EdgeMetrics first = out.get(edge + (start + 10_000) + "/10000");
    assertThat(first.getTcpConnectionsOpened()).isEqualTo(1);
    assertThat(first.getTcpConnectionsClosed()).isZero();
    assertThat(first.getTcpReceivedBytes()).isEqualTo(300);
    assertThat(first.getTcpSentBytes()).isEqualTo(4_000);
    assertThat(first.getRequests()).as("the HTTP request only").isEqualTo(1);
    assertThat(first.getResponses2xx()).isEqualTo(1);
    assertThat(first.getRequestBytes()).isEqualTo(100);
    assertThat(first.getLatencyMaxMillis()).isEqualTo(3);
    EdgeMetrics last = out.get(edge + (start + 30_000) + "/10000");
    assertThat(last.getTcpConnectionsOpened()).isZero();
    assertThat(last.getTcpConnectionsClosed()).isEqualTo(1);
    assertThat(last.getTcpReceivedBytes()).isEqualTo(20);
    assertThat(last.getTcpSentBytes()).isEqualTo(500);
    assertThat(last.getRequests()).isZero();
    assertThat(last.getErrors()).isZero();
    assertThat(last.getNoResponse()).isZero();
    assertThat(last.getUpdatedAt()).isEqualTo(T0.plusSeconds(30));
    assertThat(out.get(edge + (start + 0) + "/10000")).as("nothing when it opened: reported later").isNull();
    EdgeMetrics minute = out.get(edge + start + "/60000");
    assertThat(minute.getTcpConnectionsOpened()).isEqualTo(1);
    assertThat(minute.getTcpConnectionsClosed()).isEqualTo(1);
    assertThat(minute.getTcpReceivedBytes()).isEqualTo(320);
    assertThat(minute.getTcpSentBytes()).isEqualTo(4_500);
    assertThat(minute.getTcpFailedConnections()).isZero();
    assertThat(minute.getRequests()).isEqualTo(1);
    KeyValueStore<String, ValueAndTimestamp<EdgeMetrics>> totals =
        driver.getTimestampedKeyValueStore(TelemetryTopology.TOTALS_STORE);
    EdgeMetrics total = totals.get("default/reviews/v1->default/mysql/v1").value();
    assertThat(total.getTcpConnectionsOpened()).isEqualTo(1);
    assertThat(total.getTcpConnectionsClosed()).isEqualTo(1);
    assertThat(total.getTcpReceivedBytes()).isEqualTo(320);
    assertThat(total.getRequests()).isEqualTo(1);
  }

  @Test
  void countsAClosingTcpReportWithFlagsAsAFailedConnectionAndItsFlagsButNoError() {
    send(Requests.tcp("default", "reviews", "v1", "mysql", "v1", T0, 2, true, true, 0, 0, "UF"));
    send(Requests.tcp("default", "reviews", "v1", "mysql", "v1", T0, 4, true, true, 10, 10, "-"));
    send(Requests.tcp("default", "reviews", "v1", "mysql", "v1", T0, 6, true, true, 0, 0, "UH"));
    EdgeMetrics m = latestEdges().get("default/reviews/v1->default/mysql/v1@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getTcpConnectionsOpened()).isEqualTo(3);
    assertThat(m.getTcpConnectionsClosed()).isEqualTo(3);
    assertThat(m.getTcpFailedConnections()).isEqualTo(2);
    assertThat(m.getResponseFlags()).containsOnly(Map.entry("UF", 1L), Map.entry("UH", 1L));
    assertThat(m.getRequests()).isZero();
    assertThat(m.getErrors()).isZero();
    assertThat(m.getNoResponse()).isZero();
    assertThat(m.getLatencyMaxMillis()).isZero();
  }

  @Test
  void foldsTheLossATcpReportCarriesAndCountsATcpReportOfABatchBeforeTcpNoMore() {
    RequestEvent e = RequestEvent.newBuilder(
        Requests.tcp("default", "reviews", "v1", "mysql", "v1", T0, 1_000, true, false, 7, 8))
        .setDroppedBefore(9).build();
    send(e);
    RequestEvent old = request("default", "reviews", "v1", "mysql", "v1", 200, 1, T0);
    rawRequests.pipeInput(key(old), Requests.asBatchBeforeTcp(batch(List.of(old))), T0);
    rawRequests.pipeInput(key(old), Requests.asEventBeforeTcp(old), T0);
    EdgeMetrics m = latestEdges().get("default/reviews/v1->default/mysql/v1@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getLostReported()).isEqualTo(9);
    assertThat(m.getTcpConnectionsOpened()).isEqualTo(1);
    assertThat(m.getTcpReceivedBytes()).isEqualTo(7);
    assertThat(m.getRequests()).isEqualTo(2);
    assertThat(deadLetters.isEmpty()).isTrue();
  }

  @Test
  void foldsTheLossABatchsFirstEventReportsIntoItsWindowsAndTotalsWithoutCountingARequestMore() {
    RequestEvent first = RequestEvent.newBuilder(
        request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0)).setDroppedBefore(40).build();
    RequestEvent next = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0.plusSeconds(1));
    requests.pipeInput(key(first), batch(List.of(first, next)), T0);
    // The callee's proxy lost events too: it reports them on its (not counted) duplicate report.
    RequestEvent calleeReport = RequestEvent.newBuilder(next).setReporter(Reporter.DESTINATION)
        .setDroppedBefore(5).build();
    requests.pipeInput(key(next), batch(List.of(calleeReport, RequestEvent.newBuilder(next)
        .setReporter(Reporter.DESTINATION).build())), T0);
    Map<String, EdgeMetrics> out = latestEdges();
    for (String window : new String[] {"/10000", "/60000"}) {
      EdgeMetrics m = out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + window);
      assertThat(m.getRequests()).as(window).isEqualTo(2);
      assertThat(m.getLostReported()).as(window).isEqualTo(45);
      assertThat(m.getLostReportedByDestination()).as(window).isEqualTo(5);
    }
    EdgeMetrics total = driver.<String, EdgeMetrics>getTimestampedKeyValueStore(TelemetryTopology.TOTALS_STORE)
        .get(PRODUCTPAGE_TO_REVIEWS_V2).value();
    assertThat(total.getRequests()).isEqualTo(2);
    assertThat(total.getLostReported()).isEqualTo(45);
    assertThat(total.getLostReportedByDestination()).isEqualTo(5);
  }

  @Test
  void aLossOfZeroAndAnEventOfRelease010FoldNothingButTheirRequests() throws Exception {
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    rawRequests.pipeInput(key(e), Requests.asRelease010(e), T0); // one event per record, no loss field
    send(e); // droppedBefore 0
    // A callee's duplicate report with no loss makes no aggregate of its own edge.
    RequestEvent duplicate = RequestEvent.newBuilder(
        request("default", "productpage", "v1", "ratings", "v1", 200, 5, T0)).setReporter(Reporter.DESTINATION).build();
    send(duplicate);
    Map<String, EdgeMetrics> out = latestEdges();
    EdgeMetrics m = out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getRequests()).isEqualTo(2);
    assertThat(m.getLostReported()).isZero();
    assertThat(m.getLostReportedByDestination()).isZero();
    assertThat(out.keySet()).noneMatch(k -> k.contains("ratings"));
    assertThat(deadLetters.isEmpty()).isTrue();
  }

  @Test
  void countsALossOnAnEventWhoseRecordKeyIsNotItsEdgeOnceThroughTheRepartitionTopic() {
    RequestEvent e = RequestEvent.newBuilder(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0))
        .setReporter(Reporter.DESTINATION).setDroppedBefore(9).build();
    requests.pipeInput("someone-elses-key", batch(List.of(e,
        request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0))), T0);
    EdgeMetrics m = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getRequests()).isEqualTo(1);
    assertThat(m.getLostReported()).isEqualTo(9);
    assertThat(m.getLostReportedByDestination()).isEqualTo(9);
  }

  @Test
  void foldsALossOnlyRecordIntoItsEdgesWindowsAndTotalsAsAReportedLossAndNoRequest() {
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    send(e);
    // both proxies' traffic stopped after a loss: each reports it alone, keyed by its edge
    LossReport caller = Requests.lossReport("default", "productpage", "v1", "reviews", "v2",
        Reporter.SOURCE, 40, T0.plusSeconds(2));
    LossReport callee = Requests.lossReport("default", "productpage", "v1", "reviews", "v2",
        Reporter.DESTINATION, 5, T0.plusSeconds(3));
    requests.pipeInput(Requests.key(caller), Requests.lossOnly(caller), T0.plusSeconds(2));
    requests.pipeInput(Requests.key(callee), Requests.lossOnly(callee), T0.plusSeconds(3));
    // a loss reported in a window with no request of the edge: a window of the loss alone
    LossReport later = Requests.lossReport("default", "productpage", "v1", "reviews", "v2",
        Reporter.SOURCE, 2, T0.plusSeconds(15));
    requests.pipeInput(Requests.key(later), Requests.lossOnly(later), T0.plusSeconds(15));

    Map<String, EdgeMetrics> out = latestEdges();
    EdgeMetrics first = out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(first.getRequests()).isEqualTo(1);
    assertThat(first.getLostReported()).isEqualTo(45);
    assertThat(first.getLostReportedByDestination()).isEqualTo(5);
    EdgeMetrics second = out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + (T0.toEpochMilli() + 10_000) + "/10000");
    assertThat(second.getRequests()).isZero();
    assertThat(second.getLostReported()).isEqualTo(2);
    assertThat(second.getUpdatedAt()).isEqualTo(T0.plusSeconds(15));
    EdgeMetrics minute = out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/60000");
    assertThat(minute.getRequests()).isEqualTo(1);
    assertThat(minute.getLostReported()).isEqualTo(47);
    EdgeMetrics total = driver.<String, EdgeMetrics>getTimestampedKeyValueStore(TelemetryTopology.TOTALS_STORE)
        .get(PRODUCTPAGE_TO_REVIEWS_V2).value();
    assertThat(total.getRequests()).isEqualTo(1);
    assertThat(total.getLostReported()).isEqualTo(47);
    assertThat(total.getLostReportedByDestination()).isEqualTo(5);
    assertThat(deadLetters.isEmpty()).isTrue();
  }

  @Test
  void countsABatchWrittenBeforeTheLossReportAsBefore() {
    RequestEvent first = RequestEvent.newBuilder(
        request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0)).setDroppedBefore(6).build();
    RequestEvent next = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    rawRequests.pipeInput(key(first), Requests.asBatchBeforeLossReport(List.of(first, next)), T0);
    EdgeMetrics m = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getRequests()).isEqualTo(2);
    assertThat(m.getErrors()).isEqualTo(1);
    assertThat(m.getLostReported()).isEqualTo(6);
    assertThat(deadLetters.isEmpty()).isTrue();
  }

  @Test
  void deadLettersACorruptLossOnlyRecordWithTheReasonAndKeepsCounting() {
    LossReport report = Requests.lossReport("default", "productpage", "v1", "reviews", "v2",
        Reporter.SOURCE, 40, T0);
    byte[] whole = Topics.TELEMETRY_REQUESTS.serializeValue(Requests.lossOnly(report));
    byte[] corrupt = Arrays.copyOf(whole, whole.length - 2);
    rawRequests.pipeInput(Requests.key(report), corrupt, T0);
    LossReport tooLong = Requests.lossReport("default", "productpage", "v1", "r".repeat(1025), "v2",
        Reporter.SOURCE, 40, T0);
    rawRequests.pipeInput(Requests.key(report),
        Topics.TELEMETRY_REQUESTS.serializeValue(Requests.lossOnly(tooLong)), T0);
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0));

    var letters = deadLetters.readValuesToList();
    assertThat(letters).hasSize(2);
    assertThat(letters.get(0).getReason()).contains("RequestEventBatch");
    assertThat(letters.get(0).getValue()).isEqualTo(java.nio.ByteBuffer.wrap(corrupt));
    assertThat(letters.get(1).getReason())
        .isEqualTo("lossReport: destination.service: 1025 characters (expected: at most 1024)");
    EdgeMetrics m = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getRequests()).isEqualTo(1);
    assertThat(m.getLostReported()).isZero(); // neither loss counted
  }

  @Test
  void countsALossOnlyRecordWhoseKeyIsNotItsEdgeOnceThroughTheRepartitionTopic() {
    LossReport report = Requests.lossReport("default", "productpage", "v1", "reviews", "v2",
        Reporter.DESTINATION, 11, T0);
    requests.pipeInput("someone-elses-key", Requests.lossOnly(report), T0);
    requests.pipeInput(null, Requests.lossOnly(report), T0);
    EdgeMetrics m = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getRequests()).isZero();
    assertThat(m.getLostReported()).isEqualTo(22);
    assertThat(m.getLostReportedByDestination()).isEqualTo(22);
  }

  @Test
  void latencyQuantilesAreWithinTheStatedRelativeErrorOfTheExactOnes() {
    Random random = new Random(42);
    int n = 5000;
    double[] latencies = new double[n];
    for (int i = 0; i < n; i++) {
      // Log-normal around 20 ms with a long tail: what real latencies look like.
      latencies[i] = Math.round(Math.exp(3 + random.nextGaussian()) * 1000) / 1000.0;
      send(request("default", "productpage", "v1", "reviews", "v2", 200, latencies[i],
          T0.plusMillis(i % 9000)));
    }
    double[] sorted = latencies.clone();
    Arrays.sort(sorted);
    EdgeMetrics m = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    double accuracy = m.getLatencyRelativeAccuracy();
    assertThat(accuracy).isEqualTo(0.01);
    assertThat(m.getLatencySketchFormat()).isEqualTo("ddsketch-protobuf");
    assertWithin(m.getLatencyP50Millis(), exact(sorted, 0.50), accuracy);
    assertWithin(m.getLatencyP90Millis(), exact(sorted, 0.90), accuracy);
    assertWithin(m.getLatencyP99Millis(), exact(sorted, 0.99), accuracy);
    assertThat(m.getLatencyMaxMillis()).isEqualTo(sorted[n - 1]);
    DDSketch sketch = LatencySketch.decode(m.getLatencySketch(), accuracy);
    assertThat(sketch.getCount()).isEqualTo(n);
    assertWithin(sketch.getValueAtQuantile(0.999), exact(sorted, 0.999), accuracy);
  }

  @Test
  void sketchesOfTwoWindowsMergeIntoTheSketchOfBoth() {
    for (int i = 1; i <= 100; i++) {
      send(request("default", "productpage", "v1", "reviews", "v2", 200, i, T0));
      send(request("default", "productpage", "v1", "reviews", "v2", 200, 100 + i, T0.plusSeconds(10)));
    }
    Map<String, EdgeMetrics> out = latestEdges();
    EdgeAggregation aggregation = new EdgeAggregation(0.01);
    EdgeMetrics merged = aggregation.merge(
        out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000"),
        out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + (T0.toEpochMilli() + 10_000) + "/10000"));
    EdgeMetrics minute = out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/60000");
    assertThat(merged.getRequests()).isEqualTo(200);
    assertThat(merged.getLatencyP50Millis()).isEqualTo(minute.getLatencyP50Millis());
    assertThat(merged.getLatencyP99Millis()).isEqualTo(minute.getLatencyP99Millis());
    assertWithin(merged.getLatencyP50Millis(), 100, 0.01);
    assertThat(merged.getLatencyMaxMillis()).isEqualTo(200);
  }

  @Test
  void deadLettersAnEventWithAnAbsurdlyLongServiceNameAndKeepsCounting() {
    send(request("default", "x".repeat(70_000), "v1", "reviews", "v2", 200, 5, T0));
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0));
    var letters = deadLetters.readValuesToList();
    assertThat(letters).hasSize(1);
    assertThat(letters.get(0).getReason()).isEqualTo("events[0]: source.service: 70000 characters (expected: at most 1024)");
    assertThat(latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000").getRequests())
        .isEqualTo(1);
  }

  @Test
  void deadLettersEventsWhoseNamesHoldAnEdgeKeySeparatorInsteadOfMergingTwoEdges() {
    // Two different edges whose ids would be the same string, default/a/v1->default/b/v1->default/c/v1:
    // a's version names b, or b's version names c. Counted, they were one aggregate of both.
    send(request("default", "a", "v1->default/b/v1", "c", "v1", 200, 5, T0));
    send(request("default", "a", "v1", "b", "v1->default/c/v1", 200, 5, T0));
    send(request("default", "productpage@x", "v1", "reviews", "v2", 200, 5, T0));
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0));
    var letters = deadLetters.readValuesToList();
    assertThat(letters).extracting(l -> l.getReason().toString()).containsExactly(
        "events[0]: source.version: 'v1->default/b/v1' (expected: no '/', '@' or '->', which separate"
            + " the parts of telemetry's edge keys; Kubernetes names never hold them)",
        "events[0]: destination.version: 'v1->default/c/v1' (expected: no '/', '@' or '->', which separate"
            + " the parts of telemetry's edge keys; Kubernetes names never hold them)",
        "events[0]: source.service: 'productpage@x' (expected: no '/', '@' or '->', which separate"
            + " the parts of telemetry's edge keys; Kubernetes names never hold them)");
    Map<String, EdgeMetrics> out = latestEdges();
    assertThat(out).doesNotContainKey("default/a/v1->default/b/v1->default/c/v1@" + T0.toEpochMilli() + "/10000");
    assertThat(out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000").getRequests()).isEqualTo(1);
  }

  @Test
  void deadLettersACorruptEventAndKeepsCounting() {
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0));
    rawRequests.pipeInput("default/productpage->default/reviews", new byte[] {1, 2, 3, 4}, T0);
    byte[] truncated = Requests.single(
        request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0));
    rawRequests.pipeInput("default/productpage->default/reviews",
        Arrays.copyOf(truncated, truncated.length - 5), T0);
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0));

    var letters = deadLetters.readKeyValuesToList();
    assertThat(letters).hasSize(2);
    assertThat(letters.get(0).key).isEqualTo("telemetry-test");
    DeadLetter letter = letters.get(0).value;
    assertThat(letter.getApplication()).isEqualTo("telemetry-test");
    assertThat(letter.getSourceTopic()).isEqualTo("mesh.telemetry.requests");
    assertThat(letter.getReason()).contains("RequestEvent");
    assertThat(letter.getValue().remaining()).isEqualTo(4);
    assertThat(letters.get(1).value.getReason()).contains("corrupt");
    EdgeMetrics m = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getRequests()).isEqualTo(2);
  }

  @Test
  void deadLettersAnEventFarAheadOfTheClockAloneAndKeepsCountingTheRestOfItsBatch() {
    // A proxy with a clock decades fast (or a bug): its event must neither reach a window (the
    // broker refuses records over an hour ahead, which would stop the app) nor move stream time
    // (which would close every window and skip every later event as late).
    RequestEvent future = request("default", "productpage", "v1", "reviews", "v2", 200, 5,
        Instant.parse("2100-01-01T00:00:00Z"));
    RequestEvent now = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0.plusSeconds(1));
    requests.pipeInput(key(now), batch(List.of(now, future, now)), T0);
    send(request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0.plusSeconds(2)));

    var letters = deadLetters.readValuesToList();
    assertThat(letters).hasSize(1);
    assertThat(letters.get(0).getReason()).isEqualTo("events[1]: startTime: 2100-01-01T00:00:00Z is "
        + "more than 1m ahead of the pipeline's clock (" + WALL + "; expected: at most 1m ahead, a proxy's clock is wrong)");
    assertThat(Requests.SINGLE.decode("t", letters.get(0).getValue().array())).isEqualTo(future);
    EdgeMetrics m = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getRequests()).isEqualTo(3);
    assertThat(m.getResponses5xx()).isEqualTo(1);
  }

  @Test
  void countsAnEventSlightlyAheadOfTheClock() {
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, WALL.plusSeconds(50)));
    assertThat(deadLetters.isEmpty()).isTrue();
    assertThat(latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + WALL.plusSeconds(50).toEpochMilli() + "/10000")
        .getRequests()).isEqualTo(1);
  }

  @Test
  void putsTheReasonAndTheRecordsOriginInTheDeadLettersHeaders() {
    // An operator reading mesh.deadletter with kafka-console-consumer (print.headers=true) sees
    // what was wrong without decoding the value, as with Kafka Connect's context headers.
    rawRequests.pipeInput("default/productpage->default/reviews", new byte[0], T0);
    var letter = deadLetters.readRecord();
    java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
    letter.headers().forEach(h -> headers.put(h.key(), new String(h.value(), java.nio.charset.StandardCharsets.UTF_8)));
    assertThat(headers).containsEntry("meshlog.errors.topic", "mesh.telemetry.requests")
        .containsEntry("meshlog.errors.partition", "0")
        .containsEntry("meshlog.errors.offset", "0")
        .containsEntry("meshlog.errors.application", "telemetry-test")
        .containsEntry("meshlog.errors.exception.class.name", letter.value().getExceptionClass())
        .containsEntry("meshlog.errors.reason", letter.value().getReason());
    assertThat(letter.value().getReason()).contains("record of 0 bytes");
  }

  @Test
  void deadLettersAnEventWithAnUnknownReporterSymbolAndKeepsCounting() {
    // An enum index this schema does not have (a writer that added a symbol but kept the
    // fingerprint, or a bad producer): refused by the fast path and by Avro, not misread.
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    byte[] bytes = Requests.single(e);
    assertThat(Arrays.copyOfRange(bytes, 10, 13)).containsExactly(0, 0, 2); // requestId "", traceId "", SOURCE (index 1)
    bytes[12] = 14; // Reporter index 7 (zig-zag): no such symbol
    rawRequests.pipeInput(key(e), bytes, T0);
    send(e);
    var letters = deadLetters.readValuesToList();
    assertThat(letters).hasSize(1);
    assertThat(letters.get(0).getReason()).contains("RequestEvent").contains("corrupt record");
    assertThat(latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000").getRequests())
        .isEqualTo(1);
  }

  @Test
  void keepsTotalsPerEdgeAcrossWindows() {
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0));
    send(request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0.plus(Duration.ofMinutes(5))));
    KeyValueStore<String, ValueAndTimestamp<EdgeMetrics>> totals =
        driver.getTimestampedKeyValueStore(TelemetryTopology.TOTALS_STORE);
    EdgeMetrics total = totals.get(PRODUCTPAGE_TO_REVIEWS_V2).value();
    assertThat(total.getRequests()).isEqualTo(2);
    assertThat(total.getResponses5xx()).isEqualTo(1);
  }

  @Test
  void anEdgeIdleLongerThanEveryWindowIsReadBackFromItsStoreWhenItReturns() {
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0));
    // Another edge moves stream time 5 min on: the first one's windows close and it leaves memory.
    send(request("default", "productpage", "v1", "details", "v1", 200, 5, T0.plus(Duration.ofMinutes(5))));
    send(request("default", "productpage", "v1", "reviews", "v2", 503, 5, T0.plus(Duration.ofMinutes(5))));
    EdgeMetrics total = driver.<String, EdgeMetrics>getTimestampedKeyValueStore(TelemetryTopology.TOTALS_STORE)
        .get(PRODUCTPAGE_TO_REVIEWS_V2).value();
    assertThat(total.getRequests()).isEqualTo(2);
    assertThat(total.getResponses5xx()).isEqualTo(1);
    assertThat(LatencySketch.decode(total).getCount()).isEqualTo(2);
  }

  @Test
  void callersOutsideTheMeshAreTheUnknownService() {
    RequestEvent e = request("default", "", "", "productpage", "v1", 200, 5, T0);
    send(e);
    assertThat(latestEdges()).containsKey("default/unknown/->default/productpage/v1@" + T0.toEpochMilli() + "/10000");
  }

  @Test
  void countsACallOnceWhenBothProxiesReportIt() {
    RequestEvent bySource = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    send(bySource);
    send(RequestEvent.newBuilder(bySource).setReporter(Reporter.DESTINATION).build());
    // A caller outside the mesh has no proxy: the destination's report is the only one.
    send(RequestEvent.newBuilder(request("default", "", "", "productpage", "v1", 200, 5, T0))
        .setReporter(Reporter.DESTINATION).build());
    Map<String, EdgeMetrics> out = latestEdges();
    assertThat(out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000").getRequests()).isEqualTo(1);
    assertThat(out.get("default/unknown/->default/productpage/v1@" + T0.toEpochMilli() + "/10000").getRequests()).isEqualTo(1);
  }

  @Test
  void countsEventsWhoseRecordKeyIsNotTheirEdgeOnceThroughTheRepartitionTopic() {
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    send(e);
    requests.pipeInput(null, batch(List.of(e)), T0); // another producer, no key
    singles.pipeInput("productpage", e, T0); // another producer's key scheme
    TestOutputTopic<String, byte[]> rerouted = driver.createOutputTopic(
        "telemetry-test-" + TelemetryTopology.BY_EDGE_KEY + "-repartition",
        Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
    var sent = rerouted.readRecordsToList();
    assertThat(sent).extracting(r -> r.key()).containsExactly(key(e), key(e));
    // each carries where its record was on the input topic (the 2nd and 3rd record), for a dead letter after it
    for (int i = 0; i < 2; i++) {
      var headers = sent.get(i).headers();
      assertThat(new String(headers.lastHeader("meshlog.origin.topic").value(), StandardCharsets.UTF_8))
          .isEqualTo(Topics.TELEMETRY_REQUESTS.name());
      assertThat(new String(headers.lastHeader("meshlog.origin.partition").value(), StandardCharsets.UTF_8)).isEqualTo("0");
      assertThat(new String(headers.lastHeader("meshlog.origin.offset").value(), StandardCharsets.UTF_8))
          .isEqualTo(String.valueOf(i + 1));
    }
    EdgeMetrics m = latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(m.getRequests()).isEqualTo(3);
    assertThat(deadLetters.isEmpty()).isTrue();
  }

  @Test
  void countsEveryEventOfABatchAndSingleEventsOfEarlierReleasesOnTheSameTopic() {
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    requests.pipeInput(key(e), batch(List.of(e,
        request("default", "productpage", "v1", "reviews", "v2", 503, 7, T0.plusSeconds(1)),
        request("default", "productpage", "v1", "reviews", "v3", 200, 5, T0.plusSeconds(2)))), T0);
    singles.pipeInput(key(e), e, T0);
    requests.pipeInput(key(e), batch(List.of()), T0); // holds nothing: counts nothing, no error
    singles.pipeInput(key(e), request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0.plusSeconds(3)), T0);
    Map<String, EdgeMetrics> out = latestEdges();
    EdgeMetrics v2 = out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000");
    assertThat(v2.getRequests()).isEqualTo(4);
    assertThat(v2.getResponses5xx()).isEqualTo(1);
    assertThat(v2.getUpdatedAt()).isEqualTo(T0.plusSeconds(3));
    assertThat(out.get("default/productpage/v1->default/reviews/v3@" + T0.toEpochMilli() + "/10000").getRequests())
        .isEqualTo(1);
    assertThat(deadLetters.isEmpty()).isTrue();
  }

  @Test
  void countsACallOnceWhenBothReportsComeInBatches() {
    RequestEvent bySource = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    RequestEvent byDestination = RequestEvent.newBuilder(bySource).setReporter(Reporter.DESTINATION).build();
    RequestEvent outside = RequestEvent.newBuilder(request("default", "", "", "reviews", "v2", 200, 5, T0))
        .setReporter(Reporter.DESTINATION).build();
    requests.pipeInput(key(bySource), batch(List.of(bySource, bySource)), T0);
    requests.pipeInput(key(bySource), batch(List.of(byDestination, byDestination)), T0);
    requests.pipeInput(key(outside), batch(List.of(outside, outside, outside)), T0);
    Map<String, EdgeMetrics> out = latestEdges();
    assertThat(out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000").getRequests()).isEqualTo(2);
    assertThat(out.get("default/unknown/->default/reviews/v2@" + T0.toEpochMilli() + "/10000").getRequests())
        .isEqualTo(3);
  }

  @Test
  void deadLettersACorruptBatchWholeAndOnlyTheEventWithANameOverTheLimitOfAnother() {
    RequestEvent e = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    byte[] whole = Requests.batchBytes(List.of(e, e, e));
    byte[] corrupt = Arrays.copyOf(whole, whole.length - 3);
    rawRequests.pipeInput(key(e), corrupt, T0);
    byte[] tooLong = Requests.batchBytes(List.of(e,
        request("default", "productpage", "v1", "r".repeat(1025), "v2", 200, 5, T0), e));
    rawRequests.pipeInput(key(e), tooLong, T0);
    send(e);

    var letters = deadLetters.readValuesToList();
    assertThat(letters).hasSize(2);
    assertThat(letters.get(0).getReason()).contains("RequestEventBatch");
    assertThat(letters.get(0).getValue()).isEqualTo(java.nio.ByteBuffer.wrap(corrupt));
    assertThat(letters.get(0).getKey()).isEqualTo(java.nio.ByteBuffer.wrap(
        key(e).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    // a name over the limit is read, but refused: that event alone is a dead letter (its bytes
    // as a single event), the batch's other events count
    assertThat(letters.get(1).getReason())
        .isEqualTo("events[1]: destination.service: 1025 characters (expected: at most 1024)");
    assertThat(Requests.SINGLE.decode("t", letters.get(1).getValue().array()).getDestination().getService())
        .hasSize(1025);
    // the truncated batch counts none of its events; the other, two; then the event sent after them
    assertThat(latestEdges().get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000").getRequests())
        .isEqualTo(3);
  }

  @Test
  void countsEachEventOfABatchWhoseEdgeIsNotTheRecordKeysOnceThroughTheRepartitionTopic() {
    RequestEvent reviews = request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0);
    RequestEvent details = request("default", "productpage", "v1", "details", "v1", 503, 5, T0);
    RequestEvent duplicate = RequestEvent.newBuilder(details).setReporter(Reporter.DESTINATION).build();
    // keyed by reviews' edge, holding two events of details' edge among reviews' (and a
    // duplicate report of details, dropped before any re-partitioning)
    requests.pipeInput(key(reviews), batch(List.of(reviews, details, duplicate, reviews, details)), T0);
    TestOutputTopic<String, byte[]> rerouted = driver.createOutputTopic(
        "telemetry-test-" + TelemetryTopology.BY_EDGE_KEY + "-repartition",
        Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
    var sent = rerouted.readKeyValuesToList();
    assertThat(sent).extracting(kv -> kv.key).containsExactly(key(details), key(details));
    assertThat(sent).extracting(kv -> Requests.SINGLE.decode("t", kv.value)).containsExactly(details, details);
    Map<String, EdgeMetrics> out = latestEdges();
    assertThat(out.get(PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000").getRequests()).isEqualTo(2);
    EdgeMetrics d = out.get("default/productpage/v1->default/details/v1@" + T0.toEpochMilli() + "/10000");
    assertThat(d.getRequests()).isEqualTo(2);
    assertThat(d.getResponses5xx()).isEqualTo(2);
    assertThat(deadLetters.isEmpty()).isTrue();
  }

  @Test
  void forwardsEachChangedWindowOncePerCommitWithItsWholeCount() {
    // The driver commits after each input record (a real app after many): one record out per
    // changed window per commit, with the window's whole count; the totals are not forwarded.
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0));
    send(request("default", "productpage", "v1", "reviews", "v2", 200, 5, T0.plusSeconds(1)));
    var out = edges.readKeyValuesToList();
    assertThat(out).extracting(kv -> kv.key).containsExactly(
        PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000",
        PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/60000",
        PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/10000",
        PRODUCTPAGE_TO_REVIEWS_V2 + "@" + T0.toEpochMilli() + "/60000");
    assertThat(out.get(3).value.getRequests()).isEqualTo(2);
  }

  private static double exact(double[] sorted, double q) {
    // DDSketch's rank convention: the value at index floor(q * (n - 1)).
    return sorted[(int) Math.floor(q * (sorted.length - 1))];
  }

  private static void assertWithin(double estimate, double exact, double relativeAccuracy) {
    assertThat(estimate).isCloseTo(exact, within(exact * relativeAccuracy + 1e-9));
  }
}
