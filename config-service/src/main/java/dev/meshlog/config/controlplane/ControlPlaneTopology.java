package dev.meshlog.config.controlplane;

import java.time.Duration;
import java.util.Objects;

import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.schemas.Topics;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.registry.InstanceRegistration;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The config-service topology: judges every config command (the single writer of
 * {@code mesh.config.events}), keeps the registry with its leases, and compiles the discovery
 * views, all in one task so that an accepted change and the views it alters commit together.
 *
 * <pre>
 * mesh.config.commands ----\                      /--> mesh.config.events
 *                           > control-plane ------+--> mesh.config.rejections
 * mesh.registry.instances -/   (stores below)     +--> mesh.discovery.views
 *                                                  \--> mesh.deadletter (undecodable input)
 * </pre>
 *
 * <p>Pure: no broker, clock or file; tests drive it with {@code TopologyTestDriver}.
 */
public final class ControlPlaneTopology {

  /**
   * Every accepted event per resource and revision, key {@code <resource id>@<revision, 19
   * digits>}: the config state (a resource's current state is its latest revision, absent if
   * that is a deletion). The only config store, so a change writes one changelog partition for
   * it; before, a second store of the latest event per resource ({@code config-resources}) held
   * nothing this one lacks, and its changelog topic is left unused after an upgrade.
   */
  public static final String REVISIONS_STORE = "config-revisions";
  /** Latest registration per instance key (deregistered and lapsed instances are absent). */
  public static final String INSTANCES_STORE = "registry-instances";
  /**
   * The last published view per host as a {@link ViewStamp} (version, removal, a hash of the
   * content): what change detection and the next version need, ~70 bytes per changelog record
   * instead of the whole view. Its serde still reads whole views, the format before stamps.
   */
  public static final String VIEWS_STORE = "discovery-views";

  static final String COMMANDS_SOURCE = "config-commands-source";
  static final String REGISTRY_SOURCE = "registry-instances-source";
  static final String PROCESSOR = "control-plane";
  static final String EVENTS_SINK = "config-events-sink";
  static final String REJECTIONS_SINK = "config-rejections-sink";
  static final String VIEWS_SINK = "discovery-views-sink";
  static final String DEAD_LETTER_SINK = "dead-letter-sink";

  private ControlPlaneTopology() {}

  /**
   * Builds the topology.
   *
   * @param check parses and validates applied documents
   * @param discovery compiles views; {@link Discovery#NONE} to judge commands only
   * @param leaseScanInterval the most a lapsed lease is noticed late (wall-clock; the tick fires when
   *     the earliest lease is due, never sooner than this apart)
   */
  public static Topology build(ResourceCheck check, Discovery discovery, Duration leaseScanInterval) {
    return build(check, discovery, leaseScanInterval, Duration.ZERO);
  }

  /**
   * Builds the topology.
   *
   * @param check parses and validates applied documents
   * @param discovery compiles views; {@link Discovery#NONE} to judge commands only
   * @param leaseScanInterval the most a lapsed lease is noticed late (wall-clock; the tick fires when
   *     the earliest lease is due, never sooner than this apart)
   * @param commandCommitSpacing a user command with no other command this long before it
   *     requests a commit at once; a burst leaves its commits to the commit interval, and a
   *     wall-clock tick requests one when the burst has been quiet this long;
   *     {@link Duration#ZERO}: a commit after every command
   */
  public static Topology build(ResourceCheck check, Discovery discovery, Duration leaseScanInterval,
                               Duration commandCommitSpacing) {
    Objects.requireNonNull(check, "check");
    Objects.requireNonNull(commandCommitSpacing, "commandCommitSpacing");
    Objects.requireNonNull(discovery, "discovery");
    Topology topology = new Topology();
    topology.addSource(COMMANDS_SOURCE, Serdes.String().deserializer(),
        Serdes.ByteArray().deserializer(), Topics.CONFIG_COMMANDS.name());
    topology.addSource(REGISTRY_SOURCE, Serdes.String().deserializer(),
        Serdes.ByteArray().deserializer(), Topics.REGISTRY_INSTANCES.name());
    topology.addProcessor(PROCESSOR,
        () -> new ControlPlaneProcessor(check, discovery, leaseScanInterval, commandCommitSpacing),
        COMMANDS_SOURCE, REGISTRY_SOURCE);
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(REVISIONS_STORE), Serdes.String(),
        AvroSerde.of(ConfigEvent.class)), PROCESSOR);
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(INSTANCES_STORE), Serdes.String(),
        AvroSerde.of(InstanceRegistration.class)), PROCESSOR);
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(VIEWS_STORE), Serdes.String(),
        ViewStamp.serde()), PROCESSOR);
    topology.addSink(EVENTS_SINK, Topics.CONFIG_EVENTS.name(), Serdes.String().serializer(),
        Topics.CONFIG_EVENTS.valueSerde().serializer(), PROCESSOR);
    topology.addSink(REJECTIONS_SINK, Topics.CONFIG_REJECTIONS.name(),
        Serdes.String().serializer(), Topics.CONFIG_REJECTIONS.valueSerde().serializer(), PROCESSOR);
    topology.addSink(VIEWS_SINK, Topics.DISCOVERY_VIEWS.name(), Serdes.String().serializer(),
        Topics.DISCOVERY_VIEWS.valueSerde().serializer(), PROCESSOR);
    topology.addSink(DEAD_LETTER_SINK, Topics.DEAD_LETTERS.name(), Serdes.String().serializer(),
        Topics.DEAD_LETTERS.valueSerde().serializer(), PROCESSOR);
    return topology;
  }

  /** Key of one revision in {@link #REVISIONS_STORE}; sorts by revision within a resource. */
  public static String revisionKey(String resourceKey, long revision) {
    return resourceKey + "@" + String.format("%019d", revision);
  }
}
