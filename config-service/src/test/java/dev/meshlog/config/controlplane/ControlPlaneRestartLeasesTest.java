package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import dev.meshlog.config.discovery.ViewCompiler;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A control plane that restarts (or takes the task over in a rebalance) with state from long ago:
 * its restored leases all ended by the wall clock, yet nothing lapses before the registry has
 * delivered again, and the heartbeats waiting on the topic renew them.
 */
class ControlPlaneRestartLeasesTest {

  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");
  private static final String RATINGS = "ratings.default.svc.cluster.local";
  private static final Duration SPACING = Duration.ofMillis(5);

  private MockProcessorContext<String, Object> context;
  private long offset;
  /** How many punctuators processors started before the current one scheduled. */
  private int earlierPunctuators;

  @BeforeEach
  void start() {
    context = ControlPlaneContexts.withStores(T0);
  }

  /** A new processor on the stores as they are: what a restart restores from the changelogs. */
  private ControlPlaneProcessor startProcessor() {
    earlierPunctuators = context.scheduledPunctuators().size();
    ControlPlaneProcessor processor = new ControlPlaneProcessor(Commands.WEIGHT_CHECK,
        new CompiledDiscovery(new ViewCompiler()), Duration.ofSeconds(1), SPACING);
    processor.init(context);
    return processor;
  }

  private void later(Duration duration) {
    context.setCurrentSystemTimeMs(context.currentSystemTimeMs() + duration.toMillis());
  }

  private Instant now() {
    return Instant.ofEpochMilli(context.currentSystemTimeMs());
  }

  /** Runs the current processor's lease tick now, if one is armed. */
  private void tick() {
    List<MockProcessorContext.CapturedPunctuator> all = context.scheduledPunctuators();
    all.subList(earlierPunctuators, all.size()).stream()
        .filter(p -> !p.getInterval().equals(SPACING) && !p.cancelled())
        .reduce((first, second) -> second)
        .ifPresent(p -> p.getPunctuator().punctuate(context.currentSystemTimeMs()));
  }

  private void heartbeat(ControlPlaneProcessor processor, String id, Instant at) {
    InstanceRegistration instance = InstanceRegistration.newBuilder().setInstanceId(id)
        .setService("ratings").setNamespace("default").setAddress("10.0.0.1").setPort(15006)
        .setLabels(Map.of("app", "ratings")).setState(RegistrationState.REGISTERED)
        .setLeaseDurationMillis(30_000).setRegisteredAt(T0).setHeartbeatAt(at).build();
    context.setRecordMetadata(Topics.REGISTRY_INSTANCES.name(), 0, offset++);
    processor.process(new Record<>("default/ratings/" + id,
        Topics.REGISTRY_INSTANCES.serializeValue(instance), at.toEpochMilli()));
  }

  private List<List<String>> publishedEndpoints() {
    return context.forwarded().stream()
        .filter(f -> f.childName().equals(java.util.Optional.of(ControlPlaneTopology.VIEWS_SINK)))
        .map(f -> (ServiceView) f.record().value())
        .filter(v -> v.getHost().equals(RATINGS))
        .map(v -> v.getEndpoints().stream().map(Endpoint::getInstanceId).toList()).toList();
  }

  private RegistrationState state(String id) {
    KeyValueStore<String, InstanceRegistration> instances =
        context.getStateStore(ControlPlaneTopology.INSTANCES_STORE);
    return instances.get("default/ratings/" + id).getState();
  }

  @Test
  void aRestartOnOldStateLapsesNothingAtItsFirstTickAndTheBacklogRenewsTheLeases() {
    ControlPlaneProcessor before = startProcessor();
    heartbeat(before, "ratings-a", T0);
    heartbeat(before, "ratings-b", T0);
    assertThat(publishedEndpoints()).last().isEqualTo(List.of("ratings-a", "ratings-b"));
    context.resetForwards();

    // Down for ten minutes: twenty leases by the wall clock.
    later(Duration.ofMinutes(10));
    ControlPlaneProcessor after = startProcessor();
    tick(); // the first tick: the full sync, and any lease scan
    later(Duration.ofMinutes(1));
    tick();
    assertThat(publishedEndpoints()).as("no view before the registry delivers").isEmpty();
    assertThat(state("ratings-a")).isEqualTo(RegistrationState.REGISTERED);
    assertThat(state("ratings-b")).isEqualTo(RegistrationState.REGISTERED);

    // The backlog: heartbeats sent while the control plane was down, the oldest long lapsed.
    heartbeat(after, "ratings-a", T0.plusSeconds(10));
    heartbeat(after, "ratings-b", T0.plusSeconds(10));
    heartbeat(after, "ratings-a", now().minusSeconds(5));
    heartbeat(after, "ratings-b", now().minusSeconds(3));
    for (int i = 0; i < 6; i++) {
      later(Duration.ofSeconds(10));
      tick();
      heartbeat(after, "ratings-a", now());
      heartbeat(after, "ratings-b", now());
    }

    assertThat(publishedEndpoints()).as("both renewed, no view changed").isEmpty();
    assertThat(state("ratings-a")).isEqualTo(RegistrationState.REGISTERED);
    assertThat(state("ratings-b")).isEqualTo(RegistrationState.REGISTERED);
  }

  @Test
  void afterARestartAnInstanceMissingFromTheBacklogLapsesALeaseAfterTheFirstRecord() {
    ControlPlaneProcessor before = startProcessor();
    heartbeat(before, "ratings-a", T0);
    heartbeat(before, "ratings-b", T0);
    context.resetForwards();

    later(Duration.ofMinutes(10));
    ControlPlaneProcessor after = startProcessor();
    tick();
    Instant resumed = now();
    heartbeat(after, "ratings-a", resumed);
    for (int s = 10; s <= 20; s += 10) {
      later(Duration.ofSeconds(10));
      heartbeat(after, "ratings-a", resumed.plusSeconds(s));
    }
    later(Duration.ofSeconds(10));
    tick();

    assertThat(publishedEndpoints()).containsExactly(List.of("ratings-a"));
    assertThat(state("ratings-b")).isEqualTo(RegistrationState.DEREGISTERED);
  }
}
