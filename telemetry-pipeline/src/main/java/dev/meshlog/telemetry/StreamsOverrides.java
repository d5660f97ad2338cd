package dev.meshlog.telemetry;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.meshlog.schemas.KafkaClientSettings;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Kafka Streams and Kafka client properties an operator sets on top of the pipeline's own
 * ({@code --streams-config KEY=VALUE}): security settings of their Kafka ({@code
 * security.protocol}, {@code sasl.*}, {@code ssl.*}), client tuning ({@code consumer.*},
 * {@code producer.*}), the group protocol, ...
 *
 * <p>A key Kafka does not know is refused here, with the key named, instead of being ignored
 * with a warning in the log as Kafka does: a misspelled setting must not look applied. Keys the
 * pipeline sets from its own flags, or whose change would break what it promises (exactly-once
 * counts), are refused with the flag to use or the reason. Values are checked by Kafka when the
 * app is created ({@code ConfigException} names the key and the value).
 *
 * <p>The client settings of {@code --kafka-config} (the file every Meshlog process takes, read
 * by {@link KafkaClientSettings}) come first; {@code --streams-config} entries go over them
 * ({@link #merge}).
 */
public final class StreamsOverrides {

  private static final String FLAG = "--streams-config";

  private static final String EXACTLY_ONCE =
      "the pipeline's counts rely on exactly-once v2; Kafka Streams sets it";

  /** Keys an override may not set, with what to use instead or why not. */
  static final Map<String, String> RESERVED = Map.of(
      StreamsConfig.APPLICATION_ID_CONFIG, "use --application-id",
      StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "use --bootstrap-server",
      StreamsConfig.STATE_DIR_CONFIG, "use --data-dir",
      StreamsConfig.APPLICATION_SERVER_CONFIG, "use --advertised-host and --http-port",
      StreamsConfig.NUM_STREAM_THREADS_CONFIG, "use --stream-threads",
      StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "use --commit-interval",
      StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
      "the pipeline's counts rely on exactly-once v2; it cannot be changed");

  /** Prefixes Kafka Streams hands on to one kind of client, with that client's keys. */
  private static final Map<String, Set<String>> PREFIXES = Map.of(
      StreamsConfig.CONSUMER_PREFIX, ConsumerConfig.configNames(),
      StreamsConfig.MAIN_CONSUMER_PREFIX, ConsumerConfig.configNames(),
      StreamsConfig.RESTORE_CONSUMER_PREFIX, ConsumerConfig.configNames(),
      StreamsConfig.GLOBAL_CONSUMER_PREFIX, ConsumerConfig.configNames(),
      StreamsConfig.PRODUCER_PREFIX, ProducerConfig.configNames(),
      StreamsConfig.ADMIN_CLIENT_PREFIX, AdminClientConfig.configNames(),
      StreamsConfig.TOPIC_PREFIX, topicConfigNames());

  private StreamsOverrides() {
  }

  /**
   * Kafka client keys neither {@code --kafka-config} nor {@code --streams-config} (bare or with
   * a client prefix) may set, with why: Kafka Streams sets them for exactly-once, or a flag does.
   */
  public static final Map<String, String> RESERVED_CLIENT_KEYS = KafkaClientSettings.reserved(
      Map.of(ConsumerConfig.GROUP_ID_CONFIG, "use --application-id",
          ProducerConfig.TRANSACTIONAL_ID_CONFIG, EXACTLY_ONCE,
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, EXACTLY_ONCE,
          ConsumerConfig.ISOLATION_LEVEL_CONFIG, EXACTLY_ONCE));

  /**
   * Parses {@code KEY=VALUE} entries into overrides, in order.
   *
   * @throws IllegalArgumentException naming the entry, for a missing {@code =}, an empty key, an
   *     unknown or reserved key, or a key given twice
   */
  public static Map<String, String> parse(List<String> entries) {
    Map<String, String> overrides = KafkaClientSettings.parseEntries(entries, FLAG);
    overrides.keySet().forEach(StreamsOverrides::check);
    return Map.copyOf(overrides);
  }

  /**
   * The pipeline's overrides: the client settings of {@code --kafka-config} (checked by
   * {@link KafkaClientSettings} against {@link #RESERVED_CLIENT_KEYS}), with {@code
   * --streams-config}'s entries over them.
   *
   * @throws IllegalArgumentException naming the flag and the key, as {@link #parse} does
   */
  public static Map<String, String> merge(KafkaClientSettings file, List<String> entries) {
    Map<String, String> merged = new LinkedHashMap<>(file.asMap());
    merged.putAll(parse(entries));
    return Map.copyOf(merged);
  }

  /**
   * The overrides that apply to an admin client of the same Kafka (the topic bootstrap at start):
   * unprefixed admin client keys (security settings, timeouts) and {@code admin.} ones, unprefixed.
   */
  public static Map<String, String> adminConfig(Map<String, String> overrides) {
    Map<String, String> admin = new LinkedHashMap<>();
    overrides.forEach((key, value) -> {
      if (AdminClientConfig.configNames().contains(key)) {
        admin.putIfAbsent(key, value);
      }
    });
    overrides.forEach((key, value) -> {
      if (key.startsWith(StreamsConfig.ADMIN_CLIENT_PREFIX)) {
        admin.put(key.substring(StreamsConfig.ADMIN_CLIENT_PREFIX.length()), value);
      }
    });
    return admin;
  }

  /** Checks one key: known to Kafka Streams or its clients, and not reserved. */
  static void check(String key) {
    String reason = RESERVED.getOrDefault(key, RESERVED_CLIENT_KEYS.get(key));
    if (reason == null) {
      for (Map.Entry<String, Set<String>> prefix : PREFIXES.entrySet()) {
        if (key.startsWith(prefix.getKey())) {
          String unprefixed = key.substring(prefix.getKey().length());
          reason = RESERVED.getOrDefault(unprefixed, RESERVED_CLIENT_KEYS.get(unprefixed));
          if (reason == null && !prefix.getValue().contains(unprefixed)) {
            reason = "not a setting of Kafka's " + clientName(prefix.getKey());
          }
          if (reason != null) {
            throw new IllegalArgumentException(FLAG + " " + key + ": " + reason);
          }
          return;
        }
      }
    }
    if (reason == null && !known(key)) {
      reason = "not a Kafka Streams or Kafka client setting (client settings may carry a "
          + "consumer., producer., admin. or main.consumer. prefix; topic settings topic.)";
    }
    if (reason != null) {
      throw new IllegalArgumentException(FLAG + " " + key + ": " + reason);
    }
  }

  private static boolean known(String key) {
    return StreamsConfig.configDef().names().contains(key)
        || ConsumerConfig.configNames().contains(key)
        || ProducerConfig.configNames().contains(key)
        || AdminClientConfig.configNames().contains(key);
  }

  private static String clientName(String prefix) {
    return switch (prefix) {
      case StreamsConfig.PRODUCER_PREFIX -> "producer";
      case StreamsConfig.ADMIN_CLIENT_PREFIX -> "admin client";
      case StreamsConfig.TOPIC_PREFIX -> "topics";
      default -> "consumer";
    };
  }

  /** The topic-level settings: {@link TopicConfig}'s {@code *_CONFIG} constants. */
  private static Set<String> topicConfigNames() {
    Set<String> names = new TreeSet<>();
    for (Field f : TopicConfig.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class
          && f.getName().endsWith("_CONFIG")) {
        try {
          names.add((String) f.get(null));
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return Set.copyOf(names);
  }
}
