package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * When the control plane asks Kafka Streams to commit: right after each user command (someone is
 * waiting for its views), never for registry traffic (heartbeats keep the commit interval).
 */
class ControlPlaneCommitTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
  private static final Duration SPACING = Duration.ofMillis(5);

  private MockProcessorContext<String, Object> context;
  private ControlPlaneProcessor processor;
  private long offset;

  @BeforeEach
  void start() {
    context = ControlPlaneContexts.withStores(NOW);
    processor = new ControlPlaneProcessor(Commands.WEIGHT_CHECK, Discovery.NONE, Duration.ofSeconds(1),
        SPACING);
    processor.init(context);
    context.resetCommit();
  }

  private void later(Duration duration) {
    context.setCurrentSystemTimeMs(context.currentSystemTimeMs() + duration.toMillis());
  }

  private org.apache.kafka.streams.processor.Punctuator commitTick() {
    return context.scheduledPunctuators().stream()
        .filter(p -> p.getInterval().equals(SPACING)).findFirst().orElseThrow().getPunctuator();
  }

  private void command(String key, byte[] value) {
    context.setRecordMetadata(Topics.CONFIG_COMMANDS.name(), 0, offset++);
    processor.process(new Record<>(key, value, NOW.toEpochMilli()));
  }

  private void registration(String key, byte[] value) {
    context.setRecordMetadata(Topics.REGISTRY_INSTANCES.name(), 0, offset++);
    processor.process(new Record<>(key, value, NOW.toEpochMilli()));
  }

  private static Resource reviews(int weight) {
    return new Resource("networking.istio.io/v1", "VirtualService", "default", "reviews",
        Map.of(), JSON.createObjectNode().put("weight", weight));
  }

  private static byte[] serialized(dev.meshlog.events.config.ConfigCommand command) {
    return Topics.CONFIG_COMMANDS.serializeValue(command);
  }

  private static Resource virtualService(String name, int weight) {
    return new Resource("networking.istio.io/v1", "VirtualService", "default", name,
        Map.of(), JSON.createObjectNode().put("weight", weight));
  }

  @Test
  void aRestartedProcessorLoadsEachLiveResourcesLatestRevisionFromTheRevisionsStoreAlone() {
    Resource reviews = virtualService("reviews", 10);
    command(reviews.id().key(), serialized(Commands.apply(reviews)));
    Resource reviews2 = virtualService("reviews", 20);
    command(reviews.id().key(), serialized(Commands.apply(reviews2)));
    Resource details = virtualService("details", 10);
    command(details.id().key(), serialized(Commands.apply(details)));
    command(details.id().key(), serialized(Commands.delete("VirtualService", "default", "details")));
    Resource ratings = virtualService("ratings", 30);
    command(ratings.id().key(), serialized(Commands.apply(ratings)));

    java.util.List<ConfigEvent> loaded = new java.util.ArrayList<>();
    Discovery recording = recordingLoads(loaded);
    new ControlPlaneProcessor(Commands.WEIGHT_CHECK, recording, Duration.ofSeconds(1), SPACING)
        .init(context);

    assertThat(loaded).extracting(e -> e.getResource().getName() + "@" + e.getRevision())
        .containsExactlyInAnyOrder("reviews@2", "ratings@1");
    assertThat(loaded).filteredOn(e -> e.getResource().getName().equals("reviews"))
        .singleElement().satisfies(e -> assertThat(Resource.fromJson(e.getDocument())).isEqualTo(reviews2));
  }

  @Test
  void aRestartedProcessorContinuesEachResourcesRevisionsDeletedOnesIncluded() {
    Resource details = virtualService("details", 10);
    command(details.id().key(), serialized(Commands.apply(details)));
    command(details.id().key(), serialized(Commands.delete("VirtualService", "default", "details")));
    Resource reviews = virtualService("reviews", 10);
    command(reviews.id().key(), serialized(Commands.apply(reviews)));
    // The same stores, a new processor: its index of latest revisions comes from the store.
    processor = new ControlPlaneProcessor(Commands.WEIGHT_CHECK, Discovery.NONE, Duration.ofSeconds(1),
        SPACING);
    processor.init(context);
    context.resetForwards();

    command(details.id().key(), serialized(Commands.apply(virtualService("details", 20))));
    command(reviews.id().key(), serialized(Commands.apply(virtualService("reviews", 20))));
    command(reviews.id().key(), serialized(Commands.apply(virtualService("reviews", 20))));

    assertThat(context.forwarded()).extracting(f -> (ConfigEvent) f.record().value())
        .extracting(e -> e.getResource().getName() + "@" + e.getRevision() + " " + e.getChangeType())
        .containsExactly("details@3 CREATED", "reviews@2 UPDATED", "reviews@2 UNCHANGED");
  }

  @Test
  void revisionKeysAreZeroPaddedToNineteenDigitsSoTheySortByRevision() {
    for (long revision : new long[] {0, 1, 9, 10, 123_456_789, Long.MAX_VALUE, -5}) {
      assertThat(ControlPlaneTopology.revisionKey("VirtualService/default/reviews", revision))
          .isEqualTo("VirtualService/default/reviews@" + String.format("%019d", revision));
    }
    assertThat(ControlPlaneTopology.revisionKey("a", 9)).isLessThan(ControlPlaneTopology.revisionKey("a", 10));
  }

  @Test
  void aRestartedProcessorSkipsTheViewStampsWhenItLoadsTheRevisions() {
    Resource reviews = virtualService("reviews", 10);
    command(reviews.id().key(), serialized(Commands.apply(reviews)));
    org.apache.kafka.streams.state.KeyValueStore<String, byte[]> store =
        context.getStateStore(ControlPlaneTopology.REVISIONS_STORE);
    store.put(ControlPlaneState.viewKey("reviews.default.svc.cluster.local"),
        ViewStamp.serde().serializer().serialize("t", stamp(3)));
    java.util.List<ConfigEvent> loaded = new java.util.ArrayList<>();
    new ControlPlaneProcessor(Commands.WEIGHT_CHECK, recordingLoads(loaded), Duration.ofSeconds(1),
        SPACING).init(context);

    assertThat(loaded).extracting(e -> e.getResource().getName() + "@" + e.getRevision())
        .containsExactly("reviews@1");
  }

  @Test
  void theFirstTickMovesAnEarlierReleasesViewStampsIntoTheOneStoreAndVersionsContinue() {
    org.apache.kafka.streams.state.KeyValueStore<String, ViewStamp> legacy =
        context.getStateStore(ControlPlaneTopology.VIEWS_STORE);
    legacy.put("ratings.default.svc.cluster.local", stamp(41));
    processor = new ControlPlaneProcessor(Commands.WEIGHT_CHECK, Discovery.NONE,
        Duration.ofSeconds(1), SPACING);
    processor.init(context);
    context.resetForwards();

    // The full sync: the host compiles to nothing now, so its removal is published, as the
    // version after the one the earlier release published.
    context.scheduledPunctuators().stream()
        .filter(p -> !p.getInterval().equals(SPACING) && !p.cancelled())
        .reduce((first, second) -> second).orElseThrow()
        .getPunctuator().punctuate(NOW.toEpochMilli());

    assertThat(context.forwarded()).singleElement().satisfies(f -> {
      ServiceView removal = (ServiceView) f.record().value();
      assertThat(removal.getRemoved()).isTrue();
      assertThat(removal.getVersion()).isEqualTo(42);
    });
    assertThat(legacy.approximateNumEntries()).isZero();
    org.apache.kafka.streams.state.KeyValueStore<String, byte[]> store =
        context.getStateStore(ControlPlaneTopology.REVISIONS_STORE);
    assertThat(ViewStamp.serde().deserializer().deserialize("t",
        store.get(ControlPlaneState.viewKey("ratings.default.svc.cluster.local"))).version())
        .isEqualTo(42);
  }

  /** Compiles one host whose view names the latest revision of the config it has seen. */
  private static Discovery oneHost(String host) {
    long[] revision = {0};
    return new Discovery() {
      @Override
      public void load(Iterable<ConfigEvent> resources, Map<String, InstanceRegistration> instances) {
        resources.forEach(e -> revision[0] = Math.max(revision[0], e.getRevision()));
      }

      @Override
      public java.util.Set<String> applyConfig(ConfigEvent event) {
        revision[0] = event.getRevision();
        return java.util.Set.of(host);
      }

      @Override
      public java.util.Set<String> applyInstance(String key, InstanceRegistration instance) {
        return java.util.Set.of();
      }

      @Override
      public java.util.Set<String> hosts() {
        return java.util.Set.of(host);
      }

      @Override
      public java.util.Optional<ServiceView> compile(String h, Instant now) {
        return java.util.Optional.of(ServiceView.newBuilder().setHost(h).setService("reviews")
            .setNamespace("default").setVersion(0).setGeneratedAt(now)
            .setEgressHosts(java.util.List.of("revision-" + revision[0])).build());
      }
    };
  }

  private java.util.List<ServiceView> publishedViews() {
    return context.forwarded().stream()
        .filter(f -> f.childName().equals(java.util.Optional.of(ControlPlaneTopology.VIEWS_SINK)))
        .map(f -> (ServiceView) f.record().value()).toList();
  }

  @Test
  void aRestartedProcessorRepublishesNothingUnchangedAndContinuesTheVersionFromItsStamp() {
    String host = "reviews.default.svc.cluster.local";
    processor = new ControlPlaneProcessor(Commands.WEIGHT_CHECK, oneHost(host),
        Duration.ofSeconds(1), SPACING);
    processor.init(context);
    command(reviews(10).id().key(), serialized(Commands.apply(reviews(10))));
    assertThat(publishedViews()).extracting(ServiceView::getVersion).containsExactly(1L);
    context.resetForwards();

    // The same stores, a new processor and model: what a restart restores from the changelogs.
    processor = new ControlPlaneProcessor(Commands.WEIGHT_CHECK, oneHost(host),
        Duration.ofSeconds(1), SPACING);
    processor.init(context);
    leaseTicks().get(leaseTicks().size() - 1).getPunctuator().punctuate(NOW.toEpochMilli());
    assertThat(publishedViews()).as("the full sync finds the view unchanged").isEmpty();

    command(reviews(20).id().key(), serialized(Commands.apply(reviews(20))));
    assertThat(publishedViews()).singleElement().satisfies(v -> {
      assertThat(v.getVersion()).isEqualTo(2);
      assertThat(v.getEgressHosts()).containsExactly("revision-2");
    });
  }

  private static ViewStamp stamp(long version) {
    return new ViewStamp(version, false, "ratings", "default", new byte[32]);
  }

  @Test
  void requestsACommitRightAfterAnAcceptedApply() {
    command(reviews(10).id().key(), serialized(Commands.apply(reviews(10))));

    assertThat(context.forwarded()).hasSize(1);
    assertThat(context.committed()).isTrue();
  }

  @Test
  void requestsACommitRightAfterARejectedCommand() {
    command(reviews(120).id().key(), serialized(Commands.apply(reviews(120))));

    assertThat(context.forwarded()).singleElement()
        .satisfies(f -> assertThat(f.childName()).hasValue(ControlPlaneTopology.REJECTIONS_SINK));
    assertThat(context.committed()).isTrue();
  }

  @Test
  void requestsACommitAfterEachOfDeleteAndRollback() {
    command(reviews(10).id().key(), serialized(Commands.apply(reviews(10))));
    command(reviews(20).id().key(), serialized(Commands.apply(reviews(20))));
    context.resetCommit();
    later(SPACING);
    command(reviews(10).id().key(),
        serialized(Commands.rollback("VirtualService", "default", "reviews", 1)));
    assertThat(context.committed()).as("after a rollback").isTrue();

    context.resetCommit();
    later(SPACING);
    command(reviews(10).id().key(), serialized(Commands.delete("VirtualService", "default", "reviews")));
    assertThat(context.committed()).as("after a delete").isTrue();
  }

  @Test
  void leavesABurstToTheIntervalAndCommitsOnceItHasBeenQuietForTheSpacing() {
    command(reviews(10).id().key(), serialized(Commands.apply(reviews(10))));
    assertThat(context.committed()).as("a command alone").isTrue();
    assertThat(context.scheduledPunctuators()).as("no tick while nothing is owed")
        .noneMatch(p -> p.getInterval().equals(SPACING));
    context.resetCommit();

    later(SPACING.minusMillis(1));
    command(reviews(20).id().key(), serialized(Commands.apply(reviews(20))));
    later(SPACING.minusMillis(1));
    command(reviews(30).id().key(), serialized(Commands.apply(reviews(30))));
    assertThat(context.committed()).as("commands within the spacing of the one before").isFalse();

    later(SPACING.minusMillis(1));
    commitTick().punctuate(context.currentSystemTimeMs());
    assertThat(context.committed()).as("a tick while the burst may go on").isFalse();

    later(Duration.ofMillis(1));
    commitTick().punctuate(context.currentSystemTimeMs());
    assertThat(context.committed()).as("a tick once the burst has been quiet").isTrue();

    assertThat(context.scheduledPunctuators()).as("the tick is cancelled once it committed")
        .filteredOn(p -> p.getInterval().equals(SPACING)).singleElement()
        .satisfies(p -> assertThat(p.cancelled()).isTrue());
    context.resetCommit();

    command(reviews(40).id().key(), serialized(Commands.apply(reviews(40))));
    assertThat(context.committed()).as("a command alone again").isTrue();
  }

  @Test
  void aCommandAloneAfterABurstCancelsTheBurstsTick() {
    command(reviews(10).id().key(), serialized(Commands.apply(reviews(10))));
    later(SPACING.minusMillis(1));
    command(reviews(20).id().key(), serialized(Commands.apply(reviews(20))));
    later(SPACING.minusMillis(1));
    // the tick runs while the burst may go on: nothing committed, the tick stays
    commitTick().punctuate(context.currentSystemTimeMs());
    context.resetCommit();

    later(Duration.ofMillis(1));
    command(reviews(30).id().key(), serialized(Commands.apply(reviews(30))));

    assertThat(context.committed()).as("the command alone commits at once").isTrue();
    // A standing tick would make Streams commit an empty transaction every interval, right
    // behind each command's own (refused while the broker completes that one: a 100 ms retry).
    assertThat(context.scheduledPunctuators()).as("no tick is left running")
        .filteredOn(p -> p.getInterval().equals(SPACING))
        .allSatisfy(p -> assertThat(p.cancelled()).isTrue());
  }

  @Test
  void armsTheLeaseScanForTheEarliestLeaseNotEverySecond() {
    // The first tick after a start republishes what compiles differently; nothing is due after it.
    later(Duration.ofSeconds(1));
    leaseTicks().get(0).getPunctuator().punctuate(context.currentSystemTimeMs());
    // Every punctuation makes Streams commit the task: a tick each second was an empty
    // transaction each second, now and then right behind a command's own commit.
    assertThat(leaseTicks()).as("no tick while no lease can lapse").isEmpty();

    registration("default/reviews/reviews-1", Topics.REGISTRY_INSTANCES.serializeValue(
        reviewsInstance(NOW, 30_000)));

    assertThat(leaseTicks()).as("one tick, when the lease lapses").singleElement()
        .satisfies(p -> assertThat(p.getInterval()).isEqualTo(Duration.ofSeconds(29)));

    // Another instance heartbeats every 10 s and keeps the registry flowing (a registry quiet
    // for half a lease is silent, and a silent registry holds leases).
    for (int s = 11; s <= 21; s += 10) {
      later(Duration.ofSeconds(10));
      registration("default/reviews/reviews-2", Topics.REGISTRY_INSTANCES.serializeValue(
          InstanceRegistration.newBuilder(reviewsInstance(NOW.plusSeconds(s), 30_000))
              .setInstanceId("reviews-2").build()));
    }
    later(Duration.ofSeconds(9));
    leaseTicks().get(0).getPunctuator().punctuate(context.currentSystemTimeMs());
    org.apache.kafka.streams.state.KeyValueStore<String, InstanceRegistration> instances =
        context.getStateStore(ControlPlaneTopology.INSTANCES_STORE);
    // reviews-1's record was the first since the start, 1 s after its heartbeat: the registry
    // resumed then, and every lease gets a whole lease from there.
    assertThat(instances.get("default/reviews/reviews-1").getState())
        .as("a lease from the first registry record since the start").isEqualTo(RegistrationState.REGISTERED);
    assertThat(leaseTicks()).as("one tick, when that lease ends").singleElement()
        .satisfies(p -> assertThat(p.getInterval()).isEqualTo(Duration.ofSeconds(1)));

    later(Duration.ofSeconds(1));
    leaseTicks().get(0).getPunctuator().punctuate(context.currentSystemTimeMs());
    assertThat(instances.get("default/reviews/reviews-1").getState()).as("the lease lapsed")
        .isEqualTo(RegistrationState.DEREGISTERED);
  }

  private java.util.List<MockProcessorContext.CapturedPunctuator> leaseTicks() {
    return context.scheduledPunctuators().stream()
        .filter(p -> !p.getInterval().equals(SPACING) && !p.cancelled()).toList();
  }

  private static InstanceRegistration reviewsInstance(Instant heartbeat, long leaseMillis) {
    return InstanceRegistration.newBuilder()
        .setInstanceId("reviews-1").setService("reviews").setNamespace("default")
        .setAddress("10.0.0.1").setPort(15006).setLabels(Map.of("app", "reviews"))
        .setZone("zone-a").setCluster("test").setServiceAccount("reviews")
        .setState(RegistrationState.REGISTERED).setLeaseDurationMillis(leaseMillis)
        .setRegisteredAt(heartbeat).setHeartbeatAt(heartbeat).build();
  }

  @Test
  void leavesHeartbeatsToTheCommitInterval() {
    InstanceRegistration instance = InstanceRegistration.newBuilder()
        .setInstanceId("reviews-1").setService("reviews").setNamespace("default")
        .setAddress("10.0.0.1").setPort(15006).setLabels(Map.of("app", "reviews"))
        .setZone("zone-a").setCluster("test").setServiceAccount("reviews")
        .setState(RegistrationState.REGISTERED).setLeaseDurationMillis(30_000)
        .setRegisteredAt(NOW).setHeartbeatAt(NOW).build();
    registration("default/reviews/reviews-1", Topics.REGISTRY_INSTANCES.serializeValue(instance));
    registration("default/reviews/reviews-1", Topics.REGISTRY_INSTANCES.serializeValue(
        InstanceRegistration.newBuilder(instance).setHeartbeatAt(NOW.plusSeconds(5)).build()));

    assertThat(context.committed()).isFalse();
  }

  @Test
  void leavesUndecodableCommandsToTheCommitInterval() {
    command(reviews(10).id().key(), new byte[] {1, 2, 3});

    assertThat(context.forwarded()).singleElement()
        .satisfies(f -> assertThat(f.childName()).hasValue(ControlPlaneTopology.DEAD_LETTER_SINK));
    assertThat(context.committed()).isFalse();
  }

  /** A discovery that records what a restarted processor loads and compiles nothing. */
  private static Discovery recordingLoads(java.util.List<ConfigEvent> loaded) {
    return new Discovery() {
      @Override
      public void load(Iterable<ConfigEvent> resources, Map<String, InstanceRegistration> instances) {
        resources.forEach(loaded::add);
      }

      @Override
      public java.util.Set<String> applyConfig(ConfigEvent event) {
        return java.util.Set.of();
      }

      @Override
      public java.util.Set<String> applyInstance(String key, InstanceRegistration instance) {
        return java.util.Set.of();
      }

      @Override
      public java.util.Set<String> hosts() {
        return java.util.Set.of();
      }

      @Override
      public java.util.Optional<ServiceView> compile(String host, Instant now) {
        return java.util.Optional.empty();
      }
    };
  }
}
