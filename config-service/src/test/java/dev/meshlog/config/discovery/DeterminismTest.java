package dev.meshlog.config.discovery;

import static dev.meshlog.config.discovery.Bookinfo.COMPILER;
import static dev.meshlog.config.discovery.Bookinfo.MESH;
import static dev.meshlog.config.discovery.Bookinfo.NOW;
import static dev.meshlog.config.discovery.Bookinfo.RATINGS;
import static dev.meshlog.config.discovery.Bookinfo.REVIEWS;
import static dev.meshlog.config.discovery.Bookinfo.config;
import static dev.meshlog.config.discovery.Bookinfo.instances;
import static dev.meshlog.config.discovery.Bookinfo.resources;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Resource;
import dev.meshlog.events.discovery.ChangeTrigger;
import dev.meshlog.events.discovery.ResourceRevision;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;

class DeterminismTest {

  private static byte[] bytes(ServiceView view) throws IOException {
    ByteBuffer buffer = ServiceView.getEncoder().encode(view);
    byte[] out = new byte[buffer.remaining()];
    buffer.get(out);
    return out;
  }

  @Test
  void compilesEqualViewsWhateverTheOrderOfItsInputs() throws IOException {
    List<Resource> shuffledResources = new ArrayList<>(resources(MESH));
    List<InstanceRegistration> shuffledInstances = new ArrayList<>(instances());
    Collections.shuffle(shuffledResources, new Random(7));
    Collections.shuffle(shuffledInstances, new Random(7));
    ConfigSnapshot shuffled = ConfigSnapshot.EMPTY;
    for (Resource resource : shuffledResources) {
      shuffled = shuffled.with(resource, 1);
    }

    Map<String, CompiledView> first = COMPILER.compileAll(config(MESH), instances(), NOW);
    Map<String, CompiledView> second = COMPILER.compileAll(shuffled, shuffledInstances, NOW);

    assertThat(second).isEqualTo(first);
    for (String host : first.keySet()) {
      assertThat(bytes(second.get(host).view())).as(host).isEqualTo(bytes(first.get(host).view()));
    }
  }

  @Test
  void compilesEveryHostAsCompilingItAloneWould() {
    Map<String, CompiledView> all = COMPILER.compileAll(config(MESH), instances(), NOW);

    assertThat(all.keySet()).containsExactlyElementsOf(COMPILER.hosts(config(MESH), instances()));
    all.forEach((host, view) ->
        assertThat(COMPILER.compile(host, config(MESH), instances(), NOW)).as(host).isEqualTo(view));
  }

  @Test
  void namesEveryHostOfServicesServiceEntriesAndGateways() {
    assertThat(COMPILER.hosts(config(MESH), instances())).containsExactly(
        "details.default.svc.cluster.local",
        "gateway.bookinfo-gateway.default",
        "productpage.default.svc.cluster.local",
        "ratings.default.svc.cluster.local",
        "reviews.default.svc.cluster.local",
        "www.googleapis.com");
  }

  @Test
  void listsTheResourcesThatWentIntoAViewWithTheirRevisionsSorted() {
    ConfigSnapshot config = config(MESH);
    for (Resource resource : resources(MESH)) {
      if (resource.kind().equals("DestinationRule") && resource.name().equals("ratings")) {
        config = config.with(resource, 4);
      }
    }

    ServiceView view = COMPILER.compile(RATINGS, config, instances(), NOW).view();

    assertThat(view.getSourceRevisions())
        .extracting(ResourceRevision::getKind, ResourceRevision::getNamespace, ResourceRevision::getName,
            ResourceRevision::getRevision)
        .containsExactly(
            tuple("AuthorizationPolicy", "default", "ratings-viewer", 1L),
            tuple("DestinationRule", "default", "ratings", 4L),
            tuple("PeerAuthentication", "meshlog-system", "default", 1L),
            tuple("RateLimit", "default", "ratings-reads", 1L),
            tuple("Sidecar", "default", "default", 1L),
            tuple("VirtualService", "default", "ratings", 1L));
  }

  @Test
  void aNewRevisionOfAContributingResourceChangesTheView() {
    ConfigSnapshot before = config(MESH);
    Resource canary = resources(Bookinfo.REVIEWS_CANARY).get(0);
    ConfigSnapshot after = before.with(canary, 2);

    CompiledView was = COMPILER.compile(REVIEWS, before, instances(), NOW);
    CompiledView is = COMPILER.compile(REVIEWS, after, instances(), NOW);

    assertThat(is.sameContentAs(was.view())).isFalse();
  }

  @Test
  void comparesContentIgnoringTheFieldsTheCallerSets() {
    CompiledView view = COMPILER.compile(REVIEWS, config(MESH), instances(), NOW);
    ServiceView published = ServiceView.newBuilder(view.view())
        .setVersion(42)
        .setGeneratedAt(NOW.minusSeconds(60))
        .setTriggeredBy(new ChangeTrigger("cmd-1", "VirtualService/default/reviews", 1L, NOW.minusSeconds(61)))
        .build();

    assertThat(COMPILER.compile(REVIEWS, config(MESH), instances(), NOW.plusSeconds(1)).sameContentAs(published))
        .isTrue();
  }

  @Test
  void leavesVersionAndTriggerToTheCallerAndStampsTheTimeInMillis() {
    ServiceView view = COMPILER.compile(REVIEWS, config(MESH), instances(), Instant.parse("2026-11-24T12:00:00.123456Z"))
        .view();

    assertThat(view.getVersion()).isZero();
    assertThat(view.getTriggeredBy()).isNull();
    assertThat(view.getGeneratedAt()).isEqualTo(Instant.parse("2026-11-24T12:00:00.123Z"));
  }
}
