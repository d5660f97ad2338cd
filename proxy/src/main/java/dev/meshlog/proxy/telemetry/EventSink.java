package dev.meshlog.proxy.telemetry;

import java.time.Duration;

/**
 * Where encoded batches of request events go: Kafka in production ({@link KafkaEventSink}), something
 * inspectable in tests. Called only from the emitter's own thread.
 */
public interface EventSink extends AutoCloseable {

  /** What a send finally came to: one object per record, standing for all its events. */
  interface Outcome {
    /** Called on any thread, once per send, when that record was acknowledged or definitely failed. */
    void completed(Exception failure);
  }

  /**
   * Hands one record over: its topic key's UTF-8 bytes and its encoded value, a
   * {@code RequestEventBatch} of that edge's events (neither changed afterwards; the key's bytes
   * are shared by every record of an edge). Either {@code outcome} is told exactly once, when the
   * record is acknowledged or failed, or — when the record cannot
   * even be queued — the call throws and {@code outcome} is never told (as Kafka's
   * {@code KafkaProducer.send} does with its callback). May block the calling (emitter) thread
   * briefly.
   */
  void send(byte[] key, byte[] value, Outcome outcome);

  /**
   * Releases the sink, waiting up to {@code timeout} for records in flight; those still not
   * acknowledged then are failed (their outcomes are told).
   */
  void close(Duration timeout);

  @Override
  default void close() {
    close(Duration.ofSeconds(5));
  }
}
