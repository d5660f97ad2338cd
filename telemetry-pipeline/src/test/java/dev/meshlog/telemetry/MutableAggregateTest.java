package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.RequestEvent;
import org.junit.jupiter.api.Test;

class MutableAggregateTest {

  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");

  @Test
  void foldsTheSameAsEdgeAggregationAddAndReadsBackFromItsStoreRecord() {
    EdgeAggregation aggregation = new EdgeAggregation(0.01);
    Edge edge = new Edge(new Edge.End("prod", "a", "v1"), new Edge.End("prod", "b", "v2"));
    MutableAggregate mutable = MutableAggregate.empty(edge, 0, 0, 0.01);
    EdgeMetrics reference = aggregation.empty();
    SplittableRandom random = new SplittableRandom(3);
    String[][] flags = {{}, {"UH"}, {"-"}, {"UF", "URX"}, {" "}};
    for (int i = 0; i < 500; i++) {
      int code = new int[] {0, 101, 200, 204, 302, 404, 500, 503}[random.nextInt(8)];
      RequestEvent e = Requests.request("prod", "a", "v1", "b", "v2", code,
          Math.exp(random.nextGaussian() + 2), T0.plusMillis(random.nextInt(60_000)),
          flags[random.nextInt(flags.length)]);
      mutable.add(e.getResponseCode(), e.getResponseFlags().stream().map(CharSequence::toString).toList(),
          e.getRequestBytes(), e.getResponseBytes(), e.getDurationMicros(), e.getStartTime().toEpochMilli());
      reference = aggregation.add(reference, e);
    }
    EdgeMetrics published = mutable.toMetrics(LatencySketch.FORMAT);
    assertThat(published).isEqualTo(reference);

    EdgeMetrics stored = mutable.toMetrics(LatencySketch.STORE_FORMAT);
    MutableAggregate back = MutableAggregate.of(edge, 0, 0, stored, 0.01);
    assertThat(back.toMetrics(LatencySketch.FORMAT)).isEqualTo(reference);
    back.add(200, List.of("UH"), 1, 2, 3_000, T0.toEpochMilli());
    assertThat(back.toMetrics(LatencySketch.FORMAT).getRequests()).isEqualTo(501);
  }

  @Test
  void mergingPartialsGivesWhatFoldingEachRequestGives() {
    EdgeAggregation aggregation = new EdgeAggregation(0.01);
    Edge edge = new Edge(new Edge.End("prod", "a", "v1"), new Edge.End("prod", "b", "v2"));
    EdgeMetrics reference = aggregation.empty();
    // What the store held before, read back from its record, as a window is after a restart.
    MutableAggregate earlier = MutableAggregate.empty(edge, 0, 0, 0.01);
    MutableAggregate[] partials = new MutableAggregate[5];
    for (int p = 0; p < partials.length; p++) {
      partials[p] = MutableAggregate.empty(edge, 0, 0, 0.01);
    }
    SplittableRandom random = new SplittableRandom(7);
    String[][] flags = {{}, {"UH"}, {"-"}, {"UF", "URX"}, {" "}};
    for (int i = 0; i < 2_000; i++) {
      int code = new int[] {0, 101, 200, 204, 302, 404, 500, 503}[random.nextInt(8)];
      // Latencies from 0 to minutes, so that the partials' sketches span different bins.
      RequestEvent e = Requests.request("prod", "a", "v1", "b", "v2", code,
          i % 97 == 0 ? 0 : Math.exp(3 * random.nextGaussian() + 2), T0.plusMillis(random.nextInt(60_000)),
          flags[random.nextInt(flags.length)]);
      MutableAggregate into = i < 300 ? earlier : partials[random.nextInt(partials.length)];
      if (i % 7 == 3) { // a TCP connection report now and then, on the same edge: a connection's figures only
        e = Requests.tcp("prod", "a", "v1", "b", "v2", T0.plusMillis(random.nextInt(60_000)),
            random.nextInt(100_000), random.nextBoolean(), random.nextBoolean(), random.nextInt(10_000),
            random.nextInt(100_000), flags[random.nextInt(flags.length)]);
        into.addTcp(e.getTcp().getOpened(), e.getTcp().getClosed(),
            e.getResponseFlags().stream().map(CharSequence::toString).toList(), e.getRequestBytes(),
            e.getResponseBytes(), EdgeAggregation.eventTime(e).toEpochMilli());
      } else {
        into.add(e.getResponseCode(), e.getResponseFlags().stream().map(CharSequence::toString).toList(),
            e.getRequestBytes(), e.getResponseBytes(), e.getDurationMicros(), e.getStartTime().toEpochMilli());
      }
      reference = aggregation.add(reference, e);
      if (i % 31 == 0) { // a reported loss, now and then the callee's
        boolean byDestination = i % 2 == 0;
        into.addLost(i + 1, byDestination, e.getStartTime().toEpochMilli());
        reference = aggregation.addLost(reference, i + 1, byDestination, edge, e.getStartTime().toEpochMilli());
      }
    }
    MutableAggregate rolledUp = MutableAggregate.of(edge, 0, 0, earlier.toMetrics(LatencySketch.STORE_FORMAT), 0.01);
    for (MutableAggregate p : partials) {
      rolledUp.merge(p);
    }
    assertThat(rolledUp.toMetrics(LatencySketch.FORMAT)).isEqualTo(reference);
    assertThat(rolledUp.requests()).isEqualTo(2_000 - 286);
    assertThat(reference.getTcpConnectionsOpened()).isPositive();
    assertThat(reference.getTcpFailedConnections()).isPositive().isLessThan(reference.getTcpConnectionsClosed());
    assertThat(reference.getTcpReceivedBytes()).isPositive();
    assertThat(reference.getLostReported()).isPositive();
    assertThat(reference.getLostReportedByDestination()).isPositive().isLessThan(reference.getLostReported());
    // The partials are left alone.
    assertThat(java.util.Arrays.stream(partials).mapToLong(MutableAggregate::requests).sum())
        .isEqualTo(2_000 - 286 - earlier.requests());
  }

