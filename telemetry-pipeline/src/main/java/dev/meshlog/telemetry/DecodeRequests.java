package dev.meshlog.telemetry;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;

import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads raw request events ({@link RequestReader}: only what aggregation needs) and routes them:
 * <ul>
 *   <li>a counted report whose record key is its edge's key ({@code srcNs/src->dstNs/dst}, what
 *       proxies write) goes on as a {@link RequestReader.Call}, its event time (the request's
 *       start) as the record timestamp, to be aggregated on this partition;</li>
 *   <li>a counted report with another key (a null key, or any other producer's scheme) goes on
 *       as its raw bytes keyed by its edge's key, to be re-partitioned: its edge's aggregates
 *       live on the partition that key hashes to, and counting it here would split them;</li>
 *   <li>the destination's report of a call the source also reported is dropped (one report per
 *       call, see {@link TelemetryTopology#countsOnce});</li>
 *   <li>a record that cannot be read becomes a {@link DeadLetter} keyed by the application, with
 *       the bytes and the reason, and the app goes on.</li>
 * </ul>
 * The {@code Call} forwarded is reused for the next record: children must not keep it.
 */
final class DecodeRequests implements Processor<byte[], byte[], String, Object> {

  private static final Logger LOG = LoggerFactory.getLogger(DecodeRequests.class);

  /** Longest namespace, service or version taken; longer ones cannot be a workload's. */
  static final int MAX_NAME_CHARS = RequestReader.MAX_NAME_CHARS;

  private final String application;
  private final boolean reroute;
  private final RequestReader reader = new RequestReader();
  private ProcessorContext<String, Object> context;

  /**
   * @param application the application id, the key of dead letters
   * @param reroute whether records keyed otherwise than by their edge go on as raw bytes to be
   *     re-partitioned (true on the input topic; false after the re-partitioning, whose keys are right)
   */
  DecodeRequests(String application, boolean reroute) {
    this.application = application;
    this.reroute = reroute;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    if (record.value() == null) {
      return; // a tombstone on a delete-only topic means nothing
    }
    RequestReader.Call call;
    try {
      call = reader.read(Topics.TELEMETRY_REQUESTS.name(), record.value());
    } catch (RuntimeException e) {
      context.forward(new Record<String, Object>(application, deadLetter(record, e), record.timestamp()));
      return;
    }
    if (!call.countsOnce()) {
      return;
    }
    // Keys stay bytes: compared with the interned edge's, never decoded to a String.
    if (reroute && !Arrays.equals(call.edge.topicKeyBytes(), record.key())) {
      context.forward(new Record<String, Object>(call.edge.topicKey(), record.value(), record.timestamp()));
      return;
    }
    context.forward(new Record<String, Object>(call.edge.topicKey(), call, Math.max(0, call.startMillis)));
  }

  private DeadLetter deadLetter(Record<byte[], byte[]> record, RuntimeException e) {
    RecordMetadata meta = context.recordMetadata().orElse(null);
    LOG.warn("undecodable request event on {}-{}@{}: {}", meta == null ? "?" : meta.topic(),
        meta == null ? -1 : meta.partition(), meta == null ? -1 : meta.offset(), e.getMessage());
    return DeadLetter.newBuilder()
        .setApplication(application)
        .setSourceTopic(meta == null || meta.topic() == null ? Topics.TELEMETRY_REQUESTS.name() : meta.topic())
        .setPartition(meta == null ? -1 : meta.partition())
        .setOffset(meta == null ? -1 : meta.offset())
        .setKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
        .setValue(ByteBuffer.wrap(record.value()))
        .setReason(String.valueOf(e.getMessage()))
        .setExceptionClass(e.getClass().getName())
        .setFailedAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
        .build();
  }
}
