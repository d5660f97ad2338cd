package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.meshlog.config.discovery.ViewCompiler;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Registry and config in, discovery views out, with time driven by the test. */
class ControlPlaneViewsTest {

  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");
  private static final String RATINGS = "ratings.default.svc.cluster.local";
  private static final String REVIEWS = "reviews.default.svc.cluster.local";
  private static final ObjectMapper YAML = new YAMLMapper();

  private ControlPlaneDriver cp;
  private TopologyTestDriver driver;
  private TestInputTopic<String, ConfigCommand> commands;
  private TestInputTopic<String, InstanceRegistration> registry;
  private TestOutputTopic<String, ServiceView> views;

  @BeforeEach
  void start() {
    cp = new ControlPlaneDriver("views-test",
        json -> ResourceCheck.Result.valid(Resource.fromJson(json)),
        new CompiledDiscovery(new ViewCompiler()));
    driver = cp.driver;
    commands = cp.commands;
    registry = cp.registry;
    views = cp.views;
  }

  @AfterEach
  void stop() {
    cp.close();
  }

  private static InstanceRegistration instance(String service, String id, String version,
                                               Instant heartbeat) {
    return instance(service, id, version, heartbeat, 30_000);
  }

  private static InstanceRegistration instance(String service, String id, String version,
                                               Instant heartbeat, long leaseMillis) {
    return InstanceRegistration.newBuilder().setInstanceId(id).setService(service)
        .setAddress("127.0.0.1").setPort(15006)
        .setLabels(Map.of("app", service, "version", version))
        .setState(RegistrationState.REGISTERED).setLeaseDurationMillis(leaseMillis)
        .setRegisteredAt(T0).setHeartbeatAt(heartbeat).build();
  }

  private static InstanceRegistration deregistration(InstanceRegistration instance) {
    return InstanceRegistration.newBuilder(instance).setState(RegistrationState.DEREGISTERED).build();
  }

  private void register(InstanceRegistration instance) {
    registry.pipeInput("default/" + instance.getService() + "/" + instance.getInstanceId(), instance);
  }

  private void apply(String yaml) throws Exception {
    Resource resource = Resource.fromDocument(YAML.readTree(yaml));
    commands.pipeInput(resource.id().key(), Commands.apply(resource));
  }

  private ServiceView latest(String host) {
    ServiceView last = null;
    for (TestRecord<String, ServiceView> r : views.readRecordsToList()) {
      if (r.key().equals(host)) {
        last = r.value();
      }
    }
    assertThat(last).as("a new view of %s", host).isNotNull();
    return last;
  }

  private List<ServiceView> newViewsOf(String host) {
    return views.readRecordsToList().stream().filter(r -> r.key().equals(host))
        .map(TestRecord::value).toList();
  }

  private static List<String> endpointIds(ServiceView view) {
    return view.getEndpoints().stream().map(Endpoint::getInstanceId).toList();
  }

  @Test
  void aRegisteredInstanceAppearsInItsServiceView() {
    register(instance("ratings", "ratings-1", "v1", T0));
    ServiceView view = latest(RATINGS);
    assertThat(view.getVersion()).isEqualTo(1);
    assertThat(endpointIds(view)).containsExactly("ratings-1");
  }

  @Test
  void heartbeatsDoNotPublishNewVersions() {
    register(instance("ratings", "ratings-1", "v1", T0));
    latest(RATINGS);
    register(instance("ratings", "ratings-1", "v1", T0.plusSeconds(10)));
    assertThat(views.isEmpty()).isTrue();
  }

