package dev.meshlog.schemas;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import dev.meshlog.events.telemetry.RequestEvent;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.SchemaStore;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh's schema registry: the compacted topic {@link Topics#SCHEMAS}, keyed by a schema's
 * CRC-64-AVRO fingerprint as 16 hex digits, holding the schema's JSON — Confluent's
 * {@code _schemas} topic on Meshlog's terms, with no server in front of it.
 *
 * <p>Writers {@link #register} every current schema of this module at start, before their first
 * record; a reader that meets a fingerprint it does not know ({@link AvroSerde} knows its current
 * schema and the released ones) asks the {@link Lookup} {@link #install}ed in its process, which
 * reads the topic to its end, and then resolves the writer's schema to its own (Avro's schema
 * resolution: fields it lacks are dropped, symbols it lacks become its enum's default). Known
 * fingerprints never reach the registry: Avro's decoder keeps one resolver per fingerprint.
 */
public final class SchemaRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistry.class);

  /** How long a registration or a lookup waits for the broker. */
  public static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** How long a fingerprint that the topic did not hold is answered "unknown" without asking again. */
  public static final Duration MISS_HOLD = Duration.ofSeconds(5);

  /** How long the background registration waits between attempts. */
  static final Duration RETRY_EVERY = Duration.ofSeconds(5);

  private static volatile SchemaStore installed;

  private SchemaRegistry() {}

  /** The key of a schema on {@link Topics#SCHEMAS}: its fingerprint as 16 lowercase hex digits. */
  public static String key(long fingerprint) {
    return String.format("%016x", fingerprint);
  }

  /**
   * Every schema a Meshlog process of this build may write, by key: the value schema of every
   * topic, and of the record types those topics also read.
   */
  public static Map<String, String> currentSchemas() {
    Map<String, String> schemas = new LinkedHashMap<>();
    List<Schema> all = new ArrayList<>();
    for (Topic<String, ?> topic : Topics.ALL) {
      if (topic.valueSerde() instanceof AvroSerde<?> serde) {
        all.add(serde.schema());
      }
    }
    all.add(RequestEvent.getClassSchema());
    for (Schema schema : all) {
      schemas.put(key(SchemaNormalization.parsingFingerprint64(schema)), schema.toString());
    }
    return schemas;
  }

  /**
   * Publishes {@link #currentSchemas()} to {@link Topics#SCHEMAS} and returns once the broker
   * acknowledged each (idempotent: the same key with the same value, of which compaction keeps
   * one).
   *
   * @param clientConfig the process's Kafka client config (bootstrap servers, security)
   * @return how many schemas were published
   * @throws IllegalStateException naming the topic and Kafka's reason (its cause), if they were
   *     not acknowledged within {@link #TIMEOUT}
   */
  public static int register(Map<String, ?> clientConfig) {
    return register(clientConfig, Topics.SCHEMAS.name(), TIMEOUT);
  }

  /** {@link #register(Map)}, waiting at most {@code timeout} (at least a second). */
  public static int register(Map<String, ?> clientConfig, Duration timeout) {
    return register(clientConfig, Topics.SCHEMAS.name(), timeout);
  }

  /**
   * {@link #register(Map)} to the registry topic named {@code topic}: another name for it, such
   * as MirrorMaker 2's {@code <source cluster>.mesh.schemas}, or a test's own.
   */
  public static int register(Map<String, ?> clientConfig, String topic) {
    return register(clientConfig, topic, TIMEOUT);
  }

  private static int register(Map<String, ?> clientConfig, String topic, Duration timeout) {
    int millis = (int) Math.min(Math.max(timeout.toMillis(), 1_000), Integer.MAX_VALUE);
    Map<String, Object> config = new HashMap<>(clientConfig);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, millis);
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, millis);
    config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, millis);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "meshlog-schema-registration");
    config.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    Map<String, String> schemas = currentSchemas();
    KafkaProducer<String, String> producer = null;
    try {
      producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (Map.Entry<String, String> schema : schemas.entrySet()) {
        sent.add(producer.send(new ProducerRecord<>(topic, schema.getKey(), schema.getValue())));
      }
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
      for (Future<RecordMetadata> f : sent) {
        f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
      return schemas.size();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(topic + ": interrupted while registering", e);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalStateException(topic + ": cannot register the schemas: "
          + cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause);
    } finally {
      if (producer != null) {
        producer.close(Duration.ZERO); // everything sent was acknowledged, or is given up
      }
    }
  }

  /**
   * Publishes {@link #currentSchemas()} through {@code producer} (the process's own, whose
   * records follow) on a daemon thread of its own, again every few seconds until the broker
   * acknowledges every one, or until the producer is closed: for a process that must start
   * without Kafka, such as a proxy serving its last snapshot. The producer's own timeouts bound
   * each attempt.
   *
   * @return the thread, started
   */
  public static Thread registerInBackground(Producer<byte[], byte[]> producer) {
    Objects.requireNonNull(producer, "producer");
    Map<String, String> schemas = currentSchemas();
    Thread thread = new Thread(() -> {
      while (true) {
        try {
          List<Future<RecordMetadata>> sent = new ArrayList<>();
          for (Map.Entry<String, String> schema : schemas.entrySet()) {
            sent.add(producer.send(new ProducerRecord<>(Topics.SCHEMAS.name(),
                schema.getKey().getBytes(StandardCharsets.UTF_8),
                schema.getValue().getBytes(StandardCharsets.UTF_8))));
          }
          for (Future<RecordMetadata> f : sent) {
            f.get();
          }
          LOG.info("registered {} schemas on {}", schemas.size(), Topics.SCHEMAS.name());
          return;
        } catch (IllegalStateException e) {
          return; // the producer was closed: the process is stopping
        } catch (InterruptedException e) {
          return;
        } catch (Exception e) {
          Throwable cause = e.getCause() != null ? e.getCause() : e;
          LOG.warn("{}: cannot register the schemas yet ({}); again in {} s",
              Topics.SCHEMAS.name(), cause.toString(), RETRY_EVERY.toSeconds());
        }
        try {
          Thread.sleep(RETRY_EVERY.toMillis());
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "meshlog-schema-registration");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /**
   * Points every {@link AvroSerde} of this process at the registry on the cluster of
   * {@code clientConfig}, replacing an earlier install (and closing it). Nothing connects until
   * a record with an unknown fingerprint is read.
   */
  public static void install(Map<String, ?> clientConfig) {
    install(lookup(clientConfig, Topics.SCHEMAS.name()));
  }

  /**
   * A {@link Lookup} of the registry topic named {@code topic} on the cluster of
   * {@code clientConfig}, with the system clock and {@link #MISS_HOLD}; the caller closes it.
   */
  public static Lookup lookup(Map<String, ?> clientConfig, String topic) {
    return new Lookup(new TopicSource(clientConfig, topic), Clock.systemUTC(), MISS_HOLD);
  }

  /** Installs {@code store} as this process's fallback for unknown fingerprints ({@code null}: none). */
  public static synchronized void install(SchemaStore store) {
    SchemaStore previous = installed;
    installed = store;
    if (previous instanceof AutoCloseable closeable && previous != store) {
      try {
        closeable.close();
      } catch (Exception e) {
        LOG.debug("closing the previous schema lookup", e);
      }
    }
  }

  /** The fallback installed in this process, or {@code null}. */
  static SchemaStore installed() {
    return installed;
  }

  /** Where a {@link Lookup} reads schemas: the records of the registry it has not read yet. */
  public interface Source extends AutoCloseable {

    /**
     * Hands {@code each} the registry's records (key, JSON) written since the last call, as it
     * reads them, up to its end as it is now; waits at most {@code timeout}.
     *
     * @throws RuntimeException if the registry could not be read to its end in time (the
     *     records handed over until then stay read)
     */
    void readNew(Duration timeout, BiConsumer<String, String> each);

    @Override
    default void close() {}
  }

  /**
   * A {@link SchemaStore} over a {@link Source}: a fingerprint it does not hold makes it read
   * the registry to its end and keep every schema it finds there; one still missing is answered
   * {@code null} (Avro's "missing schema") without reading again for a while, so that a stream of
   * records nobody registered does not cost a broker round trip each. Thread-safe; it blocks the
   * calling thread while it reads, which must therefore never be an event loop.
   */
  public static final class Lookup implements SchemaStore, AutoCloseable {

    private final Source source;
    private final Clock clock;
    private final Duration missHold;
    private final Map<Long, Schema> found = new ConcurrentHashMap<>();
    private final Map<Long, Instant> missedUntil = new HashMap<>();

    /**
     * @param source where the schemas are read
     * @param clock tells when a remembered miss expires
     * @param missHold how long a miss is remembered
     */
    public Lookup(Source source, Clock clock, Duration missHold) {
      this.source = Objects.requireNonNull(source, "source");
      this.clock = Objects.requireNonNull(clock, "clock");
      this.missHold = Objects.requireNonNull(missHold, "missHold");
    }

    @Override
    public Schema findByFingerprint(long fingerprint) {
      Schema schema = found.get(fingerprint);
      if (schema != null) {
        return schema;
      }
      synchronized (this) {
        schema = found.get(fingerprint);
        if (schema != null) {
          return schema;
        }
        Instant now = clock.instant();
        Instant until = missedUntil.get(fingerprint);
        if (until != null && now.isBefore(until)) {
          return null;
        }
        try {
          source.readNew(TIMEOUT, this::keep);
        } catch (RuntimeException e) {
          LOG.warn("{}: cannot read the schema registry for fingerprint {}: {}",
              Topics.SCHEMAS.name(), key(fingerprint), e.toString());
        }
        schema = found.get(fingerprint);
        if (schema == null) {
          missedUntil.put(fingerprint, now.plus(missHold));
        } else {
          missedUntil.remove(fingerprint);
        }
        return schema;
      }
    }

    /** Keeps one record of the registry if its key is the fingerprint of its schema. */
    private void keep(String key, String json) {
      if (key == null || json == null) {
        return;
      }
      try {
        Schema schema = new Schema.Parser().parse(json);
        long fingerprint = SchemaNormalization.parsingFingerprint64(schema);
        if (!key(fingerprint).equals(key)) {
          LOG.warn("{}: record {} holds a schema of fingerprint {}: ignored",
              Topics.SCHEMAS.name(), key, key(fingerprint));
          return;
        }
        found.put(fingerprint, schema);
      } catch (RuntimeException e) {
        LOG.warn("{}: record {} is not an Avro schema: ignored ({})", Topics.SCHEMAS.name(), key,
            e.getMessage());
      }
    }

    @Override
    public void close() {
      synchronized (this) {
        source.close();
      }
    }
  }

  /**
   * Reads a registry topic with a consumer of its own (no group; it keeps its position
   * between reads, so each read fetches only what is new).
   */
  static final class TopicSource implements Source {

    private final Map<String, Object> config;
    private final String topic;
    private KafkaConsumer<String, String> consumer;
    private List<TopicPartition> partitions;

    TopicSource(Map<String, ?> clientConfig, String topic) {
      this.topic = Objects.requireNonNull(topic, "topic");
      Map<String, Object> c = new HashMap<>(clientConfig);
      c.remove(ConsumerConfig.GROUP_ID_CONFIG);
      c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
      c.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "meshlog-schema-lookup");
      this.config = c;
    }

    @Override
    public void readNew(Duration timeout, BiConsumer<String, String> each) {
      long deadline = System.nanoTime() + timeout.toNanos();
      if (consumer == null) {
        consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
      }
      if (partitions == null) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
        if (infos == null || infos.isEmpty()) {
          throw new IllegalStateException(topic + " does not exist");
        }
        partitions = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition()))
            .toList();
        consumer.assign(partitions);
      }
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, remaining(deadline));
      while (!caughtUp(end, deadline)) {
        Duration left = remaining(deadline);
        if (left.isZero()) {
          throw new IllegalStateException(topic + ": not read to its end in "
              + timeout.toMillis() + " ms");
        }
        for (ConsumerRecord<String, String> r : consumer.poll(left)) {
          each.accept(r.key(), r.value());
        }
      }
    }

    private boolean caughtUp(Map<TopicPartition, Long> end, long deadline) {
      for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
        if (consumer.position(e.getKey(), remaining(deadline)) < e.getValue()) {
          return false;
        }
      }
      return true;
    }

    private static Duration remaining(long deadline) {
      return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    @Override
    public void close() {
      if (consumer != null) {
        consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ZERO));
        consumer = null;
      }
    }
  }
}
