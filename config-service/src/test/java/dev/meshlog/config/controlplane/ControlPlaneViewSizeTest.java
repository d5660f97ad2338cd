package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.meshlog.config.discovery.ViewCompiler;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.config.RejectionReason;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A view too large for one Kafka record is never sent: a command that would make one is
 * rejected and leaves the model as it was; a registration that would make one leaves the last
 * published version in place. Sent, it would fail the transaction and the stream thread, and the
 * replaced thread would meet the same command again.
 */
class ControlPlaneViewSizeTest {

  private static final Instant T0 = ControlPlaneDriver.T0;
  private static final String REVIEWS = "reviews.default.svc.cluster.local";
  private static final ObjectMapper YAML = new YAMLMapper();
  /** Header values of ≈9 KB: 120 routes carrying one each make a view of ≈1.1 MB. */
  private static final String PAD = "x".repeat(9_000);

  private ControlPlaneDriver cp;

  @BeforeEach
  void start() {
    cp = new ControlPlaneDriver("view-size-test",
        json -> ResourceCheck.Result.valid(Resource.fromJson(json)),
        new CompiledDiscovery(new ViewCompiler()), ControlPlaneDriver.SMALL_VIEWS);
  }

  @AfterEach
  void stop() {
    cp.close();
  }

  private void register(String id, Map<String, String> extraLabels) {
    Map<String, String> labels = new java.util.HashMap<>(extraLabels);
    labels.put("app", "reviews");
    labels.put("version", "v1");
    cp.registry.pipeInput("default/reviews/" + id, InstanceRegistration.newBuilder().setInstanceId(id)
        .setService("reviews").setAddress("127.0.0.1").setPort(15006).setLabels(labels)
        .setState(RegistrationState.REGISTERED).setLeaseDurationMillis(30_000)
        .setRegisteredAt(T0).setHeartbeatAt(T0).build());
  }

  private void apply(int routes, String pad) throws Exception {
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

  private List<ServiceView> newViews() {
    return cp.views.readRecordsToList().stream().filter(r -> r.key().equals(REVIEWS))
        .map(TestRecord::value).toList();
  }

  @Test
  void aChangeWhoseViewWouldNotFitARecordIsRejectedAndTheModelKeepsTheCurrentRevision()
      throws Exception {
    register("reviews-1", Map.of());
    newViews();
    apply(1, "small");
    assertThat(cp.events.readValue().getRevision()).isEqualTo(1);
    ServiceView before = newViews().get(0);
    assertThat(before.getHttpRoutes()).hasSize(1);

    apply(120, PAD);

    assertThat(cp.events.isEmpty()).as("no event for the rejected change").isTrue();
    assertThat(newViews()).as("no view published").isEmpty();
    ConfigRejection rejection = cp.rejections.readValue();
    assertThat(rejection.getReason()).isEqualTo(RejectionReason.INVALID);
    assertThat(rejection.getCurrentRevision()).isEqualTo(1L);
    assertThat(rejection.getErrors()).singleElement().satisfies(e -> {
      assertThat(e.getPath()).isEqualTo("spec");
      assertThat(e.getValue()).isEqualTo(REVIEWS);
      assertThat(e.getMessage()).contains("the view of " + REVIEWS + " would be")
          .contains("at most " + ControlPlaneDriver.SMALL_VIEWS.maxViewBytes() + " bytes");
    });

    // The model is back at revision 1: the next view of the host (a new endpoint) has its one route.
    register("reviews-2", Map.of());
    List<ServiceView> after = newViews();
    assertThat(after).singleElement().satisfies(view -> {
      assertThat(view.getVersion()).isEqualTo(before.getVersion() + 1);
      assertThat(view.getHttpRoutes()).hasSize(1);
      assertThat(view.getEndpoints()).extracting(Endpoint::getInstanceId)
          .containsExactlyInAnyOrder("reviews-1", "reviews-2");
    });

    // A change that fits is accepted as the next revision.
    apply(2, "small");
    assertThat(cp.events.readValue().getRevision()).isEqualTo(2);
    assertThat(newViews()).singleElement().satisfies(view ->
        assertThat(view.getHttpRoutes()).hasSize(2));
  }

  @Test
  void aNewResourceWhoseViewWouldNotFitIsRejectedAndLeavesNothingBehind() throws Exception {
    register("reviews-1", Map.of());
    newViews();

    apply(120, PAD);

    assertThat(cp.rejections.readValue().getCurrentRevision()).isEqualTo(0L);
    assertThat(cp.events.isEmpty()).isTrue();
    register("reviews-2", Map.of());
    assertThat(newViews()).singleElement().satisfies(view ->
        assertThat(view.getHttpRoutes()).isEmpty());
  }

  @Test
  void aRegistrationWhoseViewWouldNotFitKeepsTheLastPublishedVersion() {
    register("reviews-1", Map.of());
    ServiceView published = newViews().get(0);

    // Instances with ≈100 KB of labels each: the eleventh makes the view too large.
    for (int i = 2; i <= 11; i++) {
      register("reviews-" + i, Map.of("pad", "y".repeat(100_000)));
    }
    List<ServiceView> sent = newViews();
    assertThat(sent).as("views up to the limit are published").isNotEmpty();
    ServiceView last = sent.get(sent.size() - 1);
    assertThat(last.getEndpoints().size()).isLessThan(11);
    assertThat(last.getVersion()).isGreaterThan(published.getVersion());

    // The control plane goes on: an instance leaving makes a view that fits again, and it is
    // published (the eleventh instance in it now).
    cp.registry.pipeInput("default/reviews/reviews-2", InstanceRegistration.newBuilder()
        .setInstanceId("reviews-2").setService("reviews").setAddress("127.0.0.1").setPort(15006)
        .setLabels(Map.of("app", "reviews")).setState(RegistrationState.DEREGISTERED)
        .setLeaseDurationMillis(30_000).setRegisteredAt(T0).setHeartbeatAt(T0).build());
    assertThat(newViews()).singleElement().satisfies(view -> {
      assertThat(view.getVersion()).isEqualTo(last.getVersion() + 1);
      assertThat(view.getEndpoints()).extracting(Endpoint::getInstanceId)
          .contains("reviews-11").doesNotContain("reviews-2").hasSize(10);
    });
  }
}