  @Test
  void anInstanceWhoseLeaseLapsesLeavesTheViewWhenTimePasses() {
    register(instance("ratings", "ratings-1", "v1", T0));
    register(instance("ratings", "ratings-2", "v1", T0));
    assertThat(endpointIds(latest(RATINGS))).containsExactly("ratings-1", "ratings-2");

    // ratings-2 heartbeats every third of its lease, as proxies do (a registry quiet for half a
    // lease would count as silent, and a silence holds every lease).
    for (int s = 10; s <= 30; s += 10) {
      driver.advanceWallClockTime(Duration.ofSeconds(10));
      register(instance("ratings", "ratings-2", "v1", T0.plusSeconds(s)));
    }
    driver.advanceWallClockTime(Duration.ofSeconds(5)); // ratings-1 last heard of 35 s ago
    ServiceView view = latest(RATINGS);
    assertThat(endpointIds(view)).containsExactly("ratings-2");
    assertThat(view.getRemoved()).isFalse();
  }

  @Test
  void aDeregisteredInstanceLeavesButTheServiceStays() {
    register(instance("ratings", "ratings-1", "v1", T0));
    latest(RATINGS);
    register(InstanceRegistration.newBuilder(instance("ratings", "ratings-1", "v1", T0))
        .setState(RegistrationState.DEREGISTERED).build());
    ServiceView view = latest(RATINGS);
    assertThat(view.getEndpoints()).isEmpty();
    assertThat(view.getRemoved()).isFalse();
    assertThat(view.getVersion()).isEqualTo(2);
  }

  @Test
  void aLeaseRenewedManyTimesLapsesOnlyAfterItsLastHeartbeat() {
    register(instance("ratings", "ratings-1", "v1", T0));
    register(instance("ratings", "ratings-2", "v1", T0));
    latest(RATINGS);
    for (int s = 10; s <= 60; s += 10) {
      driver.advanceWallClockTime(Duration.ofSeconds(10));
      register(instance("ratings", "ratings-2", "v1", T0.plusSeconds(s)));
    }
    ServiceView view = latest(RATINGS); // ratings-1 lapsed at 30 s; ratings-2 renewed up to 60 s
    assertThat(endpointIds(view)).containsExactly("ratings-2");

    // details-1 keeps the registry flowing: with no registry record at all, ratings-2's lease
    // would be held while the registry is silent (theDeathOfTheOnlyInstanceIsNoticed... below).
    driver.advanceWallClockTime(Duration.ofSeconds(5));
    register(instance("details", "details-1", "v1", T0.plusSeconds(65)));
    driver.advanceWallClockTime(Duration.ofSeconds(10));
    register(instance("details", "details-1", "v1", T0.plusSeconds(75)));
    driver.advanceWallClockTime(Duration.ofSeconds(10));
    register(instance("details", "details-1", "v1", T0.plusSeconds(85)));
    driver.advanceWallClockTime(Duration.ofSeconds(4));
    assertThat(newViewsOf(RATINGS)).as("ratings-2 heard of 29 s ago is still live").isEmpty();
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertThat(latest(RATINGS).getEndpoints()).isEmpty();
  }

  // ---- a registry that stops delivering (Kafka unreachable, a partition) --------------------

  @Test
  void noLeaseLapsesWhileTheRegistryDeliversNothingAndEachGetsALeaseOnceItResumes() {
    register(instance("ratings", "ratings-a", "v1", T0));
    register(instance("ratings", "ratings-b", "v1", T0));
    assertThat(endpointIds(latest(RATINGS))).containsExactly("ratings-a", "ratings-b");

    driver.advanceWallClockTime(Duration.ofSeconds(150)); // five leases, no registry record at all
    assertThat(newViewsOf(RATINGS)).as("nothing lapses while the registry is silent").isEmpty();

    register(instance("ratings", "ratings-a", "v1", T0.plusSeconds(150)));
    assertThat(newViewsOf(RATINGS)).as("ratings-b gets a lease from the registry's return")
        .isEmpty();
    for (int s = 160; s <= 170; s += 10) {
      driver.advanceWallClockTime(Duration.ofSeconds(10));
      register(instance("ratings", "ratings-a", "v1", T0.plusSeconds(s)));
    }
    driver.advanceWallClockTime(Duration.ofSeconds(9));
    assertThat(newViewsOf(RATINGS)).as("ratings-b, 29 s after the registry resumed").isEmpty();

    driver.advanceWallClockTime(Duration.ofSeconds(1));
    ServiceView view = latest(RATINGS);
    assertThat(endpointIds(view)).as("ratings-b silent for a whole lease since").containsExactly("ratings-a");
  }

