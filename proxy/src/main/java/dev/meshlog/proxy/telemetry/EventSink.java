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
   * The sink could not take a record now and kept nothing of it, for a reason that may pass
   * (Kafka unreachable: no metadata for the topic, or the producer's buffer full), so the
   * record can be offered again later without any risk of writing it twice.
   */
  final class NotTakenException extends RuntimeException {
    /** Not taken because of {@code cause}. */
    public NotTakenException(Exception cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }

  /**
   * Hands one record over: its topic key's UTF-8 bytes and its encoded value, a
   * {@code RequestEventBatch} of that edge's events (neither changed afterwards; the key's bytes
   * are shared by every record of an edge). Once it returns, {@code outcome} is told exactly
   * once, when the record is acknowledged or failed. When it throws, {@code outcome} is never
   * told: {@link NotTakenException} if the record may be offered again later, any other
   * exception if it never can be (refused for good). May block the calling (emitter) thread
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
