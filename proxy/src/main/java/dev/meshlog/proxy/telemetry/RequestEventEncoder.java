package dev.meshlog.proxy.telemetry;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import dev.meshlog.events.telemetry.LossReport;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.events.telemetry.TcpReport;
import dev.meshlog.events.telemetry.Workload;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Encodes {@link RequestEventBatch}es (and single {@link RequestEvent}s) exactly as
 * {@code Topics.TELEMETRY_REQUESTS} does (Avro single-object encoding: {@code C3 01}, the
 * schema's CRC-64-AVRO fingerprint, the binary body — for a batch the array's block count, the
 * events' bodies and a 0, then the null {@code lossReport}; for a loss-only record an empty
 * array and the {@link LossReport}), writing the fields in schema order into one buffer it reuses, with no Avro writer, encoder,
 * {@code ByteBuffer} or per-string byte arrays in between. For the emitter's single thread (not
 * thread-safe).
 *
 * <p>Why by hand: on a sidecar pinned to one core the emitter's CPU is taken from the event loop;
 * Avro's generic path cost more per event than building the event. Written for this one schema:
 * {@code RequestEventEncoderTest} proves the bytes equal Avro's for every field and decode with
 * the schema, for single events and batches, so a schema change that this class misses fails the build.
 *
 * <p>A {@link Workload} seen again (the same object: {@link RequestEvents} shares one per edge)
 * is copied from the bytes written the first time; a workload must not be changed once it has
 * been encoded.
 */
public final class RequestEventEncoder {

  private static final byte[] HEADER = header(RequestEvent.getClassSchema());
  private static final byte[] BATCH_HEADER = header(RequestEventBatch.getClassSchema());

  /** Workloads whose bytes are kept, most recent first replaced round robin. */
  static final int WORKLOAD_SLOTS = 8;
  /** Slots of {@link #repeatedString}: one per field that uses it. */
  static final int STRING_SLOTS = 8;

  private byte[] buf = new byte[512];
  private int pos;
  private final Workload[] workloads = new Workload[WORKLOAD_SLOTS];
  private final byte[][] workloadBytes = new byte[WORKLOAD_SLOTS][];
  private int nextSlot;
  /** {@link #repeatedString}'s last value per slot, and its bytes (length included). */
  private final String[] lastStrings = new String[STRING_SLOTS];
  private final byte[][] lastStringBytes = new byte[STRING_SLOTS][];

  /** The event's bytes, as a single {@code RequestEvent} (releases before batching wrote it). */
  public byte[] encode(RequestEvent e) {
    begin();
    body(e);
    return bytes();
  }

  /**
   * The batch of {@code events}' bytes, as {@code Topics.TELEMETRY_REQUESTS.serializeValue} of a
   * {@link RequestEventBatch} holding them would write them (at least one event).
   */
  public byte[] encodeBatch(List<RequestEvent> events) {
    beginBatch();
    for (RequestEvent e : events) {
      body(e);
    }
    return batch(events.size());
  }

  /**
   * The loss-only record of {@code report}, as {@code Topics.TELEMETRY_REQUESTS.serializeValue}
   * of a {@link RequestEventBatch} with no events and {@code report} would write it.
   */
  public byte[] encodeLossOnly(LossReport report) {
    beginLossReport();
    string(report.getProxyId());
    varint(report.getReporter().ordinal());
    workload(report.getSource());
    workload(report.getDestination());
    varint(report.getLost());
    startTime(report.getReportedAt());
    return lossOnly();
  }

  private void body(RequestEvent e) {
    string(e.getRequestId());
    string(e.getTraceId());
    varint(e.getReporter().ordinal());
    string(e.getProxyId());
    workload(e.getSource());
    workload(e.getDestination());
    string(e.getProtocol());
    string(e.getMethod());
    string(e.getAuthority());
    string(e.getPath());
    string(e.getRoute());
    varint(e.getResponseCode());
    Integer grpc = e.getGrpcStatus();
    optionalInt(grpc != null, grpc == null ? 0 : grpc);
    List<String> flags = e.getResponseFlags();
    if (!flags.isEmpty()) {
      varint(flags.size());
      for (String f : flags) {
        string(f);
      }
    }
    varint(0);
    bool(e.getMtls());
    varint(e.getRetries());
    varint(e.getRequestBytes());
    varint(e.getResponseBytes());
    varint(e.getDurationMicros());
    startTime(e.getStartTime());
    varint(e.getDroppedBefore());
    TcpReport tcp = e.getTcp();
    if (tcp == null) {
      varint(0);
    } else {
      tcpReport(tcp.getOpened(), tcp.getClosed());
    }
  }

