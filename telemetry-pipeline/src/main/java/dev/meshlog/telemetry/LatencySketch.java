package dev.meshlog.telemetry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.DDSketchProtoBinding;
import com.datadoghq.sketch.ddsketch.DDSketches;
import com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.store.CollapsingLowestDenseStore;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshlog.events.telemetry.EdgeMetrics;

/**
 * Latency sketches as they travel in {@code EdgeMetrics.latencySketch}: a
 * <a href="https://arxiv.org/abs/1908.10693">DDSketch</a> of milliseconds in DDSketch's protobuf
 * encoding ({@value #FORMAT}). Every quantile read from a sketch is within the sketch's relative
 * accuracy of the exact quantile of the values it was fed, and two sketches with the same
 * accuracy merge exactly (the merge equals the sketch of both inputs' values).
 */
public final class LatencySketch {

  /** The value of {@code EdgeMetrics.latencySketchFormat} on {@code mesh.telemetry.edges} and in answers. */
  public static final String FORMAT = "ddsketch-protobuf";
  /**
   * The format inside the pipeline's own stores: sketches-java's own encoding
   * ({@link DDSketch#encode}), read back in one pass. The protobuf decoding goes through
   * protobuf objects and grows the bin array one bin at a time, which cost more than all the
   * counting; the stores are internal, so they keep this one and the edges topic keeps protobuf.
   */
  public static final String STORE_FORMAT = "ddsketch";
  /** Default relative accuracy: quantiles within 1% of the true value. */
  public static final double DEFAULT_RELATIVE_ACCURACY = 0.01;
  /**
   * Bins per sketch. At 1% accuracy 2048 bins span a ratio of about 10^17 between the smallest
   * and largest value, so nothing collapses for latencies from nanoseconds to days; it only
   * bounds memory against absurd inputs (the lowest bins collapse first).
   */
  public static final int MAX_BINS = 2048;

  private LatencySketch() {}

  /** An empty sketch with the given relative accuracy. */
  public static DDSketch empty(double relativeAccuracy) {
    return DDSketches.logarithmicCollapsingLowestDense(relativeAccuracy, MAX_BINS);
  }

  /** The protobuf encoding of {@code sketch}. */
  public static byte[] encode(DDSketch sketch) {
    ByteBuffer buffer = sketch.serialize();
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  /** sketches-java's own encoding of {@code sketch} ({@value #STORE_FORMAT}). */
  public static byte[] encodeCompact(DDSketch sketch) {
    GrowingByteArrayOutput out = GrowingByteArrayOutput.withInitialCapacity(64);
    try {
      sketch.encode(out, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return out.trimmedCopy();
  }

  /**
   * Reads a sketch in the given format ({@value #FORMAT}, the default when null or empty, or
   * {@value #STORE_FORMAT}); an empty buffer is an empty sketch of {@code relativeAccuracy}.
   *
   * @throws IllegalArgumentException if the bytes are not a sketch of that format, or the format is unknown
   */
  public static DDSketch decode(ByteBuffer bytes, String format, double relativeAccuracy) {
    if (format == null || format.isEmpty() || format.equals(FORMAT)) {
      return decode(bytes, relativeAccuracy);
    }
    if (!format.equals(STORE_FORMAT)) {
      throw new IllegalArgumentException("latencySketchFormat: " + format
          + " (expected: " + FORMAT + " or " + STORE_FORMAT + ")");
    }
    if (bytes == null || !bytes.hasRemaining()) {
      return empty(relativeAccuracy);
    }
    try {
      ByteArrayInput in = bytes.hasArray()
          ? ByteArrayInput.wrap(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining())
          : ByteArrayInput.wrap(copy(bytes));
      return DDSketch.decode(in, () -> new CollapsingLowestDenseStore(MAX_BINS));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("latencySketch: not a " + STORE_FORMAT + " sketch: " + e.getMessage(), e);
    }
  }

  /** The sketch of {@code metrics}, whichever format it is in. */
  public static DDSketch decode(EdgeMetrics metrics) {
    return decode(metrics.getLatencySketch(), metrics.getLatencySketchFormat(), metrics.getLatencyRelativeAccuracy());
  }

  private static byte[] copy(ByteBuffer bytes) {
    byte[] array = new byte[bytes.remaining()];
    bytes.duplicate().get(array);
    return array;
  }

  /**
   * Reads a sketch back; an empty buffer is an empty sketch of {@code relativeAccuracy}.
   *
   * @throws IllegalArgumentException if the bytes are not a DDSketch protobuf
   */
  public static DDSketch decode(ByteBuffer bytes, double relativeAccuracy) {
    if (bytes == null || !bytes.hasRemaining()) {
      return empty(relativeAccuracy);
    }
    try {
      return DDSketchProtoBinding.fromProto(() -> new CollapsingLowestDenseStore(MAX_BINS),
          com.datadoghq.sketch.ddsketch.proto.DDSketch.parseFrom(bytes.duplicate()));
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new IllegalArgumentException("latencySketch: not a " + FORMAT + " sketch: " + e.getMessage(), e);
    }
  }

  /**
   * The values at quantiles {@code qs} (each 0..1, ascending), or zeros for an empty sketch: one
   * pass over the bins instead of one per quantile.
   */
  public static double[] quantiles(DDSketch sketch, double[] qs) {
    return sketch.isEmpty() ? new double[qs.length] : sketch.getValuesAtQuantiles(qs);
  }

  /** The value at quantile {@code q} (0..1), or 0 for an empty sketch. */
  public static double quantile(DDSketch sketch, double q) {
    return sketch.isEmpty() ? 0.0 : sketch.getValueAtQuantile(q);
  }
}
