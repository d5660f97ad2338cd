package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.config.RejectionReason;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ControlPlaneCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = "VirtualService/default/reviews";

  private static final ResourceCheck CHECK = Commands.WEIGHT_CHECK;

  private ControlPlaneDriver cp;
  private TopologyTestDriver driver;
  private TestInputTopic<String, ConfigCommand> commands;
  private TestInputTopic<String, byte[]> rawCommands;
  private TestOutputTopic<String, ConfigEvent> events;
  private TestOutputTopic<String, ConfigRejection> rejections;
  private TestOutputTopic<String, DeadLetter> deadLetters;

  @BeforeEach
  void start() {
    cp = new ControlPlaneDriver("config-test", CHECK, Discovery.NONE);
    driver = cp.driver;
    commands = cp.commands;
    rawCommands = cp.rawCommands;
    events = cp.events;
    rejections = cp.rejections;
    deadLetters = cp.deadLetters;
  }

  @AfterEach
  void stop() {
    cp.close();
  }

  private static Resource reviews(int weight) {
    ObjectNode spec = JSON.createObjectNode().put("weight", weight);
    return new Resource("networking.istio.io/v1", "VirtualService", "default", "reviews",
        Map.of(), spec);
  }

  private ConfigEvent send(ConfigCommand command) {
    commands.pipeInput(KEY, command);
    assertThat(rejections.isEmpty()).as("rejected: %s", rejections.isEmpty() ? "" : rejections.readValue()).isTrue();
    ConfigEvent event = events.readValue();
    assertThat(event.getCommandId()).isEqualTo(command.getCommandId());
    return event;
  }

  private ConfigRejection rejected(ConfigCommand command) {
    commands.pipeInput(KEY, command);
    assertThat(events.isEmpty()).isTrue();
    ConfigRejection rejection = rejections.readValue();
    assertThat(rejection.getCommandId()).isEqualTo(command.getCommandId());
    return rejection;
  }

  @Test
  void acceptsANewResourceAsRevisionOne() {
    ConfigEvent event = send(Commands.apply(reviews(10)));
    assertThat(event.getRevision()).isEqualTo(1);
    assertThat(event.getChangeType()).isEqualTo(ChangeType.CREATED);
    assertThat(Resource.fromJson(event.getDocument())).isEqualTo(reviews(10));
    assertThat(event.getActor()).isEqualTo("tester");
    assertThat(event.getAcceptedAt()).isEqualTo(Instant.parse("2026-11-24T12:00:00Z"));
  }

  @Test
  void eachChangeAddsOneRevision() {
    send(Commands.apply(reviews(10)));
    ConfigEvent second = send(Commands.apply(reviews(20)));
    assertThat(second.getRevision()).isEqualTo(2);
    assertThat(second.getChangeType()).isEqualTo(ChangeType.UPDATED);
  }

  @Test
  void reapplyingAnIdenticalSpecCreatesNoNewRevision() {
    send(Commands.apply(reviews(10)));
    ConfigEvent again = send(Commands.apply(reviews(10)));
    assertThat(again.getChangeType()).isEqualTo(ChangeType.UNCHANGED);
    assertThat(again.getRevision()).isEqualTo(1);
    assertThat(send(Commands.apply(reviews(30))).getRevision()).isEqualTo(2);
  }

  @Test
  void rejectsAStaleExpectedRevisionAsAConflict() {
    send(Commands.apply(reviews(10)));
    send(Commands.apply(reviews(20)));
    ConfigRejection rejection = rejected(Commands.apply(reviews(30), 1L));
    assertThat(rejection.getReason()).isEqualTo(RejectionReason.CONFLICT);
    assertThat(rejection.getCurrentRevision()).isEqualTo(2);
    assertThat(rejection.getErrors().get(0).getMessage())
        .isEqualTo("conflict: VirtualService/default/reviews is at revision 2");
    assertThat(send(Commands.apply(reviews(30), 2L)).getRevision()).isEqualTo(3);
  }

  @Test
  void expectedRevisionZeroCreatesOnlyWhenAbsent() {
    assertThat(send(Commands.apply(reviews(10), 0L)).getRevision()).isEqualTo(1);
    assertThat(rejected(Commands.apply(reviews(20), 0L)).getReason())
        .isEqualTo(RejectionReason.CONFLICT);
  }

  @Test
  void rejectsAnInvalidDocumentWithItsFieldErrors() {
    ConfigRejection rejection = rejected(Commands.apply(reviews(120)));
    assertThat(rejection.getReason()).isEqualTo(RejectionReason.INVALID);
    assertThat(rejection.getErrors()).singleElement().satisfies(e -> {
      assertThat(e.getPath()).isEqualTo("spec.weight");
      assertThat(e.getValue()).isEqualTo("120");
      assertThat(e.getMessage()).isEqualTo("weight: 120 (expected: 0..100)");
    });
  }

  @Test
  void rejectsDeletingAResourceThatDoesNotExist() {
    assertThat(rejected(Commands.delete("VirtualService", "default", "reviews")).getReason())
        .isEqualTo(RejectionReason.NOT_FOUND);
  }

  @Test
  void revisionsKeepCountingAfterADeleteAndRecreate() {
    send(Commands.apply(reviews(10)));
    ConfigEvent deleted = send(Commands.delete("VirtualService", "default", "reviews"));
    assertThat(deleted.getChangeType()).isEqualTo(ChangeType.DELETED);
    assertThat(deleted.getRevision()).isEqualTo(2);
    assertThat(deleted.getDocument()).isNull();
    ConfigEvent recreated = send(Commands.apply(reviews(10)));
    assertThat(recreated.getRevision()).isEqualTo(3);
    assertThat(recreated.getChangeType()).isEqualTo(ChangeType.CREATED);
  }

  @Test
  void rollbackWritesANewRevisionWithTheOldSpec() {
    send(Commands.apply(reviews(10)));
    send(Commands.apply(reviews(20)));
    send(Commands.apply(reviews(30)));
    ConfigEvent rolledBack = send(Commands.rollback("VirtualService", "default", "reviews", 1));
    assertThat(rolledBack.getRevision()).isEqualTo(4);
    assertThat(rolledBack.getRolledBackToRevision()).isEqualTo(1L);
    assertThat(Resource.fromJson(rolledBack.getDocument())).isEqualTo(reviews(10));
  }

  @Test
  void rollbackToARevisionThatNeverExistedIsRejected() {
    send(Commands.apply(reviews(10)));
    ConfigRejection rejection = rejected(Commands.rollback("VirtualService", "default", "reviews", 7));
    assertThat(rejection.getReason()).isEqualTo(RejectionReason.NOT_FOUND);
    assertThat(rejection.getErrors().get(0).getMessage())
        .isEqualTo("no such revision of VirtualService/default/reviews (expected: 1..1)");
  }

  @Test
  void rejectsACommandWhoseKeyIsNotItsResource() {
    ConfigCommand command = Commands.apply(reviews(10));
    commands.pipeInput("VirtualService/default/ratings", command);
    assertThat(rejections.readValue().getReason()).isEqualTo(RejectionReason.MALFORMED);
    assertThat(events.isEmpty()).isTrue();
  }

  @Test
  void sendsACorruptCommandToTheDeadLetterTopicAndKeepsGoing() {
    rawCommands.pipeInput(KEY, new byte[] {1, 2, 3, 4});
    DeadLetter letter = deadLetters.readValue();
    assertThat(letter.getSourceTopic()).isEqualTo(Topics.CONFIG_COMMANDS.name());
    assertThat(letter.getReason()).contains("shorter than the 10-byte single-object header");
    assertThat(letter.getValue().array()).containsExactly(1, 2, 3, 4);
    assertThat(send(Commands.apply(reviews(10))).getRevision()).isEqualTo(1);
  }

  @Test
  void aChangeWritesOneChangelogForTheConfigState() {
    send(Commands.apply(reviews(10)));
    assertThat(driver.producedTopicNames())
        .contains("config-test-" + ControlPlaneTopology.REVISIONS_STORE + "-changelog")
        .filteredOn(topic -> topic.endsWith("-changelog"))
        .containsExactly("config-test-" + ControlPlaneTopology.REVISIONS_STORE + "-changelog");
  }

  @Test
  void theCurrentStateIsTheLatestRevisionAndADeletionMakesItAbsent() {
    send(Commands.apply(reviews(10)));
    send(Commands.delete("VirtualService", "default", "reviews"));
    ConfigRejection conflict = rejected(Commands.apply(reviews(10), 2L));
    assertThat(conflict.getReason()).isEqualTo(RejectionReason.CONFLICT);
    ConfigEvent recreated = send(Commands.apply(reviews(10), 0L));
    assertThat(recreated.getChangeType()).isEqualTo(ChangeType.CREATED);
    assertThat(recreated.getRevision()).isEqualTo(3);
    assertThat(send(Commands.apply(reviews(10))).getChangeType()).isEqualTo(ChangeType.UNCHANGED);
  }

  @Test
  void keepsEveryRevisionInTheHistoryStore() {
    send(Commands.apply(reviews(10)));
    send(Commands.apply(reviews(20)));
    List<Long> revisions = new ArrayList<>();
    driver.<String, byte[]>getKeyValueStore(ControlPlaneTopology.REVISIONS_STORE).all()
        .forEachRemaining(kv -> revisions.add(Topics.CONFIG_EVENTS.deserializeValue(kv.value)
            .getRevision()));
    assertThat(revisions).containsExactly(1L, 2L);
  }

  @Test
  void theEventOnTheTopicIsByteForByteTheRevisionInTheStoreAndTheSerdesEncoding() {
    TestOutputTopic<String, byte[]> rawEvents = driver.createOutputTopic(
        Topics.CONFIG_EVENTS.name(), Serdes.String().deserializer(),
        Serdes.ByteArray().deserializer());
    commands.pipeInput(KEY, Commands.apply(reviews(10)));
    commands.pipeInput(KEY, Commands.apply(reviews(10))); // unchanged: on the topic, not stored
    commands.pipeInput(KEY, Commands.delete("VirtualService", "default", "reviews"));
    List<byte[]> onTopic = rawEvents.readValuesToList();
    assertThat(onTopic).hasSize(3);
    var store = driver.<String, byte[]>getKeyValueStore(ControlPlaneTopology.REVISIONS_STORE);
    for (byte[] bytes : onTopic) {
      ConfigEvent event = Topics.CONFIG_EVENTS.deserializeValue(bytes);
      // The topic and the store hold the same bytes, the serde's encoding of the event (what
      // encoding it once for both must keep: config-service/README.md, "tried, not kept").
      assertThat(bytes).isEqualTo(Topics.CONFIG_EVENTS.serializeValue(event));
      if (event.getChangeType() != ChangeType.UNCHANGED) {
        assertThat(store.get(ControlPlaneTopology.revisionKey(KEY, event.getRevision())))
            .isEqualTo(bytes);
      }
    }
  }
}
