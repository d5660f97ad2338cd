package dev.meshlog.telemetry;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;

import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Where a versioned edge's aggregates live. The stores are keyed by versioned edge id
 * ({@code srcNs/src/srcVersion->dstNs/dst/dstVersion}) but filled on the input partition of the
 * edge key the events carry ({@code srcNs/src->dstNs/dst}), so Kafka Streams' default guess
 * (hashing the store key) would name the wrong partition: {@link #PARTITIONER} hashes the edge
 * key instead, as the proxies' producers (Kafka's default partitioner) do.
 */
public final class EdgeOwner {

  /** Maps a versioned edge id (a store key) to the input partition holding its aggregates. */
  public static final StreamPartitioner<String, Object> PARTITIONER = new StreamPartitioner<>() {
    @Override
    public Optional<Set<Integer>> partitions(String topic, String key, Object value, int numPartitions) {
      return Optional.of(Set.of(partitionOf(key, numPartitions)));
    }
  };

  private EdgeOwner() {}

  /**
   * The record key of the events of versioned edge {@code edgeId}: {@code srcNs/src->dstNs/dst},
   * as proxies write it. A caller outside the mesh is service {@code unknown} in the edge id but
   * an empty service in the proxies' events and keys ({@code ns/->dstNs/dst}); a destination
   * {@code unknown} is {@code unknown} in both.
   *
   * @throws IllegalArgumentException if {@code edgeId} is not {@code ns/service/version->ns/service/version}
   */
  public static String edgeKey(String edgeId) {
    int arrow = edgeId.indexOf("->");
    if (arrow < 0) {
      throw new IllegalArgumentException("edge id: " + edgeId
          + " (expected: srcNs/src/srcVersion->dstNs/dst/dstVersion)");
    }
    String source = withoutVersion(edgeId, edgeId.substring(0, arrow));
    if (source.endsWith("/" + Edge.UNKNOWN)) {
      source = source.substring(0, source.length() - Edge.UNKNOWN.length());
    }
    return source + "->" + withoutVersion(edgeId, edgeId.substring(arrow + 2));
  }

  private static String withoutVersion(String edgeId, String end) {
    int slash = end.lastIndexOf('/');
    if (slash < 0 || end.indexOf('/') == slash) {
      throw new IllegalArgumentException("edge id: " + edgeId
          + " (expected: srcNs/src/srcVersion->dstNs/dst/dstVersion)");
    }
    return end.substring(0, slash);
  }

  /** The input partition (of {@code partitions}) whose task aggregates versioned edge {@code edgeId}. */
  public static int partitionOf(String edgeId, int partitions) {
    return Utils.toPositive(Utils.murmur2(edgeKey(edgeId).getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /** Which instance holds {@code edgeId}'s aggregates (in the 10 s, 1 min and totals stores alike). */
  public static KeyQueryMetadata owner(KafkaStreams streams, String edgeId) {
    return streams.queryMetadataForKey(TelemetryTopology.STORE_10S, edgeId, PARTITIONER);
  }
}
