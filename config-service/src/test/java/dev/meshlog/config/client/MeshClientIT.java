package dev.meshlog.config.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.RejectionReason;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.testkit.KafkaCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client against a real broker and the real control plane. */
@WithControlPlane
class MeshClientIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  private MeshClient client;
  private ConfigCommands commands;
  private String namespace;

  @BeforeEach
  void connect(KafkaCluster kafka) {
    client = new MeshClient(kafka.clientConfig(), Duration.ofSeconds(30));
    commands = ConfigCommands.of("ana", SourceType.CLI, Clock.systemUTC());
    namespace = KafkaCluster.uniqueName("ns");
  }

  @AfterEach
  void close() {
    client.close();
  }

  /** A VirtualService sending {@code weight} percent to v2. */
  static Resource reviews(String namespace, int weight) {
    ObjectNode spec = JSON.createObjectNode();
    spec.putArray("hosts").add("reviews");
    var route = spec.putArray("http").addObject().putArray("route");
    route.addObject().put("weight", Math.max(0, 100 - weight)).putObject("destination")
        .put("host", "reviews").put("subset", "v1");
    route.addObject().put("weight", weight).putObject("destination")
        .put("host", "reviews").put("subset", "v2");
    return new Resource("networking.istio.io/v1", "VirtualService", namespace, "reviews",
        Map.of("app", "reviews"), spec);
  }

  private Outcome submit(dev.meshlog.events.config.ConfigCommand command) {
    return client.submit(List.of(command)).get(0);
  }

  @Test
  void holdsAreKnownWhereTheTopicExistsAndATopicOfALaterReleaseIsSimplyAbsent(KafkaCluster kafka) {
    // The holds topic exists on this cluster (testkit creates Topics.ALL): analyze reads it.
    assertThat(client.holds()).isPresent();
    // A cluster set up by an earlier release lacks it: exists() says so instead of failing the
    // read, so meshctl analyze can still analyze and say holds are not reported.
    var missing = new dev.meshlog.schemas.Topic<>(KafkaCluster.uniqueName("mesh.missing"),
        org.apache.kafka.common.serialization.Serdes.String(),
        dev.meshlog.schemas.Topics.DISCOVERY_HOLDS.valueSerde(), 1,
        dev.meshlog.schemas.Topics.DISCOVERY_HOLDS.cleanup(), Duration.ofDays(1), "absent");
    try (LogReader reader = new LogReader(kafka.clientConfig(), Duration.ofSeconds(30))) {
      assertThat(reader.exists(missing)).isFalse();
      assertThat(reader.exists(dev.meshlog.schemas.Topics.DISCOVERY_HOLDS)).isTrue();
    }
  }

  @Test
  void aCommandTooLargeForOneRecordIsRejectedByNameAndTheRestOfTheBatchIsAnswered() {
    // 1.1 MB: over what the producer and the broker take in one record (1 MiB).
    ObjectNode bigSpec = reviews(namespace, 10).spec().deepCopy();
    bigSpec.putArray("gateways").add("x".repeat(1_100_000));
    Resource big = new Resource("networking.istio.io/v1", "VirtualService", namespace, "reviews",
        Map.of(), bigSpec);
    Resource details = new Resource("networking.istio.io/v1", "VirtualService", namespace,
        "details", Map.of(), reviews(namespace, 0).spec());
    Resource ratings = new Resource("networking.istio.io/v1", "VirtualService", namespace,
        "ratings", Map.of(), reviews(namespace, 0).spec());

    List<Outcome> outcomes = client.submit(List.of(commands.apply(details), commands.apply(big),
        commands.apply(ratings)));

    assertThat(outcomes).extracting(o -> o.resource().name() + " " + o.accepted())
        .containsExactly("details true", "reviews false", "ratings true");
    Outcome refused = outcomes.get(1);
    assertThat(refused.reason()).isEqualTo(RejectionReason.INVALID);
    assertThat(refused.errors()).singleElement().satisfies(e -> {
      assertThat(e.getPath()).isEqualTo("document");
      assertThat(e.getMessage()).matches("1\\d{6} bytes as a command \\(expected: at most 1000000 "
          + "bytes: one resource travels as one Kafka record, and Kafka takes 1 MiB\\)");
    });
    assertThat(client.resources()).doesNotContainKey(big.id());
  }

  @Test
  void anApplyIsAcceptedAsRevisionOne() {
    Outcome outcome = submit(commands.apply(reviews(namespace, 10)));

    assertThat(outcome.accepted()).isTrue();
    assertThat(outcome.changeType()).isEqualTo(ChangeType.CREATED);
    assertThat(outcome.revision()).isEqualTo(1);
    assertThat(outcome.event().getActor()).isEqualTo("ana");
  }

  @Test
  void reapplyingTheSameResourceIsUnchanged() {
    submit(commands.apply(reviews(namespace, 10)));
    Outcome again = submit(commands.apply(reviews(namespace, 10)));

    assertThat(again.changeType()).isEqualTo(ChangeType.UNCHANGED);
    assertThat(again.revision()).isEqualTo(1);
  }

  @Test
  void anInvalidResourceIsRejectedWithItsFieldErrors() {
    Outcome outcome = submit(commands.apply(reviews(namespace, 120)));

    assertThat(outcome.accepted()).isFalse();
    assertThat(outcome.reason()).isEqualTo(RejectionReason.INVALID);
    assertThat(outcome.errors()).singleElement().satisfies(e -> {
      assertThat(e.getPath()).isEqualTo("spec.http[0].route[1].weight");
      assertThat(e.getMessage()).isEqualTo("120 (expected: 0..100)");
    });
  }

  @Test
  void anApplyAtAStaleRevisionIsAConflict() {
    submit(commands.apply(reviews(namespace, 10)));
    submit(commands.apply(reviews(namespace, 20)));
    Outcome outcome = submit(commands.apply(reviews(namespace, 30), 1L));

    assertThat(outcome.reason()).isEqualTo(RejectionReason.CONFLICT);
    assertThat(outcome.rejection().getCurrentRevision()).isEqualTo(2);
  }

  @Test
  void deleteRemovesTheResourceAndASecondDeleteIsNotFound() {
    ResourceId id = reviews(namespace, 10).id();
    submit(commands.apply(reviews(namespace, 10)));

    Outcome deleted = submit(commands.delete(id));
    assertThat(deleted.changeType()).isEqualTo(ChangeType.DELETED);
    assertThat(deleted.revision()).isEqualTo(2);
    assertThat(client.resources()).doesNotContainKey(id);

    assertThat(submit(commands.delete(id)).reason()).isEqualTo(RejectionReason.NOT_FOUND);
  }

  @Test
  void historyListsEveryRevisionAndRollbackRestoresAnOldOne() {
    ResourceId id = reviews(namespace, 10).id();
    submit(commands.apply(reviews(namespace, 10)));
    submit(commands.withActor("bob").apply(reviews(namespace, 50)));

    Outcome rolledBack = submit(commands.rollback(id, 1));
    assertThat(rolledBack.revision()).isEqualTo(3);
    assertThat(rolledBack.event().getRolledBackToRevision()).isEqualTo(1);

    assertThat(client.history(id)).satisfiesExactly(
        r -> assertThat(r.changeType()).isEqualTo(ChangeType.CREATED),
        r -> assertThat(r.actor()).isEqualTo("bob"),
        r -> {
          assertThat(r.changeType()).isEqualTo(ChangeType.UPDATED);
          assertThat(r.rolledBackTo()).isEqualTo(1);
        });
    assertThat(client.resources().get(id).resource()).isEqualTo(reviews(namespace, 10));
  }

  @Test
  void aBatchGetsOneOutcomePerCommandInOrder() {
    Resource a = reviews(namespace, 10);
    Resource b = new Resource(a.apiVersion(), a.kind(), namespace, "ratings", Map.of(), a.spec());
    Resource invalid = new Resource(a.apiVersion(), a.kind(), namespace, "details", Map.of(),
        reviews(namespace, 120).spec());

    List<Outcome> outcomes = client.submit(List.of(commands.apply(a), commands.apply(invalid),
        commands.apply(b)));

    assertThat(outcomes).extracting(o -> o.resource().name())
        .containsExactly("reviews", "details", "ratings");
    assertThat(outcomes).extracting(Outcome::accepted).containsExactly(true, false, true);
    assertThat(client.resources().keySet()).filteredOn(id -> id.namespace().equals(namespace))
        .containsExactly(b.id(), a.id());
  }
}