  /**
   * Heartbeats every third of a lease, staggered; the registry stops for 27 s, less than a lease.
   * ratings-a's lease ends 25 s into it: a silence is quiet for half the shortest lease (15 s),
   * not a whole one, or that lease would lapse by the wall clock mid-outage.
   */
  @Test
  void anOutageShorterThanALeaseLapsesNoLeaseThatEndsDuringIt() {
    register(instance("ratings", "ratings-a", "v1", T0));
    register(instance("ratings", "ratings-b", "v1", T0));
    latest(RATINGS);
    for (int s = 5; s <= 25; s += 5) {
      driver.advanceWallClockTime(Duration.ofSeconds(5));
      register(instance("ratings", s % 10 == 0 ? "ratings-a" : "ratings-b", "v1", T0.plusSeconds(s)));
    }
    driver.advanceWallClockTime(Duration.ofSeconds(25)); // ratings-a's lease ends (heard at 20 s)
    driver.advanceWallClockTime(Duration.ofSeconds(2));
    register(instance("ratings", "ratings-a", "v1", T0.plusSeconds(52)));
    driver.advanceWallClockTime(Duration.ofSeconds(3)); // ratings-b's lease ends (heard at 25 s)
    register(instance("ratings", "ratings-b", "v1", T0.plusSeconds(55)));
    driver.advanceWallClockTime(Duration.ofSeconds(60));

    assertThat(newViewsOf(RATINGS)).isEmpty();
    assertThat(driver.<String, InstanceRegistration>getKeyValueStore(ControlPlaneTopology.INSTANCES_STORE)
        .get("default/ratings/ratings-b").getState()).isEqualTo(RegistrationState.REGISTERED);
  }

  @Test
  void anInstanceThatStopsHeartbeatingLeavesOnTimeWhileOthersHeartbeat() {
    register(instance("ratings", "ratings-a", "v1", T0));
    register(instance("ratings", "ratings-b", "v1", T0));
    latest(RATINGS);
    for (int s = 10; s <= 20; s += 10) {
      driver.advanceWallClockTime(Duration.ofSeconds(10));
      register(instance("ratings", "ratings-a", "v1", T0.plusSeconds(s)));
    }
    driver.advanceWallClockTime(Duration.ofSeconds(9));
    assertThat(newViewsOf(RATINGS)).as("ratings-b heard of 29 s ago").isEmpty();

    driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertThat(endpointIds(latest(RATINGS))).containsExactly("ratings-a");
  }

  @Test
  void aDeregistrationLeavesAtOnceAlsoRightAfterASilence() {
    register(instance("ratings", "ratings-a", "v1", T0));
    register(instance("ratings", "ratings-b", "v1", T0));
    latest(RATINGS);
    driver.advanceWallClockTime(Duration.ofSeconds(150));
    register(instance("ratings", "ratings-a", "v1", T0.plusSeconds(150)));

    register(deregistration(instance("ratings", "ratings-b", "v1", T0.plusSeconds(150))));

    assertThat(endpointIds(latest(RATINGS))).containsExactly("ratings-a");
  }

  /** The trade-off: with no registry record at all, even a real death waits for the next one. */
  @Test
  void theDeathOfTheOnlyInstanceIsNoticedALeaseAfterTheNextRegistryRecord() {
    register(instance("ratings", "ratings-1", "v1", T0));
    latest(RATINGS);
    driver.advanceWallClockTime(Duration.ofSeconds(100));
    assertThat(newViewsOf(RATINGS)).isEmpty();

    for (int s = 100; s <= 120; s += 10) {
      register(instance("details", "details-1", "v1", T0.plusSeconds(s)));
      driver.advanceWallClockTime(Duration.ofSeconds(s < 120 ? 10 : 9));
    }
    assertThat(newViewsOf(RATINGS)).as("29 s after the next record").isEmpty();
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertThat(latest(RATINGS).getEndpoints()).isEmpty();
  }

