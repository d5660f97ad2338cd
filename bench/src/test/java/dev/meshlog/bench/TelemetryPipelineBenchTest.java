package dev.meshlog.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.Workload;
import org.junit.jupiter.api.Test;

/** The simulated proxies' batching: what records the benchmark's producers send. */
class TelemetryPipelineBenchTest {

  private final List<Map.Entry<String, List<RequestEvent>>> sent = new ArrayList<>();

  private TelemetryPipelineBench.Emitters emitters(int proxyRate, int eventsPerRecord, boolean timed) {
    return new TelemetryPipelineBench.Emitters(proxyRate, eventsPerRecord, timed,
        (key, events) -> sent.add(Map.entry(key, events)));
  }

  private static RequestEvent event(int i) {
    Workload w = Workload.newBuilder().setService("s").build();
    return RequestEvent.newBuilder().setRequestId(Integer.toString(i)).setReporter(Reporter.SOURCE)
        .setSource(w).setDestination(w).setResponseCode(200).setDurationMicros(1)
        .setStartTime(Instant.EPOCH).build();
  }

  @Test
  void sendsOneRecordPerEdgeOfAProxyWhenItsDrainIsFull() {
    var emitters = emitters(1_000, 0, false); // 200 events a drain
    for (int i = 0; i < 199; i++) {
      emitters.add("a", i % 2 == 0 ? "k1" : "k2", event(i), 0);
      if (i < 100) {
        emitters.add("b", "k3", event(i), 0);
      }
    }
    assertThat(sent).isEmpty();
    emitters.add("a", "k2", event(199), 0);
    assertThat(sent).extracting(Map.Entry::getKey).containsExactly("k1", "k2");
    assertThat(sent.get(0).getValue()).hasSize(100);
    assertThat(sent.get(1).getValue()).hasSize(100).last().extracting(RequestEvent::getRequestId).isEqualTo("199");
    emitters.flushAll();
    assertThat(sent).hasSize(3);
    assertThat(sent.get(2).getKey()).isEqualTo("k3");
    assertThat(sent.get(2).getValue()).extracting(RequestEvent::getRequestId).startsWith("0", "1", "2").hasSize(100);
  }

  @Test
  void splitsOneEdgesEventsAtTheMostARecordHolds() {
    var emitters = emitters(10_000, 0, false); // 2,000 events a drain
    for (int i = 0; i < 2_000; i++) {
      emitters.add("a", "k", event(i), 0);
    }
    assertThat(sent).extracting(e -> e.getValue().size()).hasSize(16).startsWith(128, 128)
        .endsWith(128, 80);
  }

  @Test
  void sendsRecordsOfTheFixedSizeAskedForIncludingOneEventEach() {
    var ones = emitters(1_000, 1, false);
    for (int i = 0; i < 5; i++) {
      ones.add("a", "k", event(i), 0);
    }
    assertThat(sent).hasSize(5).allSatisfy(e -> assertThat(e.getValue()).hasSize(1));
    sent.clear();
    var tens = emitters(1_000, 10, false);
    for (int i = 0; i < 25; i++) {
      tens.add("a", "k", event(i), 0);
    }
    tens.flushAll();
    assertThat(sent).extracting(e -> e.getValue().size()).containsExactly(10, 10, 5);
  }

  @Test
  void drainsAQuietProxyWhenItsIntervalHasPassedWhenProducingAtARate() {
    var emitters = emitters(1_000, 0, true);
    emitters.add("a", "k", event(0), 1_000);
    emitters.tick(1_000 + TelemetryPipelineBench.Emitters.DRAIN.toNanos() - 1);
    assertThat(sent).isEmpty();
    emitters.tick(1_000 + TelemetryPipelineBench.Emitters.DRAIN.toNanos());
    assertThat(sent).hasSize(1);
  }
}
