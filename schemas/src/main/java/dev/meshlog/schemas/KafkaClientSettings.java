package dev.meshlog.schemas;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Kafka client settings an operator gives a Meshlog process on top of its own — the security
 * settings of their Kafka ({@code security.protocol}, {@code sasl.*}, {@code ssl.*}) and client
 * tuning — read from a Java properties file ({@code --kafka-config FILE}, like Kafka's own tools'
 * {@code --command-config}) and {@code KEY=VALUE} overrides, and applied to every client the
 * process makes.
 *
 * <p>Every key must be a setting of Kafka's producer, consumer or admin client: a misspelled key
 * is refused, with the key named, instead of being ignored with a warning in a log as Kafka does.
 * Keys a process owns for correctness (its bootstrap flag, its serializers, its transactions,
 * isolation and groups) are refused too, each with the flag to use or the reason; every process
 * names its own ({@link #reserved}). Values are checked against Kafka's types and allowed values
 * at once (the rest, e.g. a trust store that cannot be read, when a client is made). Values of
 * password settings ({@code sasl.jaas.config}, {@code ssl.*.password}, ...: Kafka's
 * {@link ConfigDef.Type#PASSWORD}) never appear in {@link #toString()} or in an error.
 */
public final class KafkaClientSettings {

  /** The flag every process takes for the file. */
  public static final String FLAG = "--kafka-config";

  /** The environment variable every process reads for the file when the flag is not given. */
  public static final String ENV = "MESHLOG_KAFKA_CONFIG";

  /**
   * Keys no process takes from the file: the bootstrap servers have their own flag, and each
   * client's serializers are part of the process, not of the cluster.
   */
  public static final Map<String, String> ALWAYS_RESERVED = Map.of(
      CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "use --bootstrap-server",
      ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, "the process sets its own serializers",
      ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, "the process sets its own serializers",
      ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "the process sets its own deserializers",
      ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "the process sets its own deserializers");

  private static final Set<String> CLIENT_KEYS = union(ProducerConfig.configNames(),
      ConsumerConfig.configNames(), AdminClientConfig.configNames());

  private static final List<ConfigDef> DEFS = List.of(ProducerConfig.configDef(),
      ConsumerConfig.configDef(), AdminClientConfig.configDef());

  private static final Set<String> PASSWORD_KEYS = passwordKeys();

  private static final KafkaClientSettings NONE = new KafkaClientSettings(Map.of(), "");

  private final Map<String, String> settings;
  private final String source;

  private KafkaClientSettings(Map<String, String> settings, String source) {
    this.settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    this.source = source;
  }

  /** No settings: every client gets only what its process sets. */
  public static KafkaClientSettings none() {
    return NONE;
  }

  /**
   * The reserved keys of a process: {@link #ALWAYS_RESERVED} and {@code own}, each key with the
   * flag to use instead or why it cannot be set.
   */
  public static Map<String, String> reserved(Map<String, String> own) {
    Map<String, String> all = new HashMap<>(ALWAYS_RESERVED);
    all.putAll(own);
    return Map.copyOf(all);
  }

  /**
   * The file named by {@code flag} if given, else by {@code $MESHLOG_KAFKA_CONFIG} in
   * {@code env}, else {@link #none()}.
   *
   * @throws IllegalArgumentException naming the file, for an unreadable file, or the key, for an
   *     unknown or reserved one
   */
  public static KafkaClientSettings resolve(Path flag, Map<String, String> env,
                                            Map<String, String> reserved) {
    if (flag != null) {
      return load(flag, reserved);
    }
    String fromEnv = env.get(ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      Path file = Path.of(fromEnv.strip());
      return load(file, reserved, "$" + ENV + " " + file);
    }
    return none();
  }

  /**
   * Reads a Java properties file of Kafka client settings.
   *
   * @param reserved keys the process refuses, with what to use instead ({@link #reserved})
   * @throws IllegalArgumentException naming the file, for an unreadable file, or the key, for an
   *     unknown or reserved one
   */
  public static KafkaClientSettings load(Path file, Map<String, String> reserved) {
    return load(file, reserved, FLAG + " " + file);
  }

  private static KafkaClientSettings load(Path file, Map<String, String> reserved,
                                          String source) {
    Properties props = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": cannot read it ("
          + (e.getMessage() == null ? e.getClass().getSimpleName()
              : e.getClass().getSimpleName() + ": " + e.getMessage()) + ")", e);
    }
    Map<String, String> settings = new LinkedHashMap<>();
    for (String key : new TreeSet<>(props.stringPropertyNames())) {
      String name = key.strip();
      String value = props.getProperty(key).strip();
      check(source, name, reserved);
      checkValue(source, name, value);
      settings.put(name, value);
    }
    return new KafkaClientSettings(settings, source);
  }

  /**
   * These settings with {@code KEY=VALUE} entries over them (a later entry wins over the file).
   *
   * @param flag the flag the entries came from, for errors
   * @throws IllegalArgumentException naming the entry, for a missing {@code =}, an unknown or
   *     reserved key, or a key given twice
   */
  public KafkaClientSettings withOverrides(List<String> entries, String flag,
                                           Map<String, String> reserved) {
    if (entries.isEmpty()) {
      return this;
    }
    Map<String, String> parsed = parseEntries(entries, flag);
    parsed.forEach((key, value) -> {
      check(flag, key, reserved);
      checkValue(flag, key, value);
    });
    Map<String, String> merged = new LinkedHashMap<>(settings);
    merged.putAll(parsed);
    return new KafkaClientSettings(merged, source.isEmpty() ? flag : source + ", " + flag);
  }

  /**
   * Parses {@code KEY=VALUE} entries, in order, checking only their form.
   *
   * @throws IllegalArgumentException naming the flag and the entry's key, for a missing
   *     {@code =}, an empty key, or a key given twice
   */
  public static Map<String, String> parseEntries(List<String> entries, String flag) {
    Map<String, String> parsed = new LinkedHashMap<>();
    for (String entry : entries) {
      int eq = entry.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException(flag + " " + entry + ": expected KEY=VALUE");
      }
      if (entry.substring(0, eq).isBlank()) {
        // The value is not echoed: it may be a password.
        throw new IllegalArgumentException(flag + " =...: expected KEY=VALUE (the key is empty)");
      }
      String key = entry.substring(0, eq).strip();
      if (parsed.putIfAbsent(key, entry.substring(eq + 1).strip()) != null) {
        throw new IllegalArgumentException(flag + " " + key + ": given twice");
      }
    }
    return parsed;
  }

  /**
   * Checks one key: a Kafka producer, consumer or admin client setting, and not reserved.
   *
   * @param source where the key came from, for the error ({@code --kafka-config FILE})
   * @throws IllegalArgumentException naming the source and the key
   */
  public static void check(String source, String key, Map<String, String> reserved) {
    String reason = reserved.get(key);
    if (reason != null) {
      throw new IllegalArgumentException(source + ": " + key + " cannot be set here: " + reason);
    }
    if (!isClientSetting(key)) {
      throw new IllegalArgumentException(source + ": " + key + " is not a Kafka client setting "
          + "(expected: a producer, consumer or admin client setting such as security.protocol, "
          + "sasl.mechanism, sasl.jaas.config, ssl.truststore.location)");
    }
  }

  /**
   * Checks a value the way Kafka will when a client is made (its type and allowed values), so a
   * bad one stops the start with the file named instead of failing a client later.
   *
   * @throws IllegalArgumentException with Kafka's message (a password's value is never in it)
   */
  static void checkValue(String source, String key, String value) {
    for (ConfigDef def : DEFS) {
      ConfigDef.ConfigKey known = def.configKeys().get(key);
      if (known != null) {
        try {
          Object parsed = ConfigDef.parseType(key, value, known.type);
          if (known.validator != null) {
            known.validator.ensureValid(key, parsed);
          }
        } catch (ConfigException e) {
          throw new IllegalArgumentException(source + ": " + (isPassword(key)
              ? key + ": not a valid value" : e.getMessage()), e);
        }
        return;
      }
    }
  }

  /** Whether {@code key} is a setting of Kafka's producer, consumer or admin client. */
  public static boolean isClientSetting(String key) {
    return CLIENT_KEYS.contains(key);
  }

  /** Whether Kafka treats {@code key}'s value as a password (never logged). */
  public static boolean isPassword(String key) {
    return PASSWORD_KEYS.contains(key);
  }

  /** Whether there are no settings. */
  public boolean isEmpty() {
    return settings.isEmpty();
  }

  /** The settings, the file's in key order, then overrides; values of passwords included. */
  public Map<String, String> asMap() {
    return settings;
  }

  /**
   * Where the settings came from ({@code --kafka-config FILE} or {@code $MESHLOG_KAFKA_CONFIG
   * FILE}), empty for none.
   */
  public String source() {
    return source;
  }

  /**
   * The message of a usage error for a Kafka client that could not be made from these settings
   * (Kafka throws at construction, e.g. for a {@code sasl.jaas.config} it cannot parse): the
   * settings' source, or "Kafka client" when there are none, then Kafka's reason.
   */
  public String refusal(KafkaException e) {
    Throwable cause = e.getCause() != null ? e.getCause() : e;
    return (isEmpty() ? "Kafka client" : source) + ": " + cause.getMessage();
  }

  /**
   * A client config for the cluster at {@code bootstrapServers}: these settings and the bootstrap
   * servers. Callers put what they must own over it (the reserved keys, which the settings
   * cannot hold) and their defaults under it ({@code putIfAbsent}), so the operator's win.
   */
  public Map<String, Object> clientConfig(String bootstrapServers) {
    Map<String, Object> config = new HashMap<>(settings);
    config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return config;
  }

  /** The settings with every password's value hidden, for logs. */
  @Override
  public String toString() {
    return settings.entrySet().stream()
        .map(e -> e.getKey() + "=" + (isPassword(e.getKey()) ? "[hidden]" : e.getValue()))
        .collect(Collectors.joining(", ", "{", "}"));
  }

  @SafeVarargs
  private static Set<String> union(Set<String>... sets) {
    Set<String> all = new TreeSet<>();
    for (Set<String> s : sets) {
      all.addAll(s);
    }
    return Set.copyOf(all);
  }

  private static Set<String> passwordKeys() {
    Set<String> keys = new TreeSet<>();
    for (ConfigDef def : DEFS) {
      def.configKeys().forEach((name, key) -> {
        if (key.type == ConfigDef.Type.PASSWORD) {
          keys.add(name);
        }
      });
    }
    return Set.copyOf(keys);
  }
}
