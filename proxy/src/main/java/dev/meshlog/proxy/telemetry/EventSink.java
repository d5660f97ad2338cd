package dev.meshlog.proxy.telemetry;

import java.time.Duration;

/**
 * Where encoded request events go: Kafka in production ({@link KafkaEventSink}), something
 * inspectable in tests. Called only from the emitter's own thread.
 */
public interface EventSink extends AutoCloseable {

  /** What a send finally came to. */
  interface Outcome {
    /** Called once, on any thread, when the event was acknowledged or definitely failed. */
    void completed(Exception failure);
  }

  /**
   * Hands one event over: its topic key's UTF-8 bytes and its encoded value (neither changed
   * afterwards; the key's bytes are shared by every event of an edge). {@code outcome} is told
   * when it is acknowledged or failed. May block the calling (emitter) thread briefly; may throw
   * when the event cannot even be queued.
   */
  void send(byte[] key, byte[] value, Outcome outcome);

  /**
   * Releases the sink, waiting up to {@code timeout} for events in flight; those still not
   * acknowledged then are failed (their outcomes are told).
   */
  void close(Duration timeout);

  @Override
  default void close() {
    close(Duration.ofSeconds(5));
  }
}
