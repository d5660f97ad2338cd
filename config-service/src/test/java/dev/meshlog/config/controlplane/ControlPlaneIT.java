package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.config.RejectionReason;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control plane on a real broker, exactly-once: commands in, events or rejections out,
 * committed as soon as each command is judged, or in a burst within a few ms (the commit interval
 * here is five minutes).
 */
@WithKafka
class ControlPlaneIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ResourceCheck CHECK = Commands.WEIGHT_CHECK;

  /**
   * Far longer than any test's deadline: every outcome these tests read ({@code read_committed})
   * is visible only because the control plane commits right after each command (or, in a burst,
   * at its next command-commit tick). (No other control
   * plane answers these commands: a second outcome for a command fails the test.)
   */
  private static final Duration COMMIT_INTERVAL = Duration.ofMinutes(5);

  private static ControlPlaneApp app;
  private static KafkaProducer<String, ConfigCommand> producer;
  private static KafkaConsumer<String, byte[]> outcomes;
  private static final Map<String, Object> seen = new HashMap<>();
  private static String namespace;
  /** Each command's stages as the control plane's stream thread timed them. */
  private static final java.util.Queue<CommandStages.Timing> timings =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  @BeforeAll
  static void start(KafkaCluster kafka, @TempDir Path stateDir) throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    namespace = KafkaCluster.uniqueName("ns");
    app = new ControlPlaneApp(new ControlPlaneApp.Settings(kafka.bootstrapServers(),
        KafkaCluster.uniqueName("config"), stateDir, COMMIT_INTERVAL, Duration.ofSeconds(1)),
        CHECK, Discovery.NONE, CommandStages.withListener(timings::add));
    app.start();
    assertThat(app.awaitRunning(Duration.ofSeconds(60))).isTrue();
    producer = new KafkaProducer<>(kafka.clientConfig(), Topics.CONFIG_COMMANDS.keySerde().serializer(),
        Topics.CONFIG_COMMANDS.valueSerde().serializer());
    Map<String, Object> config = kafka.clientConfig();
    config.put(ConsumerConfig.GROUP_ID_CONFIG, KafkaCluster.uniqueName("outcomes"));
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    outcomes = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    outcomes.subscribe(List.of(Topics.CONFIG_EVENTS.name(), Topics.CONFIG_REJECTIONS.name()));
  }

  @AfterAll
  static void stop() {
    outcomes.close();
    producer.close();
    app.close();
  }

  private static Resource reviews(int weight) {
    return new Resource("networking.istio.io/v1", "VirtualService", namespace, "reviews",
        Map.of(), JSON.createObjectNode().put("weight", weight));
  }

  /** Sends a command and waits for its one outcome. */
  private static Object submit(ConfigCommand command) throws Exception {
    String key = command.getResource().getKind() + "/" + command.getResource().getNamespace()
        + "/" + command.getResource().getName();
    producer.send(new ProducerRecord<>(Topics.CONFIG_COMMANDS.name(), key, command)).get();
    Object outcome = submitted(command);
    assertThat(outcome).as("outcome of %s", command.getCommandId()).isNotNull();
    return outcome;
  }

  @Test
  void acceptsUpdatesAndRejectsThroughTheBroker() throws Exception {
    ConfigEvent created = (ConfigEvent) submit(Commands.apply(reviews(10)));
    assertThat(created.getRevision()).isEqualTo(1);
    assertThat(created.getChangeType()).isEqualTo(ChangeType.CREATED);

    ConfigEvent unchanged = (ConfigEvent) submit(Commands.apply(reviews(10)));
    assertThat(unchanged.getChangeType()).isEqualTo(ChangeType.UNCHANGED);

    ConfigRejection invalid = (ConfigRejection) submit(Commands.apply(reviews(120)));
    assertThat(invalid.getReason()).isEqualTo(RejectionReason.INVALID);
    assertThat(invalid.getErrors().get(0).getPath()).isEqualTo("spec.weight");

    ConfigRejection conflict = (ConfigRejection) submit(Commands.apply(reviews(20), 5L));
    assertThat(conflict.getReason()).isEqualTo(RejectionReason.CONFLICT);

    ConfigEvent updated = (ConfigEvent) submit(Commands.apply(reviews(20), 1L));
    assertThat(updated.getRevision()).isEqualTo(2);

    ConfigEvent rolledBack = (ConfigEvent) submit(
        Commands.rollback("VirtualService", namespace, "reviews", 1));
    assertThat(rolledBack.getRevision()).isEqualTo(3);
    assertThat(Resource.fromJson(rolledBack.getDocument())).isEqualTo(reviews(10));
  }

  @Test
  void timesACommandsStagesFromItsPollToItsTransactionsCommit() throws Exception {
    ConfigCommand command = Commands.apply(reviews(33));
    String key = command.getResource().getKind() + "/" + command.getResource().getNamespace()
        + "/" + command.getResource().getName();
    var sent = producer.send(new ProducerRecord<>(Topics.CONFIG_COMMANDS.name(), key, command)).get();
    assertThat(submitted(command)).isNotNull();

    CommandStages.Timing t = org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> timings.stream().filter(x -> x.commandId().equals(command.getCommandId()))
            .findFirst().orElse(null), java.util.Objects::nonNull);
    assertThat(t.offset()).isEqualTo(sent.offset());
    assertThat(t.timestampMs()).isEqualTo(sent.timestamp());
    // Its poll came after its append, its commit after its poll (one machine's clock).
    assertThat(t.polledAtMicros()).isGreaterThanOrEqualTo(sent.timestamp() * 1_000);
    assertThat(t.committedAtMicros()).isGreaterThan(t.polledAtMicros());
    assertThat(t.processMs()).isPositive().isGreaterThanOrEqualTo(t.checkMs());
    // The commit's three round trips were timed around the real producer's calls.
    assertThat(t.flushMs()).isGreaterThanOrEqualTo(0);
    assertThat(t.offsetsMs()).isPositive();
    assertThat(t.endTxnMs()).isPositive();
    assertThat((t.committedAtMicros() - t.polledAtMicros()) / 1e3).isGreaterThanOrEqualTo(
        t.processMs() + t.offsetsMs() + t.endTxnMs() - 1);
    assertThat(t.views()).isZero(); // Discovery.NONE compiles no views
  }

  @Test
  void everyCommandGetsExactlyOneOutcomeUnderLoad() throws Exception {
    List<ConfigCommand> sent = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Resource r = new Resource("networking.istio.io/v1", "VirtualService", namespace, "load-" + (i % 5),
          Map.of(), JSON.createObjectNode().put("weight", i));
      ConfigCommand command = Commands.apply(r);
      sent.add(command);
      producer.send(new ProducerRecord<>(Topics.CONFIG_COMMANDS.name(), r.id().key(), command));
    }
    producer.flush();
    for (ConfigCommand command : sent) {
      assertThat(submitted(command)).isInstanceOf(ConfigEvent.class);
    }
    // Ten applies to each of five resources: revisions 1..10 each, in order.
    for (int n = 0; n < 5; n++) {
      List<Long> revisions = new ArrayList<>();
      for (ConfigCommand c : sent) {
        if (c.getResource().getName().equals("load-" + n)) {
          revisions.add(((ConfigEvent) seen.get(c.getCommandId())).getRevision());
        }
      }
      assertThat(revisions).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
    }
  }

  /** Waits for the outcome of a command already sent; fails on a second outcome for any command. */
  private static Object submitted(ConfigCommand command) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!seen.containsKey(command.getCommandId()) && System.nanoTime() < deadline) {
      for (ConsumerRecord<String, byte[]> r : outcomes.poll(Duration.ofMillis(100))) {
        Object value = r.topic().equals(Topics.CONFIG_EVENTS.name())
            ? Topics.CONFIG_EVENTS.deserializeValue(r.value())
            : Topics.CONFIG_REJECTIONS.deserializeValue(r.value());
        String id = value instanceof ConfigEvent e ? e.getCommandId()
            : ((ConfigRejection) value).getCommandId();
        assertThat(seen.put(id, value)).as("a second outcome for command %s", id).isNull();
      }
    }
    return seen.get(command.getCommandId());
  }
}
