package dev.meshlog.schemas;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;

/**
 * One Kafka topic of the mesh, typed: its name, how its keys and values are encoded, and how the
 * broker keeps it. Every topic is a constant in {@link Topics}; nothing else names a topic.
 *
 * @param name the topic name, {@code mesh.*}
 * @param keySerde encodes the key
 * @param valueSerde encodes the value
 * @param partitions partition count at creation
 * @param cleanup how the broker drops old records
 * @param retention how long records are kept ({@code null} = forever); for compacted topics,
 *     how long tombstones and, with {@link Cleanup#COMPACT_DELETE}, old keys stay
 * @param doc one sentence on what the topic carries
 * @param maxMessageBytes the largest record batch the broker takes on this topic
 *     ({@code max.message.bytes}, after compression), or {@code null} for the broker's default
 *     ({@code message.max.bytes}, 1 MiB); only a topic whose records may be larger sets it
 * @param <K> key type
 * @param <V> value type
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde, int partitions,
                          Cleanup cleanup, Duration retention, String doc,
                          Integer maxMessageBytes) {

  /** Kafka {@code cleanup.policy} choices. */
  public enum Cleanup {
    /** Records are deleted when older than the retention. */
    DELETE("delete"),
    /** Only the latest record per key is kept. */
    COMPACT("compact"),
    /** The latest record per key is kept, and even that is deleted after the retention. */
    COMPACT_DELETE("compact,delete");

    private final String policy;

    Cleanup(String policy) {
      this.policy = policy;
    }

    /** The value of {@code cleanup.policy}. */
    public String policy() {
      return policy;
    }
  }

  public Topic {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
    Objects.requireNonNull(cleanup, "cleanup");
    if (partitions < 1) {
      throw new IllegalArgumentException(name + ": partitions: " + partitions + " (expected: >= 1)");
    }
    if (maxMessageBytes != null && maxMessageBytes < 1) {
      throw new IllegalArgumentException(name + ": maxMessageBytes: " + maxMessageBytes
          + " (expected: >= 1, or null for the broker's default)");
    }
  }

  /** A topic whose records fit the broker's default limit ({@code message.max.bytes}). */
  public Topic(String name, Serde<K> keySerde, Serde<V> valueSerde, int partitions,
               Cleanup cleanup, Duration retention, String doc) {
    this(name, keySerde, valueSerde, partitions, cleanup, retention, doc, null);
  }

  /** The topic-level configs this topic is created with. */
  public Map<String, String> configs() {
    Map<String, String> configs = new LinkedHashMap<>();
    configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, cleanup.policy());
    long retentionMs = retention == null ? -1 : retention.toMillis();
    if (cleanup == Cleanup.COMPACT) {
      if (retention != null) {
        configs.put(TopicConfig.DELETE_RETENTION_MS_CONFIG, Long.toString(retentionMs));
      }
    } else {
      configs.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(retentionMs));
    }
    if (maxMessageBytes != null) {
      configs.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(maxMessageBytes));
    }
    return configs;
  }

  /** A {@link NewTopic} for the admin client, with the given replication factor. */
  public NewTopic newTopic(short replicationFactor) {
    return new NewTopic(name, partitions, replicationFactor).configs(configs());
  }

  /** The key's encoded bytes, as a producer would write them. */
  public byte[] serializeKey(K key) {
    return keySerde.serializer().serialize(name, key);
  }

  /** The value's encoded bytes, as a producer would write them. */
  public byte[] serializeValue(V value) {
    return valueSerde.serializer().serialize(name, value);
  }

  /** Decodes a value read from this topic. */
  public V deserializeValue(byte[] bytes) {
    return valueSerde.deserializer().deserialize(name, bytes);
  }

  /** Decodes a key read from this topic. */
  public K deserializeKey(byte[] bytes) {
    return keySerde.deserializer().deserialize(name, bytes);
  }

  @Override
  public String toString() {
    return name;
  }
}
