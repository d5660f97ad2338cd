package dev.meshlog.telemetry;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.AvroSerde;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What aggregation needs of one counted request, and nothing else: the value on the internal
 * {@code requests-by-edge} repartition topic. Re-encoding the whole {@link RequestEvent} there
 * (workloads, clusters, zones, method, trace id) cost an Avro round trip per event for fields
 * no aggregate reads; this is a fixed little binary layout instead (see {@link #SERDE}).
 *
 * @param edge the edge the request travelled
 * @param responseCode HTTP/gRPC status, 0 when there was no response
 * @param responseFlags Envoy response flags as reported ({@code -} and blanks are ignored later)
 * @param requestBytes request body bytes
 * @param responseBytes response body bytes
 * @param durationMicros how long the request took
 * @param startMillis when it started (event time), epoch milliseconds
 */
public record EdgeCall(Edge edge, int responseCode, List<String> responseFlags, long requestBytes,
                       long responseBytes, long durationMicros, long startMillis) {

  /** First byte of every encoded value, so that a later layout can be told apart. */
  static final byte VERSION = 1;

  /** The serde of the repartition topic. */
  public static final Serde<EdgeCall> SERDE = Serdes.serdeFrom(
      (Serializer<EdgeCall>) (topic, call) -> call == null ? null : call.encode(),
      (Deserializer<EdgeCall>) (topic, bytes) -> bytes == null ? null : decode(topic, bytes));

  /** The repartition topic's value before {@code EdgeCall}: a whole event, still read on upgrade. */
  private static final AvroSerde<RequestEvent> EVENTS = AvroSerde.of(RequestEvent.class);

  public EdgeCall {
    Objects.requireNonNull(edge, "edge");
    responseFlags = responseFlags == null ? List.of() : List.copyOf(responseFlags);
  }

  /** The part of {@code event} aggregation reads. */
  public static EdgeCall of(RequestEvent event) {
    List<String> flags = new ArrayList<>(event.getResponseFlags().size());
    for (CharSequence flag : event.getResponseFlags()) {
      if (flag != null) {
        flags.add(flag.toString());
      }
    }
    return new EdgeCall(Edge.of(event), event.getResponseCode(), flags, event.getRequestBytes(),
        event.getResponseBytes(), event.getDurationMicros(),
        EdgeAggregation.eventTime(event).toEpochMilli());
  }

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(96);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      writeEnd(out, edge.source());
      writeEnd(out, edge.destination());
      out.writeInt(responseCode);
      out.writeShort(responseFlags.size());
      for (String flag : responseFlags) {
        out.writeUTF(flag);
      }
      out.writeLong(requestBytes);
      out.writeLong(responseBytes);
      out.writeLong(durationMicros);
      out.writeLong(startMillis);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return bytes.toByteArray();
  }

  /**
   * Reads a value back (or a whole {@link RequestEvent}, what the repartition topic carried
   * before).
   *
   * @throws SerializationException if the bytes are not an {@code EdgeCall} of a known layout
   */
  static EdgeCall decode(String topic, byte[] bytes) {
    if (bytes.length >= 2 && bytes[0] == (byte) 0xC3 && bytes[1] == 0x01) {
      // Avro single-object marker: a RequestEvent written by a release before EdgeCall, left on
      // the repartition topic across an upgrade. Read it rather than stop the app.
      return of(EVENTS.decode(topic, bytes));
    }
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
      byte version = in.readByte();
      if (version != VERSION) {
        throw new SerializationException("EdgeCall: layout " + version + " (expected: " + VERSION + ")");
      }
      Edge edge = new Edge(readEnd(in), readEnd(in));
      int code = in.readInt();
      int n = in.readUnsignedShort();
      List<String> flags = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        flags.add(in.readUTF());
      }
      EdgeCall call = new EdgeCall(edge, code, flags, in.readLong(), in.readLong(), in.readLong(), in.readLong());
      if (in.available() > 0) {
        throw new SerializationException("EdgeCall: " + in.available() + " bytes after the value (expected: none)");
      }
      return call;
    } catch (IOException e) {
      throw new SerializationException("EdgeCall: truncated or corrupt value (" + bytes.length + " bytes): " + e, e);
    }
  }

  private static void writeEnd(DataOutputStream out, Edge.End end) throws IOException {
    out.writeUTF(end.namespace());
    out.writeUTF(end.service());
    out.writeUTF(end.version());
  }

  private static Edge.End readEnd(DataInputStream in) throws IOException {
    return new Edge.End(in.readUTF(), in.readUTF(), in.readUTF());
  }
}