  @Test
  void foldsATcpReportIntoTheTcpFieldsOnlyAndAClosingOneWithFlagsAsAFailedConnection() {
    EdgeAggregation aggregation = new EdgeAggregation(0.01);
    Edge edge = new Edge(new Edge.End("prod", "a", "v1"), new Edge.End("prod", "db", "v1"));
    MutableAggregate mutable = MutableAggregate.empty(edge, 0, 0, 0.01);
    EdgeMetrics reference = aggregation.empty();
    List<RequestEvent> reports = List.of(
        Requests.tcp("prod", "a", "v1", "db", "v1", T0, 5_000, true, false, 100, 2_000),
        Requests.tcp("prod", "a", "v1", "db", "v1", T0, 10_000, false, false, 50, 1_000, "-"),
        Requests.tcp("prod", "a", "v1", "db", "v1", T0, 12_000, false, true, 10, 20),
        Requests.tcp("prod", "a", "v1", "db", "v1", T0.plusSeconds(1), 3, true, true, 0, 0, "UF"));
    for (RequestEvent e : reports) {
      mutable.addTcp(e.getTcp().getOpened(), e.getTcp().getClosed(),
          e.getResponseFlags().stream().map(CharSequence::toString).toList(), e.getRequestBytes(),
          e.getResponseBytes(), EdgeAggregation.eventTime(e).toEpochMilli());
      reference = aggregation.add(reference, e);
    }
    EdgeMetrics m = mutable.toMetrics(LatencySketch.FORMAT);
    assertThat(m).isEqualTo(reference);
    assertThat(m.getRequests()).isZero();
    assertThat(m.getErrors()).isZero();
    assertThat(m.getNoResponse()).isZero();
    assertThat(m.getLatencyMaxMillis()).isZero();
    assertThat(LatencySketch.decode(m).getCount()).isZero();
    assertThat(m.getTcpConnectionsOpened()).isEqualTo(2);
    assertThat(m.getTcpConnectionsClosed()).isEqualTo(2);
    assertThat(m.getTcpFailedConnections()).isEqualTo(1);
    assertThat(m.getResponseFlags()).containsExactly(java.util.Map.entry("UF", 1L));
    assertThat(m.getTcpReceivedBytes()).isEqualTo(160);
    assertThat(m.getTcpSentBytes()).isEqualTo(3_020);
    assertThat(m.getUpdatedAt()).isEqualTo(T0.plusSeconds(12));
    assertThat(m.getSource().getService()).isEqualTo("a");
  }

  @Test
  void mergesASketchOfAnotherAccuracyWithinBothAccuracies() {
    Edge edge = new Edge(new Edge.End("prod", "a", "v1"), new Edge.End("prod", "b", "v2"));
    MutableAggregate coarse = MutableAggregate.empty(edge, 0, 0, 0.02);
    MutableAggregate fine = MutableAggregate.empty(edge, 0, 0, 0.01);
    for (int i = 1; i <= 100; i++) {
      coarse.add(200, List.of(), 1, 1, i * 1_000L, T0.toEpochMilli());
      fine.add(200, List.of(), 1, 1, (100 + i) * 1_000L, T0.toEpochMilli());
    }
    coarse.merge(fine);
    EdgeMetrics m = coarse.toMetrics(LatencySketch.FORMAT);
    assertThat(m.getRequests()).isEqualTo(200);
    assertThat(m.getLatencyRelativeAccuracy()).isEqualTo(0.02);
    assertThat(m.getLatencyP50Millis()).isCloseTo(100, org.assertj.core.api.Assertions.within(100 * 0.031));
    assertThat(m.getLatencyMaxMillis()).isEqualTo(200);
  }
}
