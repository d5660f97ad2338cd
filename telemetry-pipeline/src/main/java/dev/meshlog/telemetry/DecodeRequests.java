package dev.meshlog.telemetry;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes raw request events. A good one goes on with its event time (the request's start) as
 * the record timestamp, so windows and lateness follow when requests happened; one that cannot
 * be decoded becomes a {@link DeadLetter} with the bytes and the reason, and the app goes on.
 */
final class DecodeRequests implements FixedKeyProcessor<String, byte[], DecodeRequests.Decoded> {

  private static final Logger LOG = LoggerFactory.getLogger(DecodeRequests.class);

  /** Either a request event or the dead letter standing for an undecodable record. */
  record Decoded(RequestEvent event, DeadLetter deadLetter) {}

  private final String application;
  private FixedKeyProcessorContext<String, Decoded> context;

  DecodeRequests(String application) {
    this.application = application;
  }

  @Override
  public void init(FixedKeyProcessorContext<String, Decoded> context) {
    this.context = context;
  }

  @Override
  public void process(FixedKeyRecord<String, byte[]> record) {
    if (record.value() == null) {
      return; // a tombstone on a delete-only topic means nothing
    }
    RequestEvent event;
    try {
      event = Topics.TELEMETRY_REQUESTS.deserializeValue(record.value());
      if (event.getStartTime() == null) {
        throw new IllegalArgumentException("startTime: missing");
      }
      checkLength("source", event.getSource());
      checkLength("destination", event.getDestination());
    } catch (RuntimeException e) {
      context.forward(record.withValue(new Decoded(null, deadLetter(record, e))));
      return;
    }
    long eventTime = EdgeAggregation.eventTime(event).toEpochMilli();
    context.forward(record.withValue(new Decoded(event, null)).withTimestamp(eventTime));
  }

  /** Longest namespace, service or version taken; longer ones cannot be a workload's. */
  static final int MAX_NAME_CHARS = 1024;

  private static void checkLength(String field, dev.meshlog.events.telemetry.Workload w) {
    check(field + ".namespace", w.getNamespace());
    check(field + ".service", w.getService());
    check(field + ".version", w.getVersion());
  }

  private static void check(String field, CharSequence value) {
    if (value != null && value.length() > MAX_NAME_CHARS) {
      throw new IllegalArgumentException(field + ": " + value.length() + " characters (expected: at most "
          + MAX_NAME_CHARS + ")");
    }
  }

  private DeadLetter deadLetter(FixedKeyRecord<String, byte[]> record, RuntimeException e) {
    RecordMetadata meta = context.recordMetadata().orElse(null);
    LOG.warn("undecodable request event on {}-{}@{}: {}", meta == null ? "?" : meta.topic(),
        meta == null ? -1 : meta.partition(), meta == null ? -1 : meta.offset(), e.getMessage());
    return DeadLetter.newBuilder()
        .setApplication(application)
        .setSourceTopic(meta == null ? Topics.TELEMETRY_REQUESTS.name() : meta.topic())
        .setPartition(meta == null ? -1 : meta.partition())
        .setOffset(meta == null ? -1 : meta.offset())
        .setKey(record.key() == null ? null
            : ByteBuffer.wrap(record.key().getBytes(StandardCharsets.UTF_8)))
        .setValue(ByteBuffer.wrap(record.value()))
        .setReason(String.valueOf(e.getMessage()))
        .setExceptionClass(e.getClass().getName())
        .setFailedAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
        .build();
  }
}
