package dev.meshlog.proxy.telemetry;

import java.time.Duration;
import java.util.Map;

import dev.meshlog.proxy.subscribe.KafkaClients;
import dev.meshlog.schemas.SchemaRegistry;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Request events to {@code mesh.telemetry.requests}, one record per batch of an edge's events
 * (see {@link TelemetryEmitter}), through a producer of their own, tuned for volume rather than
 * latency: lz4-compressed batches of up to 256 KiB lingering as long as the
 * emitter's interval (200 ms; see {@link TelemetryEmitter#DEFAULT_INTERVAL} for why), idempotent
 * with {@code acks=all} (a retry after a broker failover never duplicates an event, so counts
 * stay exact), its unsent batches bounded ({@link KafkaClients#TELEMETRY_BUFFER_MEMORY}, 8 MiB:
 * room for an open batch on every partition). {@code max.block.ms} is short (the emitter's thread, never an event loop, waits
 * for metadata or buffer space); a record the producer could not take in that time is handed
 * back ({@link EventSink.NotTakenException}) for the emitter to hold and offer again, and events
 * Kafka took but did not acknowledge within {@code delivery.timeout.ms} fail and are counted as
 * lost.
 */
public final class KafkaEventSink implements EventSink {

  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;
  /**
   * A sink to {@code mesh.telemetry.requests} with the default producer settings ({@link
   * #config}) over {@code clientConfig} (bootstrap servers and any operator settings, e.g.
   * {@code KafkaClientSettings.clientConfig}), as client {@code clientId}.
   */
  public static KafkaEventSink toRequestsTopic(Map<String, Object> clientConfig, String clientId) {
    return new KafkaEventSink(config(clientConfig, clientId), Topics.TELEMETRY_REQUESTS.name());
  }

  /** A sink with this producer {@code config} (e.g. from {@link #config}), to {@code topic}. */
  public KafkaEventSink(Map<String, Object> config, String topic) {
    this.producer = new KafkaProducer<>(config, new ByteArraySerializer(),
        new ByteArraySerializer());
    this.topic = topic;
  }

  /** The producer settings used by default, {@link KafkaClients#telemetryProducer}, over {@code clientConfig}. */
  public static Map<String, Object> config(Map<String, Object> clientConfig, String clientId) {
    return KafkaClients.telemetryProducer(clientConfig, clientId, TelemetryEmitter.DEFAULT_INTERVAL);
  }

  @Override
  public void send(byte[] key, byte[] value, Outcome outcome) {
    // one callback per record (a batch of events), not per event
    Delivery delivery = new Delivery(outcome);
    producer.send(new ProducerRecord<>(topic, key, value), delivery);
    delivery.sent();
  }

  /**
   * One record's callback. {@code KafkaProducer.send} reports a record it could not even append
   * (no metadata within {@code max.block.ms}, its buffer full that long, too large) by calling
   * the callback on the sending thread before it returns; only the producer's sender thread
   * calls it for a record it took. Such a refusal with a retriable error (a
   * {@code TimeoutException}) is handed back to the emitter instead of failing the events:
   * nothing of the record was written, so offering it again cannot duplicate it.
   */
  private static final class Delivery implements Callback {
    private final Outcome outcome;
    /** The thread inside {@code producer.send}, until it returns. */
    private volatile Thread sending = Thread.currentThread();
    private RetriableException notTaken;

    Delivery(Outcome outcome) {
      this.outcome = outcome;
    }

    @Override
    public void onCompletion(RecordMetadata metadata, Exception exception) {
      if (exception instanceof RetriableException retriable
          && Thread.currentThread() == sending) {
        notTaken = retriable;
        return;
      }
      outcome.completed(exception);
    }

    /** After {@code producer.send} returned: throws if it did not take the record. */
    void sent() {
      sending = null;
      if (notTaken != null) {
        throw new NotTakenException(notTaken);
      }
    }
  }

  /**
   * Registers this build's schemas on the registry topic of the cluster events go to, in the
   * background ({@link SchemaRegistry#registerInBackground}): for a proxy whose events go to
   * another cluster than its views (its analytics readers look the schemas up there).
   */
  public Thread registerSchemasInBackground() {
    return SchemaRegistry.registerInBackground(producer);
  }

  @Override
  public void close(Duration timeout) {
    producer.close(timeout);
  }
}
