package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.meshlog.config.discovery.ViewCompiler;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A view held back for size is a record on {@code mesh.discovery.holds}: written when the view is
 * first held, rewritten only when its size moves by more than 1% of the limit, and tombstoned in
 * the transaction that publishes the host's view again or finds the host gone.
 */
class ControlPlaneViewHoldTest {

  private static final Instant T0 = ControlPlaneDriver.T0;
  private static final String REVIEWS = "reviews.default.svc.cluster.local";
  private static final ObjectMapper YAML = new YAMLMapper();
  /** Labels of ≈100 KB: about ten such instances make a view too large for a record. */
  private static final String PAD = "y".repeat(100_000);

  private ControlPlaneDriver cp;

  @BeforeEach
  void start() {
    cp = new ControlPlaneDriver("view-hold-test",
        json -> ResourceCheck.Result.valid(Resource.fromJson(json)),
        new CompiledDiscovery(new ViewCompiler()), ControlPlaneDriver.SMALL_VIEWS);
  }

  @AfterEach
  void stop() {
    cp.close();
  }

  static InstanceRegistration instance(String id, String pad, Instant heartbeat,
                                       RegistrationState state) {
    Map<String, String> labels = new HashMap<>();
    labels.put("app", "reviews");
    if (!pad.isEmpty()) {
      labels.put("pad", pad);
    }
    return InstanceRegistration.newBuilder().setInstanceId(id).setService("reviews")
        .setAddress("127.0.0.1").setPort(15006).setLabels(labels).setState(state)
        .setLeaseDurationMillis(30_000).setRegisteredAt(T0).setHeartbeatAt(heartbeat).build();
  }

  private void register(String id, String pad) {
    cp.registry.pipeInput("default/reviews/" + id,
        instance(id, pad, now(), RegistrationState.REGISTERED));
  }

  private Instant now() {
    return T0.plus(elapsed);
  }

  private Duration elapsed = Duration.ZERO;

  private void later(Duration duration) {
    elapsed = elapsed.plus(duration);
    cp.driver.advanceWallClockTime(duration);
  }

  private List<ServiceView> newViews() {
    return cp.views.readRecordsToList().stream().filter(r -> r.key().equals(REVIEWS))
        .map(TestRecord::value).toList();
  }

  private List<KeyValue<String, ViewHold>> newHolds() {
    return cp.holds.readKeyValuesToList();
  }

  /** Registers padded instances until the view of reviews is held; returns how many. */
  private int registerUntilHeld() {
    for (int i = 2; i <= 20; i++) {
      register("reviews-" + i, PAD);
      if (!cp.holds.isEmpty()) {
        return i;
      }
    }
    throw new AssertionError("the view of reviews was never held");
  }

  @Test
  void aRegistrationThatMakesTheViewTooLargeWritesAHoldWithTheVersionProxiesKeep() {
    register("reviews-1", "");
    later(Duration.ofSeconds(1));

    int last = registerUntilHeld();

    assertThat(newHolds()).singleElement().satisfies(kv -> {
      assertThat(kv.key).isEqualTo(REVIEWS);
      ViewHold hold = kv.value;
      assertThat(hold.getHost()).isEqualTo(REVIEWS);
      assertThat(hold.getService()).isEqualTo("reviews");
      assertThat(hold.getNamespace()).isEqualTo("default");
      assertThat(hold.getViewBytes()).isGreaterThan(ControlPlaneDriver.SMALL_VIEWS.maxViewBytes());
      assertThat(hold.getLimitBytes()).isEqualTo(ControlPlaneDriver.SMALL_VIEWS.maxViewBytes());
      assertThat(hold.getSince()).isEqualTo(T0.plusSeconds(1));
      assertThat(hold.getEndpoints()).isEqualTo(last);
      assertThat(hold.getCause()).isEqualTo("registration of default/reviews/reviews-" + last);
    });
  }

  @Test
  void theHoldNamesTheLastPublishedVersionAndTheResourcesOfTheView() throws Exception {
    applyRoutes(1);
    register("reviews-1", "");
    registerUntilHeld();
    List<ServiceView> views = newViews();
    long lastVersion = views.get(views.size() - 1).getVersion();

    assertThat(newHolds()).singleElement().satisfies(kv -> {
      assertThat(kv.value.getKeptVersion()).isEqualTo(lastVersion);
      assertThat(kv.value.getHttpRoutes()).isEqualTo(1);
      assertThat(kv.value.getResources()).containsExactly("VirtualService/default/reviews@1");
    });
  }