  /**
   * An instance with the shortest lease (6 s, heartbeats every 2 s) dies; the other heartbeats
   * every 10 s, longer than half that lease. The dead one stops counting among the instances the
   * registry's silence is measured by, so it still lapses, a lease after the next record.
   */
  @Test
  void anInstanceWithTheShortestLeaseStillLapsesWhenOthersHeartbeatLessOften() {
    for (int s = 0; s <= 30; s++) {
      if (s > 0) {
        driver.advanceWallClockTime(Duration.ofSeconds(1));
      }
      if (s <= 4 && s % 2 == 0) {
        register(instance("ratings", "ratings-fast", "v1", T0.plusSeconds(s), 6_000));
      }
      if (s % 10 == 0) {
        register(instance("ratings", "ratings-slow", "v1", T0.plusSeconds(s)));
      }
      if (s == 16) {
        assertThat(endpointIds(latest(RATINGS))).as("a lease after ratings-slow's record at 10 s")
            .containsExactly("ratings-slow");
      }
    }
    assertThat(newViewsOf(RATINGS)).as("ratings-slow stays").isEmpty();
  }

  @Test
  void anOldDeregisteredRecordIsForgottenWhenItsServiceHasOthers() {
    register(instance("ratings", "ratings-2", "v1", T0.plus(ControlPlaneProcessor.GHOST_RETENTION)));
    register(InstanceRegistration.newBuilder(instance("ratings", "ratings-1", "v1", T0))
        .setState(RegistrationState.DEREGISTERED).build());

    driver.advanceWallClockTime(ControlPlaneProcessor.GHOST_RETENTION.plusSeconds(1));

    assertThat(instanceKeys()).containsExactly("default/ratings/ratings-2");
  }

  @Test
  void theLastRecordOfAServiceIsKeptUntilAnotherArrives() {
    register(InstanceRegistration.newBuilder(instance("ratings", "ratings-1", "v1", T0))
        .setState(RegistrationState.DEREGISTERED).build());
    driver.advanceWallClockTime(ControlPlaneProcessor.GHOST_RETENTION.plusSeconds(1));
    assertThat(instanceKeys()).containsExactly("default/ratings/ratings-1");
    driver.advanceWallClockTime(Duration.ofSeconds(10));
    assertThat(instanceKeys()).containsExactly("default/ratings/ratings-1");

    register(instance("ratings", "ratings-2", "v1",
        T0.plus(ControlPlaneProcessor.GHOST_RETENTION).plusSeconds(11)));
    driver.advanceWallClockTime(Duration.ofSeconds(1));

    assertThat(instanceKeys()).containsExactly("default/ratings/ratings-2");
    assertThat(latest(RATINGS).getRemoved()).isFalse();
  }

  private List<String> instanceKeys() {
    List<String> keys = new java.util.ArrayList<>();
    try (var it = driver.<String, InstanceRegistration>getKeyValueStore(
        ControlPlaneTopology.INSTANCES_STORE).all()) {
      it.forEachRemaining(kv -> keys.add(kv.key));
    }
    return keys;
  }

  /** A DestinationRule with subsets v1 and v2 of reviews. */
  private static final String REVIEWS_SUBSETS = """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: reviews, namespace: default}
      spec:
        host: reviews
        subsets:
        - {name: v1, labels: {version: v1}}
        - {name: v2, labels: {version: v2}}
      """;

