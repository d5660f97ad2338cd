package dev.meshlog.proxy.subscribe;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The memory bounds of the proxy's own Kafka clients (the view consumer and the producer of
 * status and registration events), sized for a sidecar whose whole heap is 64 MB
 * ({@code compose/images/meshlog-proxy.properties}).
 *
 * <p>Kafka's defaults are sized for servers: a producer may buffer 32 MB of unsent records and a
 * consumer may hold 50 MB of fetched bytes per fetch. Neither is allocated up front (the
 * producer's pool grows batch by batch, a fetch is as large as what is there), so they cost
 * nothing while Kafka keeps up; but a Kafka outage (status events pile up) or a replay of a
 * large views topic could take the heap past its limit, and a proxy out of memory exits. Views
 * and status events are few and small, so tight bounds cost no throughput. A record larger than
 * a fetch limit is still read: the broker returns at least the first batch of a partition.
 * Settings the caller gives win over these.
 */
public final class KafkaClients {

  /** Fetched bytes the view consumer asks for per fetch, over all partitions (Kafka: 50 MiB). */
  public static final int VIEW_FETCH_MAX_BYTES = 4 * 1024 * 1024;

  /** Fetched bytes per partition per fetch (Kafka's default, 1 MiB, one large view). */
  public static final int VIEW_PARTITION_FETCH_MAX_BYTES = 1024 * 1024;

  /**
   * Unsent status and registration records the producer may hold (Kafka: 32 MiB); beyond that a
   * send waits up to {@code max.block.ms} and then fails, which the reporter logs. 4 MiB holds a
   * gateway's status with an ACK for each of tens of thousands of views.
   */
  public static final long STATUS_BUFFER_MEMORY = 4L * 1024 * 1024;

  private KafkaClients() {
  }

  /** The view consumer's settings: {@code base}, with the fetch bounds where it sets none. */
  public static Map<String, Object> viewConsumer(Map<String, ?> base) {
    Map<String, Object> c = new HashMap<>(base);
    c.putIfAbsent(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, VIEW_FETCH_MAX_BYTES);
    c.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
        VIEW_PARTITION_FETCH_MAX_BYTES);
    return c;
  }

  /**
   * The status and registration producer's settings: {@code base}, with a bounded buffer, a
   * short block and linger, and {@code clientId}, where it sets none.
   */
  public static Map<String, Object> statusProducer(Map<String, ?> base, String clientId) {
    Map<String, Object> p = new HashMap<>(base);
    p.putIfAbsent(ProducerConfig.BUFFER_MEMORY_CONFIG, STATUS_BUFFER_MEMORY);
    p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000);
    p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    return p;
  }
}