  @Test
  void heartbeatsOfAHeldViewWriteNothingAndASizeChangeOverOnePercentRewritesItKeepingSince() {
    register("reviews-1", "");
    int last = registerUntilHeld();
    ViewHold first = newHolds().get(0).value;

    for (int s = 10; s <= 30; s += 10) {
      later(Duration.ofSeconds(10));
      register("reviews-1", "");
      for (int i = 2; i <= last; i++) {
        register("reviews-" + i, PAD); // heartbeats: same size
      }
    }
    assertThat(newHolds()).as("no record per heartbeat").isEmpty();

    register("reviews-" + (last + 1), PAD); // 100 KB more: over 1% of the limit
    assertThat(newHolds()).singleElement().satisfies(kv -> {
      assertThat(kv.value.getViewBytes()).isGreaterThan(first.getViewBytes() + 90_000);
      assertThat(kv.value.getSince()).isEqualTo(first.getSince());
      assertThat(kv.value.getUpdatedAt()).isEqualTo(now());
      assertThat(kv.value.getCause()).isEqualTo(first.getCause());
    });
  }

  @Test
  void aViewThatFitsAgainIsPublishedAndItsHoldTombstoned() {
    register("reviews-1", "");
    int last = registerUntilHeld();
    newHolds();
    long keptVersion = newViews().stream().mapToLong(ServiceView::getVersion).max().orElseThrow();

    cp.registry.pipeInput("default/reviews/reviews-2",
        instance("reviews-2", "", now(), RegistrationState.DEREGISTERED));

    assertThat(newViews()).singleElement().satisfies(view ->
        assertThat(view.getVersion()).isEqualTo(keptVersion + 1));
    assertThat(newHolds()).singleElement().satisfies(kv -> {
      assertThat(kv.key).isEqualTo(REVIEWS);
      assertThat(kv.value).as("a tombstone").isNull();
    });
    assertThat(last).isGreaterThan(2);
  }

  @Test
  void aHeldHostThatGoesAwayHasItsHoldTombstoned() {
    register("reviews-1", "");
    int last = registerUntilHeld();
    newHolds();

    for (int i = 1; i <= last; i++) {
      cp.registry.pipeInput("default/reviews/reviews-" + i, (InstanceRegistration) null);
    }

    assertThat(newViews()).last().satisfies(view -> assertThat(view.getRemoved()).isTrue());
    assertThat(newHolds()).singleElement().satisfies(kv -> assertThat(kv.value).isNull());
  }

  @Test
  void aCommandThatMakesAHeldViewFitEndsItsHoldInItsTransaction() throws Exception {
    applyRoutes(40); // ≈370 KB of routes: fewer padded instances make the view too large
    register("reviews-1", "");
    registerUntilHeld();
    newHolds();
    newViews();

    applyRoutes(1);

    assertThat(cp.events.readValuesToList()).last()
        .satisfies(e -> assertThat(e.getRevision()).isEqualTo(2));
    assertThat(newViews()).singleElement().satisfies(view -> {
      assertThat(view.getHttpRoutes()).hasSize(1);
      assertThat(view.getTriggeredBy().getRevision()).isEqualTo(2);
    });
    assertThat(newHolds()).singleElement().satisfies(kv -> assertThat(kv.value).isNull());
  }

  /** Applies the VirtualService of reviews with {@code routes} routes of ≈9 KB each. */
  private void applyRoutes(int routes) throws Exception {
    String pad = "x".repeat(9_000);
    StringBuilder yaml = new StringBuilder("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
        """);
    for (int i = 0; i < routes; i++) {
      yaml.append("  - match: [{uri: {prefix: /r").append(i).append("}}]\n")
          .append("    headers: {request: {set: {x-pad: \"").append(pad).append("\"}}}\n")
          .append("    route: [{destination: {host: reviews}}]\n");
    }
    Resource resource = Resource.fromDocument(YAML.readTree(yaml.toString()));
    cp.commands.pipeInput(resource.id().key(), Commands.apply(resource));
  }
}