  @Test
  void aVirtualServicePublishesItsRoutesWithTheCommandThatChangedThem() throws Exception {
    register(instance("reviews", "reviews-v1", "v1", T0));
    register(instance("reviews", "reviews-v2", "v2", T0));
    apply(REVIEWS_SUBSETS);
    apply("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v1}
              weight: 90
            - destination: {host: reviews, subset: v2}
              weight: 10
        """);
    ServiceView view = latest(REVIEWS);
    assertThat(view.getSubsets()).hasSize(2);
    assertThat(view.getHttpRoutes()).singleElement().satisfies(route ->
        assertThat(route.getDestinations()).extracting(d -> d.getWeight()).containsExactly(90, 10));
    assertThat(view.getTriggeredBy().getResource()).isEqualTo("VirtualService/default/reviews");
    assertThat(view.getTriggeredBy().getRevision()).isEqualTo(1);
  }

  @Test
  void anInconsistentRouteIsLeftOutAndReported() throws Exception {
    register(instance("reviews", "reviews-v1", "v1", T0));
    apply("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v9}
        """);
    ServiceView view = latest(REVIEWS);
    assertThat(view.getHttpRoutes()).isEmpty();
    assertThat(view.getProblems()).singleElement().satisfies(p -> {
      assertThat(p.getResource()).isEqualTo("VirtualService/default/reviews");
      assertThat(p.getPath()).isEqualTo("spec.http[0].route[0].destination.subset");
    });
  }

  @Test
  void aPublishedViewWritesItsStampToTheOneConfigStoresChangelog() {
    register(instance("ratings", "ratings-1", "v1", T0));
    latest(RATINGS);
    assertThat(driver.producedTopicNames()).filteredOn(topic -> topic.endsWith("-changelog"))
        .containsExactlyInAnyOrder(
            "views-test-" + ControlPlaneTopology.REVISIONS_STORE + "-changelog",
            "views-test-" + ControlPlaneTopology.INSTANCES_STORE + "-changelog");
  }

  @Test
  void versionsKeepGrowingAcrossRestarts() {
    register(instance("ratings", "ratings-1", "v1", T0));
    assertThat(latest(RATINGS).getVersion()).isEqualTo(1);
    register(instance("ratings", "ratings-2", "v2", T0));
    ServiceView second = latest(RATINGS);
    assertThat(second.getVersion()).isEqualTo(2);
    // The stores are the state: the next change continues from the stored version, and the
    // store holds the version and a hash of the content, not the view.
    ViewStamp stored = ViewStamp.serde().deserializer().deserialize("t",
        driver.<String, byte[]>getKeyValueStore(ControlPlaneTopology.REVISIONS_STORE)
            .get(ControlPlaneState.viewKey(RATINGS)));
    assertThat(stored.version()).isEqualTo(2);
    assertThat(stored.sameContent(second)).isTrue();
    assertThat(ViewStamp.serde().serializer().serialize("t", stored)).hasSizeLessThan(100);
  }

  /**
   * The control plane runs with {@code max.task.idle.ms=-1}: a command and a registration that
   * arrive together may be processed in either order. Either way the view ends the same.
   */
  @Test
  void aViewEndsTheSameWhicheverOfACommandAndARegistrationIsProcessedFirst() throws Exception {
    register(instance("reviews", "reviews-v1", "v1", T0));
    apply(REVIEWS_SUBSETS);
    register(instance("reviews", "reviews-v2", "v2", T0));
    ServiceView commandFirst = latest(REVIEWS);

    stop();
    start();
    register(instance("reviews", "reviews-v1", "v1", T0));
    register(instance("reviews", "reviews-v2", "v2", T0));
    apply(REVIEWS_SUBSETS);
    ServiceView registrationFirst = latest(REVIEWS);

    assertThat(endpointIds(registrationFirst)).containsExactly("reviews-v1", "reviews-v2");
    assertThat(registrationFirst.getSubsets()).hasSize(2);
    assertThat(ViewStamp.of(commandFirst).sameContent(registrationFirst)).isTrue();
  }
}
