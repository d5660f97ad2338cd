package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import dev.meshlog.config.discovery.ViewCompiler;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Views of tens of thousands of endpoints, with the limits that run ({@link ViewLimits#DEFAULT}):
 * published up to {@link Topics#MAX_VIEW_BYTES}, held beyond it, and a large host's registry
 * changes compiled together after a short wait instead of one view per registration.
 */
class ControlPlaneLargeViewTest {

  private static final Instant T0 = ControlPlaneDriver.T0;
  private static final String REVIEWS = "reviews.default.svc.cluster.local";

  private ControlPlaneDriver cp;
  private Duration elapsed = Duration.ZERO;

  @BeforeEach
  void start() {
    cp = new ControlPlaneDriver("large-view-test",
        json -> ResourceCheck.Result.valid(Resource.fromJson(json)),
        new CompiledDiscovery(new ViewCompiler()));
  }

  @AfterEach
  void stop() {
    cp.close();
  }

  /** Instance {@code i} of reviews, as a Kubernetes pod would register: ≈100 bytes of view. */
  static InstanceRegistration pod(int i, Map<String, String> extraLabels, Instant heartbeat) {
    Map<String, String> labels = new java.util.HashMap<>(extraLabels);
    labels.put("app", "reviews");
    labels.put("version", "v1");
    labels.put("pod-template-hash", "7d4b9c8f6d");
    return InstanceRegistration.newBuilder().setInstanceId("reviews-" + i).setService("reviews")
        .setAddress("10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255))
        .setPort(9080).setLabels(labels).setZone("zone-" + (i % 3)).setRegion("region-1")
        .setState(RegistrationState.REGISTERED).setLeaseDurationMillis(30_000)
        .setRegisteredAt(T0).setHeartbeatAt(heartbeat).build();
  }

  private void register(int from, int to, Map<String, String> extraLabels) {
    for (int i = from; i <= to; i++) {
      cp.registry.pipeInput("default/reviews/reviews-" + i, pod(i, extraLabels, T0.plus(elapsed)));
    }
  }

  private void later(Duration duration) {
    elapsed = elapsed.plus(duration);
    cp.driver.advanceWallClockTime(duration);
  }

  private List<ServiceView> newViews() {
    return cp.views.readRecordsToList().stream().filter(r -> r.key().equals(REVIEWS))
        .map(TestRecord::value).toList();
  }

  @Test
  void registrationsOfALargeHostArePublishedTogetherAfterAHundredMilliseconds() {
    register(1, 1_000, Map.of());
    List<ServiceView> one = newViews();
    assertThat(one.size()).as("one view per registration while the view is small")
        .isBetween(300, 999);
    assertThat(one.get(one.size() - 1).getEndpoints().size()).isLessThan(1_000);

    register(1_001, 2_000, Map.of());
    assertThat(newViews()).as("nothing before the wait ends").isEmpty();
    later(Duration.ofMillis(99));
    assertThat(newViews()).isEmpty();
    later(Duration.ofMillis(1));

    assertThat(newViews()).singleElement().satisfies(view -> {
      assertThat(view.getEndpoints()).hasSize(2_000);
      assertThat(view.getVersion()).isEqualTo(one.get(one.size() - 1).getVersion() + 1);
    });
    later(Duration.ofMillis(500));
    assertThat(newViews()).as("nothing left waiting").isEmpty();
  }

  @Test
  void aCommandPublishesALargeHostAtOnceWithTheRegistrationsWaitingForIt() throws Exception {
    register(1, 1_000, Map.of());
    newViews();
    register(1_001, 1_010, Map.of());
    cp.commands.pipeInput("DestinationRule/default/reviews", Commands.apply(Resource.fromDocument(
        new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: default}
            spec:
              host: reviews
              trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
            """))));

    assertThat(newViews()).singleElement().satisfies(view ->
        assertThat(view.getEndpoints()).hasSize(1_010));
    later(Duration.ofMillis(200));
    assertThat(newViews()).as("the waiting registrations were in the command's view").isEmpty();
  }

  @Test
  void aHostOfFifteenThousandEndpointsIsPublishedAndNotHeld() {
    register(1, 15_000, Map.of());
    later(Duration.ofMillis(200)); // 100 ms per MiB of the view, at least 100 ms

    List<ServiceView> views = newViews();
    ServiceView last = views.get(views.size() - 1);
    assertThat(last.getEndpoints()).hasSize(15_000);
    int bytes = Topics.DISCOVERY_VIEWS.serializeValue(last).length;
    assertThat(bytes).as("well over the 1,000,000 bytes views were limited to")
        .isGreaterThan(1_400_000);
    assertThat(views.size()).as("not one view per registration").isLessThan(1_000);
    assertThat(cp.holds.isEmpty()).isTrue();
  }

  @Test
  void aViewOverSixteenMillionBytesIsStillHeldAndTheLastPublishedVersionKept() {
    String pad = "p".repeat(100_000);
    register(1, 1, Map.of("pad", pad)); // 100 KB: its registrations now wait
    ServiceView kept = newViews().get(0);
    register(2, 170, Map.of("pad", pad)); // ≈17 MB
    later(Duration.ofMillis(100));

    assertThat(newViews()).as("no view sent").isEmpty();
    List<KeyValue<String, ViewHold>> holds = cp.holds.readKeyValuesToList();
    assertThat(holds).singleElement().satisfies(kv -> {
      assertThat(kv.key).isEqualTo(REVIEWS);
      ViewHold hold = kv.value;
      assertThat(hold.getViewBytes()).isGreaterThan(Topics.MAX_VIEW_BYTES);
      assertThat(hold.getLimitBytes()).isEqualTo(16_000_000);
      assertThat(hold.getEndpoints()).isEqualTo(170);
      assertThat(hold.getKeptVersion()).isEqualTo(kept.getVersion());
      assertThat(hold.getCause())
          .isEqualTo("registration of default/reviews/reviews-2 and 168 more registry changes");
    });

    // Deregistering enough instances makes it fit again: published, and the hold ends.
    for (int i = 30; i <= 170; i++) {
      InstanceRegistration gone = InstanceRegistration.newBuilder(
              pod(i, Map.of("pad", pad), T0.plus(elapsed)))
          .setState(RegistrationState.DEREGISTERED).build();
      cp.registry.pipeInput("default/reviews/reviews-" + i, gone);
    }
    later(Duration.ofSeconds(2));
    assertThat(newViews()).last().satisfies(view ->
        assertThat(view.getEndpoints()).hasSize(29));
    assertThat(cp.holds.readKeyValuesToList()).last().satisfies(kv -> {
      assertThat(kv.key).isEqualTo(REVIEWS);
      assertThat(kv.value).isNull();
    });
  }
}
