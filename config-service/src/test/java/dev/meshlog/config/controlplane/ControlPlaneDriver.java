package dev.meshlog.config.controlplane;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;

import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * The control plane's topology in a {@link TopologyTestDriver} at wall-clock {@link #T0} (a
 * 1 s lease scan), with its input and output topics: what the topology tests drive.
 */
final class ControlPlaneDriver implements AutoCloseable {

  static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");

  /**
   * The limits the tests of holds run with: views of at most 1,000,000 bytes (the limit before
   * views took 16 MiB), so that ten instances with 100 KB labels make one too large, and every
   * registry change published at once. {@code ControlPlaneLargeViewTest} runs the real limits.
   */
  static final ViewLimits SMALL_VIEWS = ViewLimits.DEFAULT.withMaxViewBytes(1_000_000)
      .withoutCoalescing();

  final TopologyTestDriver driver;
  final TestInputTopic<String, ConfigCommand> commands;
  /** The commands topic with the bytes as given: poison pills. */
  final TestInputTopic<String, byte[]> rawCommands;
  final TestInputTopic<String, InstanceRegistration> registry;
  final TestOutputTopic<String, ConfigEvent> events;
  final TestOutputTopic<String, ConfigRejection> rejections;
  final TestOutputTopic<String, ServiceView> views;
  final TestOutputTopic<String, DeadLetter> deadLetters;
  final TestOutputTopic<String, ViewHold> holds;
  /** The driver's own state directory: not Kafka Streams' default, shared by every build here. */
  private final Path stateDir;

  ControlPlaneDriver(String applicationId, ResourceCheck check, Discovery discovery) {
    this(applicationId, check, discovery, ViewLimits.DEFAULT);
  }

  ControlPlaneDriver(String applicationId, ResourceCheck check, Discovery discovery,
                     ViewLimits limits) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    try {
      stateDir = Files.createTempDirectory("meshlog-control-plane-driver");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(ControlPlaneTopology.build(check, discovery,
        Duration.ofSeconds(1), Duration.ZERO, CommandStages.OFF, limits), props, T0);
    commands = driver.createInputTopic(Topics.CONFIG_COMMANDS.name(), Serdes.String().serializer(),
        Topics.CONFIG_COMMANDS.valueSerde().serializer());
    rawCommands = driver.createInputTopic(Topics.CONFIG_COMMANDS.name(),
        Serdes.String().serializer(), Serdes.ByteArray().serializer());
    registry = driver.createInputTopic(Topics.REGISTRY_INSTANCES.name(),
        Serdes.String().serializer(), Topics.REGISTRY_INSTANCES.valueSerde().serializer());
    events = driver.createOutputTopic(Topics.CONFIG_EVENTS.name(), Serdes.String().deserializer(),
        Topics.CONFIG_EVENTS.valueSerde().deserializer());
    rejections = driver.createOutputTopic(Topics.CONFIG_REJECTIONS.name(),
        Serdes.String().deserializer(), Topics.CONFIG_REJECTIONS.valueSerde().deserializer());
    views = driver.createOutputTopic(Topics.DISCOVERY_VIEWS.name(), Serdes.String().deserializer(),
        Topics.DISCOVERY_VIEWS.valueSerde().deserializer());
    holds = driver.createOutputTopic(Topics.DISCOVERY_HOLDS.name(), Serdes.String().deserializer(),
        Topics.DISCOVERY_HOLDS.valueSerde().deserializer());
    deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS.name(),
        Serdes.String().deserializer(), Topics.DEAD_LETTERS.valueSerde().deserializer());
  }

  @Override
  public void close() {
    driver.close();
    try (Stream<Path> paths = Files.walk(stateDir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
