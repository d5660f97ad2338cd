package dev.meshlog.proxy.telemetry;

import java.time.Duration;

/**
 * Where encoded request events go: Kafka in production ({@link KafkaEventSink}), something
 * inspectable in tests. Called only from the emitter's own thread.
 */
public interface EventSink extends AutoCloseable {

  /**
   * What sends finally came to. One object may stand for many events (the emitter passes the
   * same one for every event that carries no earlier loss), so it keeps no per-event state.
   */
  interface Outcome {
    /** Called on any thread, once per send, when that event was acknowledged or definitely failed. */
    void completed(Exception failure);
  }

  /**
   * Hands one event over: its topic key's UTF-8 bytes and its encoded value (neither changed
   * afterwards; the key's bytes are shared by every event of an edge). Either {@code outcome}
   * is told exactly once, when the event is acknowledged or failed, or — when the event cannot
   * even be queued — the call throws and {@code outcome} is never told (as Kafka's
   * {@code KafkaProducer.send} does with its callback). May block the calling (emitter) thread
   * briefly.
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
