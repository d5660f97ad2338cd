package dev.meshlog.config.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.SourceType;
import org.junit.jupiter.api.Test;

class ConfigFoldTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");
  private static final ResourceId REVIEWS = new ResourceId("VirtualService", "default", "reviews");
  private static final ResourceId RATINGS = new ResourceId("VirtualService", "default", "ratings");

  static Resource resource(ResourceId id, int weight) {
    return new Resource("networking.istio.io/v1", id.kind(), id.namespace(), id.name(), Map.of(),
        JSON.createObjectNode().put("weight", weight));
  }

  static ConfigEvent event(ResourceId id, long revision, ChangeType type, Integer weight) {
    return ConfigEvent.newBuilder()
        .setCommandId("c-" + id.name() + "-" + revision + "-" + type)
        .setResource(ConfigCommands.ref(id))
        .setRevision(revision)
        .setChangeType(type)
        .setDocument(weight == null ? null : resource(id, weight).canonicalJson())
        .setActor("ana")
        .setSource(ChangeSource.newBuilder().setType(SourceType.CLI).build())
        .setRequestedAt(T0.plusSeconds(revision))
        .setAcceptedAt(T0.plusSeconds(revision).plusMillis(5))
        .build();
  }

  @Test
  void currentStateIsTheLatestRevisionOfEachResource() {
    ConfigFold fold = new ConfigFold();
    fold.accept(event(REVIEWS, 1, ChangeType.CREATED, 10));
    fold.accept(event(RATINGS, 1, ChangeType.CREATED, 50));
    fold.accept(event(REVIEWS, 2, ChangeType.UPDATED, 20));

    assertThat(fold.current()).containsOnlyKeys(RATINGS, REVIEWS);
    CurrentResource reviews = fold.current(REVIEWS).orElseThrow();
    assertThat(reviews.revision()).isEqualTo(2);
    assertThat(reviews.resource()).isEqualTo(resource(REVIEWS, 20));
    assertThat(reviews.updatedAt()).isEqualTo(T0.plusSeconds(2).plusMillis(5));
  }

  @Test
  void unchangedEventsNeitherChangeStateNorAddRevisions() {
    ConfigFold fold = new ConfigFold();
    fold.accept(event(REVIEWS, 1, ChangeType.CREATED, 10));
    fold.accept(event(REVIEWS, 1, ChangeType.UNCHANGED, 10));

    assertThat(fold.current(REVIEWS).orElseThrow().event().getChangeType())
        .isEqualTo(ChangeType.CREATED);
    assertThat(fold.history(REVIEWS)).extracting(Revision::revision).containsExactly(1L);
  }

  @Test
  void deletedResourcesAreGoneButKeepTheirHistory() {
    ConfigFold fold = new ConfigFold();
    fold.accept(event(REVIEWS, 1, ChangeType.CREATED, 10));
    fold.accept(event(REVIEWS, 2, ChangeType.DELETED, null));

    assertThat(fold.current()).isEmpty();
    assertThat(fold.current(REVIEWS)).isEmpty();
    assertThat(fold.known()).containsExactly(REVIEWS);
    assertThat(fold.history(REVIEWS)).extracting(Revision::changeType)
        .containsExactly(ChangeType.CREATED, ChangeType.DELETED);
  }

  @Test
  void aResourceCreatedAgainAfterDeletionExists() {
    ConfigFold fold = new ConfigFold();
    fold.accept(event(REVIEWS, 1, ChangeType.CREATED, 10));
    fold.accept(event(REVIEWS, 2, ChangeType.DELETED, null));
    fold.accept(event(REVIEWS, 3, ChangeType.CREATED, 30));

    assertThat(fold.current(REVIEWS).orElseThrow().revision()).isEqualTo(3);
  }

  @Test
  void anOlderRevisionArrivingLateDoesNotWin() {
    ConfigFold fold = new ConfigFold();
    fold.accept(event(REVIEWS, 2, ChangeType.UPDATED, 20));
    fold.accept(event(REVIEWS, 1, ChangeType.CREATED, 10));

    assertThat(fold.current(REVIEWS).orElseThrow().resource()).isEqualTo(resource(REVIEWS, 20));
    assertThat(fold.history(REVIEWS)).extracting(Revision::revision).containsExactly(1L, 2L);
  }

  @Test
  void historyRecordsWhoWhereWhenAndRollbacks() {
    ConfigFold fold = new ConfigFold();
    fold.accept(event(REVIEWS, 1, ChangeType.CREATED, 10));
    ChangeSource git = ChangeSource.newBuilder().setType(SourceType.GIT).setCommitId("4f2a9c1")
        .setCommitAuthor("bob <bob@example.com>").setPath("mesh/reviews.yaml").build();
    fold.accept(ConfigEvent.newBuilder(event(REVIEWS, 2, ChangeType.UPDATED, 20))
        .setActor("bob").setSource(git).build());
    fold.accept(ConfigEvent.newBuilder(event(REVIEWS, 3, ChangeType.UPDATED, 10))
        .setRolledBackToRevision(1L).build());

    assertThat(fold.history(REVIEWS)).satisfiesExactly(
        r -> assertThat(r.actor()).isEqualTo("ana"),
        r -> {
          assertThat(r.actor()).isEqualTo("bob");
          assertThat(r.source().getCommitId()).isEqualTo("4f2a9c1");
          assertThat(r.requestedAt()).isEqualTo(T0.plusSeconds(2));
        },
        r -> assertThat(r.rolledBackTo()).isEqualTo(1L));
    assertThat(fold.history(RATINGS)).isEmpty();
  }

  @Test
  void withoutHistoryItKeepsOnlyCurrentState() {
    ConfigFold fold = new ConfigFold(false);
    fold.accept(event(REVIEWS, 1, ChangeType.CREATED, 10));
    assertThat(fold.current()).containsOnlyKeys(REVIEWS);
    assertThat(fold.history(REVIEWS)).isEmpty();
  }
}