  // A batch: beginBatch, then each event's body (RequestEvents.encodeBody), then batch(count).
  // The bodies are written as they come, with no header; batch() puts the single-object header
  // and the Avro array's one block count in front and its 0 terminator behind, in the one copy
  // the record's byte[] needs anyway. An event that fails half way is undone with rewind.

  /** Starts a batch: no bytes yet. */
  void beginBatch() {
    pos = 0;
  }

  /** How many bytes the bodies written since {@link #beginBatch} take. */
  int position() {
    return pos;
  }

  /** Forgets what was written after {@code position} (an event that could not be finished). */
  void rewind(int position) {
    pos = position;
  }

  /**
   * The {@code RequestEventBatch} of the {@code count} (at least one) event bodies written since
   * {@link #beginBatch}: header, block count, bodies, end of array, no loss report.
   */
  byte[] batch(int count) {
    return batch(count, pos);
  }

  /** As {@link #batch(int)}, of the first {@code count} bodies, which end at {@code end}. */
  byte[] batch(int count, int end) {
    if (count < 1) {
      throw new IllegalArgumentException("batch of " + count + " events (expected: at least 1)");
    }
    int countBytes = varintSize(count);
    byte[] out = new byte[BATCH_HEADER.length + countBytes + end + 2];
    System.arraycopy(BATCH_HEADER, 0, out, 0, BATCH_HEADER.length);
    long z = (long) count << 1; // zig-zag of a positive count
    int p = BATCH_HEADER.length;
    while ((z & ~0x7FL) != 0) {
      out[p++] = (byte) ((z & 0x7F) | 0x80);
      z >>>= 7;
    }
    out[p++] = (byte) z;
    System.arraycopy(buf, 0, out, p, end);
    out[out.length - 2] = 0; // a block count of 0 ends the array
    out[out.length - 1] = 0; // lossReport: the union's null branch
    return out;
  }

  // A loss-only record: beginLossReport, then the LossReport's fields in schema order
  // (RequestEvents.encodeLossReport), then lossOnly().

  /** Starts the {@code LossReport} body of a loss-only record: no bytes yet. */
  void beginLossReport() {
    pos = 0;
  }

  /**
   * The loss-only {@code RequestEventBatch} of the {@code LossReport} body written since
   * {@link #beginLossReport}: header, an empty array, the union's record branch, the body.
   */
  byte[] lossOnly() {
    byte[] out = new byte[BATCH_HEADER.length + 2 + pos];
    System.arraycopy(BATCH_HEADER, 0, out, 0, BATCH_HEADER.length);
    out[BATCH_HEADER.length] = 0; // events: no block, the array ends at once
    out[BATCH_HEADER.length + 1] = 2; // lossReport: the union's branch 1 (zig-zag), the record
    System.arraycopy(buf, 0, out, BATCH_HEADER.length + 2, pos);
    return out;
  }

  /**
   * Moves the bytes from {@code from} to the current position to the start (the first event of
   * the next batch, written before the bound was known to be passed); they become the only body.
   */
  void keepFrom(int from) {
    System.arraycopy(buf, from, buf, 0, pos - from);
    pos -= from;
  }

  /** The bytes {@link #batch} adds around the bodies of {@code count} events. */
  static int batchOverhead(int count) {
    return BATCH_HEADER.length + varintSize(count) + 2;
  }

  private static int varintSize(int count) {
    long z = (long) count << 1;
    int n = 1;
    while ((z & ~0x7FL) != 0) {
      z >>>= 7;
      n++;
    }
    return n;
  }

  // The writing steps, in schema order, for RequestEvents.encodeBody: it writes an access-log
  // entry's event without building the RequestEvent (RequestEventsTest proves the same bytes).

  /** Starts a single event (not a batch): the single-object header of {@code RequestEvent}. */
  void begin() {
    pos = 0;
    write(HEADER);
  }

  /** The event written since {@link #begin}, copied out. */
  byte[] bytes() {
    return Arrays.copyOf(buf, pos);
  }

