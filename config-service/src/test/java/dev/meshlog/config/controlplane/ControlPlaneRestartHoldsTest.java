package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import dev.meshlog.config.discovery.ViewCompiler;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A control plane that restarts on its restored stores (a new processor on the same stores, as
 * after a restore from the changelogs) neither forgets a view it holds back for size nor keeps a
 * hold whose view fits when it starts.
 */
class ControlPlaneRestartHoldsTest {

  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");
  private static final String REVIEWS = "reviews.default.svc.cluster.local";
  private static final Duration SPACING = Duration.ofMillis(5);
  private static final String PAD = "y".repeat(100_000);

  private MockProcessorContext<String, Object> context;
  private long offset;
  private int earlierPunctuators;

  @BeforeEach
  void start() {
    context = ControlPlaneContexts.withStores(T0);
  }

  private ControlPlaneProcessor startProcessor() {
    earlierPunctuators = context.scheduledPunctuators().size();
    ControlPlaneProcessor processor = new ControlPlaneProcessor(Commands.WEIGHT_CHECK,
        new CompiledDiscovery(new ViewCompiler()), Duration.ofSeconds(1), SPACING,
        CommandStages.OFF, ControlPlaneDriver.SMALL_VIEWS);
    processor.init(context);
    return processor;
  }

  /** Runs the current processor's lease tick (the first one is the full sync). */
  private void tick() {
    List<MockProcessorContext.CapturedPunctuator> all = context.scheduledPunctuators();
    all.subList(earlierPunctuators, all.size()).stream()
        .filter(p -> !p.getInterval().equals(SPACING) && !p.cancelled())
        .reduce((first, second) -> second)
        .ifPresent(p -> p.getPunctuator().punctuate(context.currentSystemTimeMs()));
  }

  private void later(Duration duration) {
    context.setCurrentSystemTimeMs(context.currentSystemTimeMs() + duration.toMillis());
  }

  private void send(ControlPlaneProcessor processor, String id, String pad, RegistrationState state) {
    InstanceRegistration instance = ControlPlaneViewHoldTest.instance(id, pad,
        Instant.ofEpochMilli(context.currentSystemTimeMs()), state);
    context.setRecordMetadata(Topics.REGISTRY_INSTANCES.name(), 0, offset++);
    processor.process(new Record<>("default/reviews/" + id,
        Topics.REGISTRY_INSTANCES.serializeValue(instance), context.currentSystemTimeMs()));
  }

  /** Holds the view of reviews with padded instances; returns how many instances it has. */
  private int holdReviews(ControlPlaneProcessor processor) {
    send(processor, "reviews-1", "", RegistrationState.REGISTERED);
    for (int i = 2; i <= 20; i++) {
      send(processor, "reviews-" + i, PAD, RegistrationState.REGISTERED);
      if (!holds().isEmpty()) {
        return i;
      }
    }
    throw new AssertionError("the view of reviews was never held");
  }

  /** What went to mesh.discovery.holds: a hold, or null for a tombstone. */
  private List<Optional<ViewHold>> holds() {
    return context.forwarded().stream()
        .filter(f -> f.childName().equals(Optional.of(ControlPlaneTopology.HOLDS_SINK)))
        .peek(f -> assertThat(f.record().key()).isEqualTo(REVIEWS))
        .map(f -> Optional.ofNullable((ViewHold) f.record().value())).toList();
  }

  private List<ServiceView> views() {
    return context.forwarded().stream()
        .filter(f -> f.childName().equals(Optional.of(ControlPlaneTopology.VIEWS_SINK)))
        .map(f -> (ServiceView) f.record().value()).toList();
  }

  @Test
  void aRestartKeepsAnActiveHoldWritesNothingForItAndEndsItWhenTheViewFits() {
    ControlPlaneProcessor before = startProcessor();
    holdReviews(before);
    ViewHold held = holds().get(0).orElseThrow();
    context.resetForwards();

    later(Duration.ofMinutes(10));
    ControlPlaneProcessor after = startProcessor();
    tick(); // the full sync: the view is still too large, and its hold is already on the topic
    assertThat(holds()).as("nothing new for a hold the topic already has").isEmpty();
    assertThat(views()).as("no view of reviews published").isEmpty();

    send(after, "reviews-2", "", RegistrationState.DEREGISTERED);
    assertThat(views()).singleElement().satisfies(view ->
        assertThat(view.getVersion()).isEqualTo(held.getKeptVersion() + 1));
    assertThat(holds()).as("the restarted processor knew the hold and ends it")
        .containsExactly(Optional.empty());
  }

  @Test
  void aHoldWhoseViewFitsWhenTheTaskStartsEndsAtTheFirstTick() {
    ControlPlaneProcessor before = startProcessor();
    int last = holdReviews(before);
    context.resetForwards();
    // The restored registry no longer has the instance that tipped the view over (as if its
    // tombstone had been restored without this processor seeing it).
    KeyValueStore<String, InstanceRegistration> instances =
        context.getStateStore(ControlPlaneTopology.INSTANCES_STORE);
    instances.delete("default/reviews/reviews-" + last);

    startProcessor();
    tick();

    // The view compiles to the version proxies kept: nothing to publish, and the hold ends.
    assertThat(views()).isEmpty();
    assertThat(holds()).containsExactly(Optional.empty());
    KeyValueStore<String, byte[]> store = context.getStateStore(ControlPlaneTopology.REVISIONS_STORE);
    assertThat(store.get(ControlPlaneState.HOLD_PREFIX + REVIEWS)).as("gone from the store").isNull();
  }

  @Test
  void aHoldOfAHostGoneWhileTheTaskWasDownEndsAtTheFirstTick() {
    ControlPlaneProcessor before = startProcessor();
    int last = holdReviews(before);
    context.resetForwards();
    KeyValueStore<String, InstanceRegistration> instances =
        context.getStateStore(ControlPlaneTopology.INSTANCES_STORE);
    for (int i = 1; i <= last; i++) {
      instances.delete("default/reviews/reviews-" + i);
    }

    startProcessor();
    tick();

    assertThat(views()).last().satisfies(view -> assertThat(view.getRemoved()).isTrue());
    assertThat(holds()).containsExactly(Optional.empty());
  }
}
