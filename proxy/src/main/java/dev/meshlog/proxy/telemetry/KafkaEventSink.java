package dev.meshlog.proxy.telemetry;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Request events to {@code mesh.telemetry.requests} through a producer of their own, tuned for
 * volume rather than latency: lz4-compressed batches of up to 64 KiB lingering as long as the
 * emitter's interval (200 ms; see {@link TelemetryEmitter#DEFAULT_INTERVAL} for why), idempotent
 * with {@code acks=all} (a retry after a broker failover never duplicates an event, so counts
 * stay exact). {@code max.block.ms} is short (the emitter's thread, never an event loop, waits
 * for metadata), and events not acknowledged within {@code delivery.timeout.ms} fail and are
 * counted as lost.
 */
public final class KafkaEventSink implements EventSink {

  private final KafkaProducer<String, byte[]> producer;
  private final String topic;

  /** A sink producing to {@code bootstrapServers} as client {@code clientId}. */
  public KafkaEventSink(String bootstrapServers, String clientId) {
    this(config(bootstrapServers, clientId), Topics.TELEMETRY_REQUESTS.name());
  }

  /** A sink with this producer {@code config} (e.g. from {@link #config}), to {@code topic}. */
  public KafkaEventSink(Map<String, Object> config, String topic) {
    this.producer = new KafkaProducer<>(config, new StringSerializer(),
        new ByteArraySerializer());
    this.topic = topic;
  }

  /** The producer settings used by default. */
  public static Map<String, Object> config(String bootstrapServers, String clientId) {
    Map<String, Object> c = new HashMap<>();
    c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    c.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    c.put(ProducerConfig.LINGER_MS_CONFIG, (int) TelemetryEmitter.DEFAULT_INTERVAL.toMillis());
    c.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
    c.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 16L * 1024 * 1024);
    c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000);
    c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
    c.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 2_000);
    return c;
  }

  @Override
  public void send(String key, byte[] value, Outcome outcome) {
    producer.send(new ProducerRecord<>(topic, key, value),
        (metadata, exception) -> outcome.completed(exception));
  }

  @Override
  public void close(Duration timeout) {
    producer.close(timeout);
  }
}
