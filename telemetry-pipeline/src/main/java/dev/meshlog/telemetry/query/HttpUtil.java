package dev.meshlog.telemetry.query;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.schemas.Topics;

/** Small helpers for the HTTP API: URL encoding and the internal wire format of aggregates. */
final class HttpUtil {

  private HttpUtil() {}

  static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /**
   * Aggregates as instances send them to each other: each one a 4-byte big-endian length, then
   * the record in single-object Avro, as on {@code mesh.telemetry.edges} (sketch included, so the
   * receiver merges exactly).
   */
  static byte[] encodeAll(List<EdgeMetrics> metrics) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (EdgeMetrics m : metrics) {
      byte[] bytes = Topics.TELEMETRY_EDGES.serializeValue(m);
      out.write(bytes.length >>> 24);
      out.write(bytes.length >>> 16);
      out.write(bytes.length >>> 8);
      out.write(bytes.length);
      out.writeBytes(bytes);
    }
    return out.toByteArray();
  }

  /** Reads what {@link #encodeAll} wrote. */
  static List<EdgeMetrics> decodeAll(byte[] data) {
    ByteBuffer in = ByteBuffer.wrap(data);
    List<EdgeMetrics> metrics = new ArrayList<>();
    while (in.remaining() >= 4) {
      int length = in.getInt();
      if (length < 0 || length > in.remaining()) {
        throw new IllegalArgumentException("aggregate of " + length + " bytes with " + in.remaining() + " left");
      }
      byte[] bytes = new byte[length];
      in.get(bytes);
      metrics.add(Topics.TELEMETRY_EDGES.deserializeValue(bytes));
    }
    return metrics;
  }
}