  /** A nullable int (the union {@code [null, int]}). */
  void optionalInt(boolean present, int v) {
    if (present) {
      varint(1);
      varint(v);
    } else {
      varint(0);
    }
  }

  /** The {@code tcp} field's {@code TcpReport} branch (the union's 1) and its two fields. */
  void tcpReport(boolean opened, boolean closed) {
    ensure(3);
    buf[pos++] = 2; // zig-zag of branch 1
    buf[pos++] = (byte) (opened ? 1 : 0);
    buf[pos++] = (byte) (closed ? 1 : 0);
  }

  /** A boolean. */
  void bool(boolean b) {
    ensure(1);
    buf[pos++] = (byte) (b ? 1 : 0);
  }

  /** A {@code timestamp-micros} long. */
  void startTime(Instant t) {
    varint(Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L),
        t.getNano() / 1_000));
  }

  /** A workload record (its bytes kept: see the class comment). */
  void workload(Workload w) {
    for (int i = 0; i < WORKLOAD_SLOTS; i++) {
      if (workloads[i] == w) {
        write(workloadBytes[i]);
        return;
      }
    }
    int start = pos;
    writeWorkload(w);
    int slot = nextSlot;
    nextSlot = (nextSlot + 1) % WORKLOAD_SLOTS;
    workloads[slot] = w;
    workloadBytes[slot] = Arrays.copyOfRange(buf, start, pos);
  }

  private void writeWorkload(Workload w) {
    string(w.getWorkload());
    string(w.getService());
    string(w.getVersion());
    string(w.getNamespace());
    string(w.getCluster());
    string(w.getZone());
    String principal = w.getPrincipal();
    if (principal == null) {
      varint(0);
    } else {
      varint(1);
      string(principal);
    }
  }

  /** An Avro string: its UTF-8 length as a zig-zag varint, then the UTF-8 bytes. */
  void string(String s) {
    string(s, 0, s.length());
  }

  /** The Avro string {@code s.substring(from, to)}, without making it. */
  @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): the ASCII copy
  void string(String s, int from, int to) {
    int n = to - from;
    for (int i = from; i < to; i++) {
      if (s.charAt(i) >= 0x80) {
        // rare: what Avro writes (String.getBytes, an unpaired surrogate as '?')
        byte[] b = s.substring(from, to).getBytes(StandardCharsets.UTF_8);
        varint(b.length);
        write(b);
        return;
      }
    }
    varint(n);
    ensure(n);
    // every char is ASCII, so the chars' low bytes are the UTF-8 bytes; for a Latin-1 string (as
    // an ASCII one nearly always is) this is one array copy, not a loop of charAt
    s.getBytes(from, to, buf, pos);
    pos += n;
  }

  /**
   * As {@link #string(String)}, for a field whose value is mostly the same as its last one in
   * {@code slot} (the proxy id; an edge's method, protocol, authority, route, written one after
   * the other since the emitter writes an edge's events together): then its bytes are copied
   * from the last time, with no per-char check. The cache is one value per slot, replaced when
   * the value changes.
   */
  void repeatedString(int slot, String s) {
    String last = lastStrings[slot];
    if (s == last || s.equals(last)) {
      write(lastStringBytes[slot]);
      return;
    }
    int start = pos;
    string(s);
    lastStrings[slot] = s;
    lastStringBytes[slot] = Arrays.copyOfRange(buf, start, pos);
  }

  /** An Avro int or long: zig-zag, then 7 bits a byte, low first. */
  void varint(long v) {
    ensure(10);
    long z = (v << 1) ^ (v >> 63);
    while ((z & ~0x7FL) != 0) {
      buf[pos++] = (byte) ((z & 0x7F) | 0x80);
      z >>>= 7;
    }
    buf[pos++] = (byte) z;
  }

  private void write(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, buf, pos, b.length);
    pos += b.length;
  }

  private void ensure(int n) {
    if (pos + n > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
    }
  }

  private static byte[] header(Schema schema) {
    long fp = SchemaNormalization.parsingFingerprint64(schema);
    byte[] h = new byte[10];
    h[0] = (byte) 0xC3;
    h[1] = (byte) 0x01;
    for (int i = 0; i < 8; i++) {
      h[2 + i] = (byte) (fp >>> (8 * i));
    }
    return h;
  }
}
