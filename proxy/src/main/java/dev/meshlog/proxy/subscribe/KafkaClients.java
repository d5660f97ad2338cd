package dev.meshlog.proxy.subscribe;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The memory bounds of the proxy's own Kafka clients (the view consumer, the producer of
 * status and registration events and the producer of request events), sized for a sidecar whose whole heap is 64 MB
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

  /**
   * Fetched bytes the view consumer asks for per fetch, over all partitions (Kafka: 50 MiB). A
   * view larger than this (up to the views topic's 16 MiB) is still read: it comes alone, as
   * the first batch of its fetch.
   */
  public static final int VIEW_FETCH_MAX_BYTES = 4 * 1024 * 1024;

  /**
   * Fetched bytes per partition per fetch (Kafka's default, 1 MiB). Not raised for views of
   * tens of thousands of endpoints (5–7 MB): the broker returns a partition's first batch
   * whatever its size (KIP-74), so such a view arrives in a fetch of its own, and a higher
   * bound would only let several large views share one fetch, and the heap.
   */
  public static final int VIEW_PARTITION_FETCH_MAX_BYTES = 1024 * 1024;

  /**
   * Unsent status and registration records the producer may hold (Kafka: 32 MiB); beyond that a
   * send waits up to {@code max.block.ms} and then fails, which the reporter logs. 4 MiB holds a
   * gateway's status with an ACK for each of tens of thousands of views.
   */
  public static final long STATUS_BUFFER_MEMORY = 4L * 1024 * 1024;

  /**
   * Unsent request-event batches the telemetry producer may hold (Kafka: 32 MiB; this proxy had
   * 16 MiB, then 4): 32 batches of {@link #TELEMETRY_BATCH_BYTES}, room for an open batch on each
   * of {@code mesh.telemetry.requests}' 12 partitions and as many again. What may wait is bounded
   * first by events ({@code --telemetry-buffer-events}, 10,000 by default, ~3.5 MB before lz4
   * even if none compressed); this bound only keeps a burst of large events from taking the
   * heap. The producer pools freed batch buffers up to this size, so a sidecar that was busy
   * keeps up to 8 MiB of its 64 MiB heap for them. When it is full a send waits up to
   * {@code max.block.ms} on the emitter's thread (never an event loop) and then hands the record
   * back; the emitter holds it (within the event bound) and offers it again.
   */
  public static final long TELEMETRY_BUFFER_MEMORY = 8L * 1024 * 1024;

  /**
   * Bytes per telemetry batch and partition after lz4 (Kafka: 16 KiB; this proxy had 64 KiB).
   * The producer's sender thread spends most of its time per batch and per request, not per
   * byte: at 30,000 events/s on one edge (one partition), 64 KiB batches held ~850 events (lz4
   * shrinks them to ~0.19) and cost the sender 0.54–0.63 µs per event; 128 KiB ones hold
   * ~1,450 (a whole drain of the emitter) and cost 0.43, 256 KiB 0.39, with the same bytes on
   * the wire. 256 KiB since emitter batches per edge: on the quiet machine (BENCHMARKS.md, "Cost
   * of emission", 256 KiB batches), four telemetry-on sidecars at saturation spent 0.90 ms of the
   * telemetry threads' CPU per 1,000 requests against 1.07 with 128 KiB, woke them 1.36 times per
   * 1,000 requests against 1.96, and the broker's CPU for the events fell from 0.56 to 0.44 ms
   * (lz4 allocates its block buffers per batch, on the producer and on the broker alike). An open
   * batch takes a whole buffer: 12 open 256 KiB batches take 3 of
   * {@link #TELEMETRY_BUFFER_MEMORY}'s 8 MiB, which is why that grew with it. Since the emitter batches per
   * edge, a record is a {@code RequestEventBatch} of at most 32 KiB
   * ({@code TelemetryEmitter.MAX_BATCH_BYTES}): the producer admits a record to an open batch
   * only if its uncompressed size fits beside the compressed estimate, so records must stay
   * well under this size for several to share a batch (and a sender wake-up).
   *
   * <p>Why lz4 (measured again with events of realistic variety — distinct request and trace
   * ids, times, sizes — 5,000 events/s, four interleaved rounds in one JVM, a busy machine, so
   * read the order rather than the figures; µs of CPU per event): the compression runs on the
   * emitter's thread, and zstd costs it more — emitter 0.95 lz4, 1.26 zstd level 1, 1.70 level
   * 3, 0.72 none — while the sender's CPU did not differ (1.1–1.7 for all four, no consistent
   * order) and the broker's was within noise. Bytes per event on the wire: lz4 86, zstd 54,
   * none 273. Allocation on the emitter's thread: lz4 934 B per event, zstd ~670, none ~630
   * (Kafka's lz4 stream allocates its two 64 KiB block buffers per batch). So zstd would trade
   * proxy CPU for bytes; none saves ~0.2 µs of emitter CPU and ~300 B of garbage per event but
   * triples the bytes the topic stores and consumers read — kept lz4, the codec TELEMETRY.md
   * documents. snappy (session emit8, a sidecar at saturation, four runs A B B A) cost the
   * emitter and the sender the same as lz4 (0.83–0.87 and 0.42–0.52 µs per event), so it was
   * not switched. lz4's level stays the default: Kafka's {@code Lz4BlockOutputStream} uses lz4's
   * fast compressor only at the default level and lz4-HC at any other, slower on the emitter.
   */
  public static final int TELEMETRY_BATCH_BYTES = 256 * 1024;

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

  /**
   * The request-event producer's settings ({@code KafkaEventSink}): {@code base}, with a bounded
   * buffer, batches of {@link #TELEMETRY_BATCH_BYTES} lingering {@code linger} (the emitter's
   * drain interval), lz4, idempotence with {@code acks=all} (a retried batch is never written
   * twice, so counts stay exact), a short block, a two-minute delivery timeout and
   * {@code clientId}, where it sets none.
   */
  public static Map<String, Object> telemetryProducer(Map<String, ?> base, String clientId,
                                                      Duration linger) {
    Map<String, Object> p = new HashMap<>(base);
    p.putIfAbsent(ProducerConfig.BUFFER_MEMORY_CONFIG, TELEMETRY_BUFFER_MEMORY);
    p.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, TELEMETRY_BATCH_BYTES);
    p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, (int) linger.toMillis());
    p.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
    p.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000);
    p.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
    p.putIfAbsent(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 2_000);
    p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    return p;
  }
}
