package dev.meshlog.config.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import dev.meshlog.schemas.Topic;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a topic once from its beginning to the end offsets it had when the read started
 * (committed records only), without a consumer group. Not thread-safe; one consumer, reused.
 */
public final class LogReader implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LogReader.class);

  private final KafkaConsumer<String, byte[]> consumer;
  private final Duration timeout;

  /**
   * @param kafkaConfig client config: at least {@code bootstrap.servers}
   * @param timeout how long one read may take before it fails
   */
  public LogReader(Map<String, Object> kafkaConfig, Duration timeout) {
    this.consumer = new KafkaConsumer<>(consumerConfig(kafkaConfig, timeout),
        new StringDeserializer(), new ByteArrayDeserializer());
    this.timeout = timeout;
  }

  /**
   * Consumer settings for reading the mesh's topics without a consumer group: committed records
   * only, from the earliest offset, nothing committed back, no topic auto-created; Kafka calls time out after
   * {@code timeout}.
   */
  public static Map<String, Object> consumerConfig(Map<String, Object> kafkaConfig, Duration timeout) {
    Map<String, Object> config = new HashMap<>(kafkaConfig);
    config.remove("transactional.id");
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // Asking for a topic's partitions must not create it on a broker that auto-creates topics
    // (Kafka's default): a topic of a later release would appear with the broker's defaults.
    config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    config.putIfAbsent(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    config.putIfAbsent(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG,
        (int) Math.min(timeout.toMillis(), 30_000));
    return config;
  }

  /**
   * Passes every record of {@code topic} to {@code sink} in partition order, up to the end the
   * topic had when the read started. Records that cannot be decoded are logged and skipped;
   * tombstones reach the sink as null values.
   *
   * @throws TimeoutException if Kafka cannot be reached or the read takes longer than the timeout
   */
  public <V> void readToEnd(Topic<String, V> topic, BiConsumer<String, V> sink) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<TopicPartition> partitions = partitions(consumer, topic.name(), timeout);
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> end = new LinkedHashMap<>(consumer.endOffsets(partitions, timeout));
    end.entrySet().removeIf(e -> consumer.position(e.getKey(), timeout) >= e.getValue());
    while (!end.isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("reading " + topic.name() + " took longer than "
            + timeout.toSeconds() + "s (" + end.size() + " partition(s) not read to the end)");
      }
      for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
        V value;
        try {
          value = topic.deserializeValue(record.value());
        } catch (SerializationException e) {
          LOG.warn("skipping undecodable record {}-{}@{}: {}", record.topic(), record.partition(),
              record.offset(), e.getMessage());
          continue;
        }
        sink.accept(record.key(), value);
      }
      end.entrySet().removeIf(e -> consumer.position(e.getKey(), timeout) >= e.getValue());
    }
    consumer.assign(List.of());
  }

  /** The latest value per key of {@code topic} (a compacted topic's state); tombstones remove. */
  public <V> Map<String, V> latest(Topic<String, V> topic) {
    Map<String, V> latest = new LinkedHashMap<>();
    readToEnd(topic, (key, value) -> {
      if (value == null) {
        latest.remove(key);
      } else {
        latest.put(key, value);
      }
    });
    return latest;
  }

  /**
   * Whether {@code topic} exists (has partitions), e.g. a topic a control plane of an earlier
   * release did not create.
   */
  public boolean exists(Topic<?, ?> topic) {
    List<PartitionInfo> infos = consumer.partitionsFor(topic.name(), timeout);
    return infos != null && !infos.isEmpty();
  }

  /**
   * The partitions of {@code topic}.
   *
   * @throws TimeoutException if the topic does not exist or Kafka cannot be reached in time
   */
  static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic,
                                         Duration timeout) {
    List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
    if (infos == null || infos.isEmpty()) {
      throw new TimeoutException("topic " + topic + " does not exist (expected the mesh's topics;"
          + " ./meshlog kafka creates them)");
    }
    List<TopicPartition> partitions = new ArrayList<>();
    for (PartitionInfo info : infos) {
      partitions.add(new TopicPartition(info.topic(), info.partition()));
    }
    return partitions;
  }

  @Override
  public void close() {
    consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
  }
}
