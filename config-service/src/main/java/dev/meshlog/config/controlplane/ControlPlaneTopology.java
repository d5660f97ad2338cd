package dev.meshlog.config.controlplane;

import java.time.Duration;
import java.util.Objects;

import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.schemas.Topics;
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
 *                                                  +--> mesh.discovery.holds (views too large)
 *                                                  \--> mesh.deadletter (undecodable input)
 * </pre>
 *
 * <p>Pure: no broker, clock or file; tests drive it with {@code TopologyTestDriver}.
 */
public final class ControlPlaneTopology {

  /**
   * The control plane's one changelogged store of config and view state (bytes; read through
   * {@link ControlPlaneState}): every accepted event per resource and revision, key {@code
   * <resource id>@<revision, 19 digits>} (a resource's current state is its latest revision,
   * absent if that is a deletion), and the {@link ViewStamp} of the last view published per
   * host, key {@code ~view/<host>}, and each view held back for size, key {@code ~hold/<host>}
   * (what {@code mesh.discovery.holds} says, so a restart knows its holds). One store, so a change's transaction writes one changelog
   * partition for its state: a store of the latest event per resource ({@code
   * config-resources}) and then the views' own store ({@link #VIEWS_STORE}) each cost one more
   * partition, one more produce and one more commit marker per change.
   */
  public static final String REVISIONS_STORE = "config-revisions";
  /** Latest registration per instance key (deregistered and lapsed instances are absent). */
  public static final String INSTANCES_STORE = "registry-instances";
  /**
   * Where a control plane of an earlier release kept the last published view per host (whole
   * views, then {@link ViewStamp}s): still restored, read until the first tick after a start
   * moves its stamps into {@link #REVISIONS_STORE} and empties it; never written otherwise.
   * Its serde reads both formats.
   */
  public static final String VIEWS_STORE = "discovery-views";

  static final String COMMANDS_SOURCE = "config-commands-source";
  static final String REGISTRY_SOURCE = "registry-instances-source";
  static final String PROCESSOR = "control-plane";
  static final String EVENTS_SINK = "config-events-sink";
  static final String REJECTIONS_SINK = "config-rejections-sink";
  static final String VIEWS_SINK = "discovery-views-sink";
  static final String DEAD_LETTER_SINK = "dead-letter-sink";
  static final String HOLDS_SINK = "discovery-holds-sink";

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
    return build(check, discovery, leaseScanInterval, commandCommitSpacing, CommandStages.OFF);
  }

  /**
   * Builds the topology, its processor reporting each command's stages to {@code stages} (which
   * only keeps time: the topology stays pure).
   */
  static Topology build(ResourceCheck check, Discovery discovery, Duration leaseScanInterval,
                        Duration commandCommitSpacing, CommandStages stages) {
    return build(check, discovery, leaseScanInterval, commandCommitSpacing, stages,
        ViewLimits.DEFAULT);
  }

  /** Builds the topology with other view limits than {@link ViewLimits#DEFAULT} (tests). */
  static Topology build(ResourceCheck check, Discovery discovery, Duration leaseScanInterval,
                        Duration commandCommitSpacing, CommandStages stages, ViewLimits limits) {
    Objects.requireNonNull(check, "check");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(stages, "stages");
    Objects.requireNonNull(commandCommitSpacing, "commandCommitSpacing");
    Objects.requireNonNull(discovery, "discovery");
    Topology topology = new Topology();
    topology.addSource(COMMANDS_SOURCE, Serdes.String().deserializer(),
        Serdes.ByteArray().deserializer(), Topics.CONFIG_COMMANDS.name());
    topology.addSource(REGISTRY_SOURCE, Serdes.String().deserializer(),
        Serdes.ByteArray().deserializer(), Topics.REGISTRY_INSTANCES.name());
    topology.addProcessor(PROCESSOR,
        () -> new ControlPlaneProcessor(check, discovery, leaseScanInterval, commandCommitSpacing,
            stages, limits),
        COMMANDS_SOURCE, REGISTRY_SOURCE);
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(REVISIONS_STORE), Serdes.String(),
        Serdes.ByteArray()), PROCESSOR);
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
    topology.addSink(HOLDS_SINK, Topics.DISCOVERY_HOLDS.name(), Serdes.String().serializer(),
        Topics.DISCOVERY_HOLDS.valueSerde().serializer(), PROCESSOR);
    topology.addSink(DEAD_LETTER_SINK, Topics.DEAD_LETTERS.name(), Serdes.String().serializer(),
        Topics.DEAD_LETTERS.valueSerde().serializer(), PROCESSOR);
    return topology;
  }

  /** Key of one revision in {@link #REVISIONS_STORE}; sorts by revision within a resource. */
  public static String revisionKey(String resourceKey, long revision) {
    if (revision < 0) {
      // No such revision is ever stored (a rollback's target comes from the user): a key that
      // finds nothing, as before.
      return resourceKey + "@" + String.format("%019d", revision);
    }
    // Zero-padded to 19 digits (Long.MAX_VALUE's), so keys sort by revision; by hand because
    // String.format parses its pattern on every call, and every command reads and writes keys.
    String digits = Long.toString(revision);
    StringBuilder key = new StringBuilder(resourceKey.length() + 20).append(resourceKey).append('@');
    for (int i = digits.length(); i < 19; i++) {
      key.append('0');
    }
    return key.append(digits).toString();
  }
}
