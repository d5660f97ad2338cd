package dev.meshlog.telemetry;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.telemetry.LossReport;
import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.events.telemetry.TcpReport;
import dev.meshlog.events.telemetry.Workload;
import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.schemas.EdgeKeys;
import dev.meshlog.schemas.Topics;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.specific.SpecificData;

/**
 * Reads, from a {@code mesh.telemetry.requests} value, only what aggregation needs, into reused
 * {@link Call}s, one per event: no {@link RequestEvent}, no strings for the fields it skips, and
 * no strings at all for an edge already seen (edges are interned by the bytes of the two
 * workloads).
 *
 * <p>A value is a {@link RequestEventBatch} (one edge's events, as proxies write it) or, as
 * releases before batching wrote it, a single {@link RequestEvent}; both are read, the second as
 * a batch of one. A record is read whole or not at all: {@link #read} fails, and nothing of it is
 * returned, if any of its events cannot be read. A loss-only record (a batch with a
 * {@link LossReport}, which proxies write with no events when their traffic stopped after a
 * loss) is read as one more call after its events: not a request (never counted), reporting its
 * proxy's loss on its edge like an event's {@code droppedBefore}. A TCP connection report (an
 * event whose {@code tcp} is set) is read as a call with {@link Call#tcp} set. Records of the
 * schemas before those fields (events without {@code tcp}; batches without {@code lossReport})
 * are read as before, on the fast path too.
 *
 * <p>The fast path walks the Avro binary body of the schemas it was written for (checked by
 * their fingerprints, {@link #LAYOUT_FINGERPRINT} and {@link #BATCH_LAYOUT_FINGERPRINT}): a
 * batch's array (blocks of a count, negative when followed by the block's size in bytes, the
 * items, and a 0 count to end) with the per-event walker on each item. Records of any other
 * schema version, and any record the fast path cannot read, go through the full
 * {@link AvroSerde} decoding instead, so that older releases' events still count and a bad
 * record fails with the serde's own message. A change of {@code RequestEvent}'s schema turns the
 * fast path off (everything is still read, slower) until this reader is updated:
 * {@code RequestReaderTest} fails to say so.
 */
final class RequestReader {

  /**
   * The CRC-64-AVRO fingerprint of the {@code RequestEvent} schema whose layout {@link #read}
   * walks. Field order: requestId, traceId, reporter, proxyId, source, destination, protocol,
   * method, authority, path, route, responseCode, grpcStatus, responseFlags, mtls, retries,
   * requestBytes, responseBytes, durationMicros, startTime, droppedBefore, tcp (a union of null
   * and a {@code TcpReport}: opened, closed).
   */
  static final long LAYOUT_FINGERPRINT = 0x92b8fbfc12eaa306L;

  /**
   * The CRC-64-AVRO fingerprint of the {@code RequestEventBatch} schema whose layout {@link #read}
   * walks: {@code events}, an array of the {@code RequestEvent} above, then {@code lossReport},
   * a union of null and a {@code LossReport} (proxyId, reporter, source, destination, lost,
   * reportedAt).
   */
  static final long BATCH_LAYOUT_FINGERPRINT = 0x138f7abf28788a61L;

  /**
   * The fingerprint of {@code RequestEvent} before {@code tcp} (what proxies wrote until then,
   * never released: release 0.1.0's has no {@code droppedBefore} either, and is read by the
   * serde). Read on the fast path like the current one, with no union at the end; the slow path
   * decodes it with {@link #BEFORE_TCP_EVENT_SCHEMA}.
   */
  static final long BEFORE_TCP_LAYOUT_FINGERPRINT = 0xc85d4e79bf00a46cL;

  /**
   * The fingerprint of {@code RequestEventBatch} of events before {@code tcp}, with
   * {@code lossReport} (what proxies wrote until then, never released).
   */
  static final long BEFORE_TCP_BATCH_LAYOUT_FINGERPRINT = 0x41bbeda5b4b7b91dL;

  /**
   * The fingerprint of {@code RequestEventBatch} before {@code lossReport}: {@code events} (of
   * events before {@code tcp}) alone (what proxies wrote until then, never released). Read on
   * the fast path like the current one, with no union after the array; the slow path decodes it
   * with {@link #PREVIOUS_BATCH_SCHEMA}.
   */
  static final long PREVIOUS_BATCH_LAYOUT_FINGERPRINT = 0x88a2e767ccb67fbeL;

  /** {@code RequestEvent} before {@code tcp}: the current one without it. */
  static final Schema BEFORE_TCP_EVENT_SCHEMA = without(RequestEvent.getClassSchema(), "tcp", null);

  /** {@code RequestEventBatch} of {@link #BEFORE_TCP_EVENT_SCHEMA} events, with {@code lossReport}. */
  static final Schema BEFORE_TCP_BATCH_SCHEMA =
      without(RequestEventBatch.getClassSchema(), null, Schema.createArray(BEFORE_TCP_EVENT_SCHEMA));

  /** {@code RequestEventBatch} before {@code lossReport}: {@link #BEFORE_TCP_BATCH_SCHEMA}'s {@code events} alone. */
  static final Schema PREVIOUS_BATCH_SCHEMA =
      without(BEFORE_TCP_BATCH_SCHEMA, "lossReport", Schema.createArray(BEFORE_TCP_EVENT_SCHEMA));

  /** Longest namespace, service or version taken; longer ones cannot be a workload's. */
  static final int MAX_NAME_CHARS = 1024;

  /** Interned edges kept per reader before the cache starts over (bounds memory). */
  static final int MAX_CACHED_EDGES = 10_000;

  private static final AvroSerde<RequestEventBatch> SERDE =
      (AvroSerde<RequestEventBatch>) Topics.TELEMETRY_REQUESTS.valueSerde();
  private static final AvroSerde<RequestEvent> EVENT_SERDE = AvroSerde.of(RequestEvent.class);
  private static final long CURRENT_FINGERPRINT = SchemaNormalization.parsingFingerprint64(RequestEvent.getClassSchema());
  private static final long CURRENT_BATCH_FINGERPRINT =
      SchemaNormalization.parsingFingerprint64(RequestEventBatch.getClassSchema());
  /** Whether the generated schemas are the ones this reader's fast path was written for. */
  static final boolean FAST_PATH = CURRENT_FINGERPRINT == LAYOUT_FINGERPRINT
      && CURRENT_BATCH_FINGERPRINT == BATCH_LAYOUT_FINGERPRINT;
  /**
   * Decodes batches of {@link #BEFORE_TCP_BATCH_SCHEMA} and {@link #PREVIOUS_BATCH_SCHEMA} (the
   * slow path's; the topic's serde knows only released ones).
   */
  private static final BinaryMessageDecoder<RequestEventBatch> PREVIOUS_BATCH_DECODER = previousBatchDecoder();
  /** Decodes single events of {@link #BEFORE_TCP_EVENT_SCHEMA}. */
  private static final BinaryMessageDecoder<RequestEvent> BEFORE_TCP_EVENT_DECODER = beforeTcpEventDecoder();
  /** The single-object header of a {@code RequestEventBatch} of the current schema. */
  private static final byte[] BATCH_HEADER = java.nio.ByteBuffer.allocate(AvroSerde.HEADER_BYTES)
      .order(java.nio.ByteOrder.LITTLE_ENDIAN).put((byte) 0xC3).put((byte) 0x01)
      .putLong(CURRENT_BATCH_FINGERPRINT).array();
  /** The single-object header of a {@code RequestEvent} of the current schema. */
  private static final byte[] EVENT_HEADER = header(EVENT_SERDE.fingerprint());
  /** The single-object header of a {@code RequestEvent} before {@code tcp}. */
  private static final byte[] BEFORE_TCP_EVENT_HEADER = header(BEFORE_TCP_LAYOUT_FINGERPRINT);

  /**
   * One request as aggregation sees it, reused for every record a reader reads.
   */
  static final class Call {
    /** Where the event's Avro body is in the record (fast path), to re-send it on its own. */
    int offset;
    int length;
    /** The event as the full decoding read it (slow path), else null. */
    RequestEvent decoded;
    /**
     * A loss-only record's {@code LossReport}, not a request: {@link #duplicate} too (never
     * counted), its loss ({@link #droppedBefore}) folded on its edge like an event's. Its
     * {@link #offset} and {@link #length} span the union from its branch index to the end.
     */
    boolean lossReport;
    /** The loss report as the full decoding read it (slow path), else null. */
    LossReport decodedLoss;

    /**
     * Why this event of a batch cannot be counted (a name over the limit: read, but refused),
     * else null; its edge is then null. The rest of the batch is read and counted: only such an
     * event is dead-lettered ({@link #eventBytes}), not the batch.
     */
    String invalid;
    /** The edge, interned: the same object for every event of the same two workloads. */
    EdgeRef edge;
    Reporter reporter;
    int responseCode;
    /** Response flags as reported (blank and {@code -} included; aggregation ignores them). */
    final List<String> responseFlags = new ArrayList<>(2);
    long requestBytes;
    long responseBytes;
    long durationMicros;
    long startMillis;
    /**
     * Events the reporting proxy said it lost before this one ({@code droppedBefore}); 0 almost
     * always. Aggregation folds only a positive value.
     */
    long droppedBefore;
    /**
     * A TCP connection report ({@code RequestEvent.tcp} set), not a request: aggregation counts
     * it in the TCP fields only. Its {@link #startMillis} is the report's time (the connection's
     * start plus {@link #durationMicros}, how long it had been open), not the connection's start:
     * its bytes count in the windows they were relayed in.
     */
    boolean tcp;
    /** A TCP report that is its connection's first ({@code tcp.opened}). */
    boolean tcpOpened;
    /** A TCP report that is its connection's last ({@code tcp.closed}). */
    boolean tcpClosed;

    /**
     * A destination's report of a call whose source is in the mesh (and so reports it too): read
     * and checked like any other, but not counted; its edge is looked up only when it reports a
     * loss ({@link #edge} is null otherwise), which is counted like any other proxy's. A loss
     * report ({@link #lossReport}) is not counted either.
     */
    boolean duplicate;

    /** Whether this report is the one that counts (see {@link TelemetryTopology#countsOnce}). */
    boolean countsOnce() {
      return !duplicate && (reporter != Reporter.DESTINATION || edge.sourceOutsideMesh());
    }

    /** Whether it reports a loss of its proxy that aggregation folds ({@link #droppedBefore} above 0). */
    boolean reportsLoss() {
      return droppedBefore > 0;
    }
  }

  /**
   * An edge as events name it.
   *
   * @param edge the versioned edge (aggregation key {@code edge.id()})
   * @param id {@code edge.id()}, computed once
   * @param topicKey the record key proxies give its events, {@code srcNs/src->dstNs/dst}
   * @param topicKeyBytes {@code topicKey} in UTF-8, as on the topic
   */
  record EdgeRef(Edge edge, String id, String topicKey, byte[] topicKeyBytes) {
    boolean sourceOutsideMesh() {
      return edge.source().service().equals(Edge.UNKNOWN);
    }

    static EdgeRef of(String srcNs, String src, String srcVersion, String dstNs, String dst, String dstVersion) {
      check("source.namespace", srcNs);
      check("source.service", src);
      check("source.version", srcVersion);
      check("destination.namespace", dstNs);
      check("destination.service", dst);
      check("destination.version", dstVersion);
      Edge edge = new Edge(new Edge.End(srcNs, src, srcVersion), new Edge.End(dstNs, dst, dstVersion));
      String key = srcNs + "/" + src + "->" + dstNs + "/" + dst;
      return new EdgeRef(edge, edge.id(), key, key.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Refuses a name over the limit, and one holding a separator of edge ids and keys ({@code /}
     * between namespace, service and version, {@code ->} between the ends, {@code @} before a
     * window): with one, two different edges could have the same id and be counted as one
     * (issue 5, qatel17). Run once per edge interned, not per event.
     */
    private static void check(String field, String value) {
      if (value == null) {
        return;
      }
      if (value.length() > MAX_NAME_CHARS) {
        throw new IllegalArgumentException(field + ": " + value.length() + " characters (expected: at most "
            + MAX_NAME_CHARS + ")");
      }
      if (EdgeKeys.holdsSeparator(value)) {
        throw new IllegalArgumentException(field + ": '" + (value.length() <= 100 ? value
            : value.substring(0, 100) + "…") + "' (expected: " + EdgeKeys.EXPECTED_NAME + ")");
      }
    }
  }

  /** A byte range, as the key of interned edges; the probe is reused, stored keys own their bytes. */
  private static final class Span {
    byte[] bytes;
    int offset;
    int length;
    int hash;

    Span set(byte[] bytes, int offset, int length) {
      this.bytes = bytes;
      this.offset = offset;
      this.length = length;
      int h = 1;
      for (int i = offset, end = offset + length; i < end; i++) {
        h = 31 * h + bytes[i];
      }
      this.hash = h;
      return this;
    }

    Span copy() {
      Span s = new Span();
      s.bytes = Arrays.copyOfRange(bytes, offset, offset + length);
      s.offset = 0;
      s.length = length;
      s.hash = hash;
      return s;
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Span s && s.hash == hash
          && Arrays.equals(bytes, offset, offset + length, s.bytes, s.offset, s.offset + s.length);
    }
  }

  private final Map<Span, EdgeRef> edges = new HashMap<>();
  /**
   * The call of the record read last that is its loss report, or -1: reset once per record
   * (calls are reused, and an event's call is not cleared of the flag per event).
   */
  private int lossCall = -1;
  private final Span probe = new Span();
  /** The calls of the record read last: the first {@link #count}. */
  private Call[] calls = {new Call()};
  private int count;
  /** The record read last. */
  private byte[] record;
  /**
   * The workloads' bytes (offset and length in the record being read) of the distinct edges its
   * events have named so far, most recent first, and those edges: a batch's events are of one
   * edge, in a few versions (a canary split), so an event's edge is mostly found by comparing its
   * bytes with a handful of earlier events' — without hashing them and probing the interned
   * edges, which cost more than reading the rest of the event. At most {@value #RECENT_EDGES}.
   */
  static final int RECENT_EDGES = 8;
  private final int[] recentOffsets = new int[RECENT_EDGES];
  private final int[] recentLengths = new int[RECENT_EDGES];
  private final EdgeRef[] recentEdges = new EdgeRef[RECENT_EDGES];
  private int recent;

  // position in the record being read, and the six name fields' offsets and lengths
  private byte[] buf;
  /** Whether the events of the record read last (fast path) have {@code tcp} (the current schema). */
  private boolean withTcp = true;
  private int pos;
  private final int[] names = new int[12];

  /** Distinct response flags kept (Envoy has about 30 codes; a flag string may list several). */
  static final int MAX_CACHED_FLAGS = 64;
  private static final int MAX_CACHED_FLAG_BYTES = 32;
  private final byte[][] flagBytes = new byte[MAX_CACHED_FLAGS][];
  private final String[] flagStrings = new String[MAX_CACHED_FLAGS];
  private int cachedFlags;

  /**
   * Reads one record, all of its events or none: afterwards {@link #call}{@code (0..n-1)} are
   * its events in order, this reader's and overwritten by the next record read.
   *
   * @return the number of events, {@code n} (0 for a batch with none)
   * @throws RuntimeException with a message saying what is wrong if the bytes are not a
   *     readable {@code RequestEventBatch} or {@code RequestEvent} (the serde's
   *     {@code SerializationException}) or a name of a single event or of a loss report is
   *     longer than {@value #MAX_NAME_CHARS} characters ({@code IllegalArgumentException}); an
   *     event of a batch with such a name is read and marked instead ({@link Call#invalid},
   *     {@code events[i]: ...}), the batch's other events counted
   */
  int read(String topic, byte[] bytes) {
    record = bytes;
    count = 0;
    if (FAST_PATH && bytes.length > AvroSerde.HEADER_BYTES && (bytes[0] & 0xff) == 0xC3 && bytes[1] == 0x01) {
      long fingerprint = fingerprint(bytes);
      if (fingerprint == CURRENT_BATCH_FINGERPRINT || fingerprint == CURRENT_FINGERPRINT
          || fingerprint == BEFORE_TCP_BATCH_LAYOUT_FINGERPRINT || fingerprint == BEFORE_TCP_LAYOUT_FINGERPRINT
          || fingerprint == PREVIOUS_BATCH_LAYOUT_FINGERPRINT) {
        try {
          if (readFast(bytes)) {
            return count;
          }
        } catch (IndexOutOfBoundsException | IllegalStateException e) {
          // not readable here: the full decoding below says what is wrong
        }
      }
    }
    count = 0;
    return readSlow(topic, bytes);
  }

  /** The {@code i}-th event of the record read last ({@code i < } what {@link #read} returned). */
  Call call(int i) {
    if (i >= count) {
      throw new IndexOutOfBoundsException("event " + i + " of " + count);
    }
    return calls[i];
  }

  /**
   * The {@code i}-th event of the record read last as a record of its own, for a topic of this
   * value type: the record itself when it holds one event, else that event alone as a single
   * {@code RequestEvent} (its bytes as they were in the batch, behind the event's header).
   */
  byte[] eventBytes(int i) {
    Call c = call(i);
    if (count == 1) {
      return record;
    }
    if (c.lossReport) { // a loss-only record of it (a proxy never writes events beside one)
      if (c.decodedLoss != null) {
        return SERDE.encode(new RequestEventBatch(List.of(), c.decodedLoss));
      }
      byte[] lossOnly = Arrays.copyOf(BATCH_HEADER, AvroSerde.HEADER_BYTES + 1 + c.length);
      lossOnly[AvroSerde.HEADER_BYTES] = 0; // no events
      System.arraycopy(record, c.offset, lossOnly, AvroSerde.HEADER_BYTES + 1, c.length);
      return lossOnly;
    }
    if (c.decoded != null) {
      return EVENT_SERDE.encode(c.decoded);
    }
    byte[] single = Arrays.copyOf(withTcp ? EVENT_HEADER : BEFORE_TCP_EVENT_HEADER, AvroSerde.HEADER_BYTES + c.length);
    System.arraycopy(record, c.offset, single, AvroSerde.HEADER_BYTES, c.length);
    return single;
  }

  /** The next call to fill, reused from earlier records. */
  private Call next() {
    if (count == calls.length) {
      calls = Arrays.copyOf(calls, count * 2);
      for (int i = count; i < calls.length; i++) {
        calls[i] = new Call();
      }
    }
    Call call = calls[count++];
    call.invalid = null;
    return call;
  }

  /** The full Avro decoding of a record ({@link #read} when its fast path cannot read it). */
  int readSlow(String topic, byte[] bytes) {
    record = bytes;
    count = 0;
    clearLossCall();
    long fingerprint = bytes.length >= AvroSerde.HEADER_BYTES ? fingerprint(bytes) : 0;
    RequestEventBatch decoded = fingerprint == PREVIOUS_BATCH_LAYOUT_FINGERPRINT
        || fingerprint == BEFORE_TCP_BATCH_LAYOUT_FINGERPRINT ? decodePrevious(topic, bytes, PREVIOUS_BATCH_DECODER)
        : fingerprint == BEFORE_TCP_LAYOUT_FINGERPRINT ? batchOfOne(decodePrevious(topic, bytes, BEFORE_TCP_EVENT_DECODER))
        : SERDE.decode(topic, bytes);
    List<RequestEvent> events = decoded.getEvents();
    boolean batch = events.size() != 1
        || (fingerprint != CURRENT_FINGERPRINT && fingerprint != BEFORE_TCP_LAYOUT_FINGERPRINT);
    for (int i = 0; i < events.size(); i++) {
      int before = count;
      try {
        readSlow(events.get(i));
      } catch (IllegalArgumentException e) {
        if (!batch || count == before) { // a single event, or one without a call (no start time)
          throw batch ? new IllegalArgumentException("events[" + i + "]: " + e.getMessage(), e) : e;
        }
        Call bad = calls[before]; // read, but refused: this event alone is a dead letter
        bad.invalid = "events[" + i + "]: " + e.getMessage();
        bad.edge = null;
      }
    }
    if (decoded.getLossReport() != null) {
      readSlow(decoded.getLossReport());
    }
    return count;
  }

  private void clearLossCall() {
    if (lossCall >= 0) {
      calls[lossCall].lossReport = false;
      lossCall = -1;
    }
  }

  private static <T> T decodePrevious(String topic, byte[] bytes, BinaryMessageDecoder<T> decoder) {
    try {
      return decoder.decode(bytes);
    } catch (java.io.IOException | RuntimeException e) {
      long fingerprint = fingerprint(bytes);
      String what = fingerprint == PREVIOUS_BATCH_LAYOUT_FINGERPRINT
          ? RequestEventBatch.getClassSchema().getFullName() + " (before lossReport)"
          : fingerprint == BEFORE_TCP_BATCH_LAYOUT_FINGERPRINT
          ? RequestEventBatch.getClassSchema().getFullName() + " (before tcp)"
          : RequestEvent.getClassSchema().getFullName() + " (before tcp)";
      throw new org.apache.kafka.common.errors.SerializationException("cannot decode a " + what + " from "
          + topic + ": " + e.getMessage(), e);
    }
  }

  private static RequestEventBatch batchOfOne(RequestEvent event) {
    return RequestEventBatch.newBuilder().setEvents(List.of(event)).build();
  }

  private void readSlow(LossReport report) {
    Workload s = report.getSource();
    Workload d = report.getDestination();
    if (s == null || d == null || report.getReportedAt() == null) {
      throw new IllegalArgumentException("lossReport: source, destination and reportedAt required");
    }
    Call call = next();
    call.decoded = null;
    call.lossReport = true;
    lossCall = count - 1;
    call.decodedLoss = report;
    call.duplicate = true;
    try {
      call.edge = report.getLost() <= 0 ? null : EdgeRef.of(str(s.getNamespace()), str(s.getService()),
          str(s.getVersion()), str(d.getNamespace()), str(d.getService()), str(d.getVersion()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("lossReport: " + e.getMessage(), e);
    }
    call.reporter = report.getReporter();
    call.startMillis = report.getReportedAt().toEpochMilli();
    call.droppedBefore = report.getLost();
  }

  /**
   * {@code record} without its field {@code drop} (none if null) and, if {@code events} is not
   * null, with that as the schema of its {@code events} field: an earlier version of it.
   */
  private static Schema without(Schema record, String drop, Schema events) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : record.getFields()) {
      if (!f.name().equals(drop)) {
        fields.add(new Schema.Field(f, events != null && f.name().equals("events") ? events : f.schema()));
      }
    }
    return Schema.createRecord(record.getName(), record.getDoc(), record.getNamespace(), false, fields);
  }

  private static BinaryMessageDecoder<RequestEventBatch> previousBatchDecoder() {
    BinaryMessageDecoder<RequestEventBatch> d = new BinaryMessageDecoder<>(
        SpecificData.getForClass(RequestEventBatch.class), RequestEventBatch.getClassSchema());
    d.addSchema(BEFORE_TCP_BATCH_SCHEMA);
    d.addSchema(PREVIOUS_BATCH_SCHEMA);
    return d;
  }

  private static BinaryMessageDecoder<RequestEvent> beforeTcpEventDecoder() {
    BinaryMessageDecoder<RequestEvent> d = new BinaryMessageDecoder<>(
        SpecificData.getForClass(RequestEvent.class), RequestEvent.getClassSchema());
    d.addSchema(BEFORE_TCP_EVENT_SCHEMA);
    return d;
  }

  private static byte[] header(long fingerprint) {
    return java.nio.ByteBuffer.allocate(AvroSerde.HEADER_BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .put((byte) 0xC3).put((byte) 0x01).putLong(fingerprint).array();
  }

  private void readSlow(RequestEvent event) {
    if (event == null) {
      throw new IllegalArgumentException("event: missing");
    }
    if (event.getStartTime() == null) {
      throw new IllegalArgumentException("startTime: missing");
    }
    Workload s = event.getSource();
    Workload d = event.getDestination();
    Call call = next();
    call.decoded = event;
    call.duplicate = false;
    call.edge = EdgeRef.of(str(s.getNamespace()), str(s.getService()), str(s.getVersion()),
        str(d.getNamespace()), str(d.getService()), str(d.getVersion()));
    call.reporter = event.getReporter();
    call.responseCode = event.getResponseCode();
    call.responseFlags.clear();
    for (CharSequence flag : event.getResponseFlags()) {
      if (flag != null) {
        call.responseFlags.add(flag.toString());
      }
    }
    call.requestBytes = event.getRequestBytes();
    call.responseBytes = event.getResponseBytes();
    call.durationMicros = event.getDurationMicros();
    call.startMillis = EdgeAggregation.eventTime(event).toEpochMilli();
    call.droppedBefore = event.getDroppedBefore();
    TcpReport tcp = event.getTcp();
    call.tcp = tcp != null;
    call.tcpOpened = tcp != null && tcp.getOpened();
    call.tcpClosed = tcp != null && tcp.getClosed();
  }

  private static String str(CharSequence s) {
    return s == null ? null : s.toString();
  }

  /**
   * The fast path over a batch or a single event of the current schemas; false (or an
   * exception) when the bytes do not fit the layout.
   */
  boolean readFast(byte[] bytes) {
    buf = bytes;
    pos = AvroSerde.HEADER_BYTES;
    count = 0;
    clearLossCall();
    recent = 0;
    long fingerprint = fingerprint(bytes);
    withTcp = fingerprint == CURRENT_FINGERPRINT || fingerprint == CURRENT_BATCH_FINGERPRINT;
    if (fingerprint == CURRENT_FINGERPRINT || fingerprint == BEFORE_TCP_LAYOUT_FINGERPRINT) {
      return readEvent(-1) && pos == buf.length;
    }
    int index = 0;
    for (long n = readLong(); n != 0; n = readLong()) {
      if (n < 0) {
        n = -n;
        readLong(); // block size in bytes
      }
      if (n > buf.length - pos) { // every event takes more than a byte
        return false;
      }
      for (long i = 0; i < n; i++) {
        if (!readEvent(index++)) {
          return false;
        }
      }
    }
    if (fingerprint == PREVIOUS_BATCH_LAYOUT_FINGERPRINT) {
      return pos == buf.length; // no lossReport
    }
    int union = pos;
    long lossReport = readLong();
    if (lossReport == 0) { // null: every batch of events
      return pos == buf.length;
    }
    return lossReport == 1 && readLossReport(union) && pos == buf.length;
  }

  /**
   * Reads the {@code LossReport} after the union's branch index at {@code union} into the next
   * call; false when it does not fit the layout.
   */
  private boolean readLossReport(int union) {
    Call call = next();
    call.decoded = null;
    call.decodedLoss = null;
    call.lossReport = true;
    lossCall = count - 1;
    call.duplicate = true; // not a request
    call.offset = union;
    skipString(); // proxyId
    int reporter = readInt();
    if (reporter < 0 || reporter >= REPORTERS.length) {
      return false;
    }
    int workloads = pos;
    readWorkload(0);
    readWorkload(6);
    int workloadsEnd = pos;
    long lost = readLong();
    long reportedAtMicros = readLong();
    call.length = pos - union;
    call.reporter = REPORTERS[reporter];
    try {
      // a report of no loss folds nothing: its edge is not needed
      call.edge = lost <= 0 ? null : edge(workloads, workloadsEnd - workloads);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("lossReport: " + e.getMessage(), e);
    }
    call.startMillis = Math.floorDiv(reportedAtMicros, 1000);
    call.droppedBefore = lost;
    return true;
  }

  /**
   * Reads the event at the current position into the next call; false when it does not fit the
   * layout.
   *
   * @param index its index in its batch, or -1 for a single event (names the event in errors)
   */
  private boolean readEvent(int index) {
    Call call = next();
    call.decoded = null;
    call.offset = pos;
    skipString(); // requestId
    skipString(); // traceId
    int reporter = readInt();
    if (reporter < 0 || reporter >= REPORTERS.length) {
      return false;
    }
    skipString(); // proxyId
    int workloads = pos;
    readWorkload(0);
    readWorkload(6);
    int workloadsEnd = pos;
    for (int i = 0; i < 5; i++) {
      skipString(); // protocol, method, authority, path, route
    }
    int code = readInt();
    long grpc = readLong();
    if (grpc == 1) {
      readInt();
    } else if (grpc != 0) {
      return false;
    }
    call.responseFlags.clear();
    for (long n = readLong(); n != 0; n = readLong()) {
      if (n < 0) {
        n = -n;
        readLong(); // block size in bytes
      }
      for (long i = 0; i < n; i++) {
        int len = length();
        call.responseFlags.add(flag(len));
        pos += len;
      }
    }
    if (buf[pos++] > 1) { // mtls
      return false;
    }
    readInt(); // retries
    long requestBytes = readLong();
    long responseBytes = readLong();
    long duration = readLong();
    long startMicros = readLong();
    long dropped = readLong(); // droppedBefore
    // tcp: the union's index, 0 (null) for every request: one byte read and compared
    boolean tcp = withTcp && buf[pos++] != 0;
    if (tcp) {
      if (!readTcp(call)) {
        return false;
      }
      startMicros += duration; // a report counts at its own time, not its connection's start
    }
    call.tcp = tcp;
    call.length = pos - call.offset;
    call.reporter = REPORTERS[reporter];
    // Half of all events are destinations' duplicate reports, dropped once read: their edge is
    // not interned (hashing and comparing the workloads' bytes), unless one reports its proxy's
    // loss (rare), which counts. Names longer in bytes than the limit in characters still go
    // through the interning, whose check says what is wrong.
    call.duplicate = call.reporter == Reporter.DESTINATION && !sourceOutsideMesh() && namesWithinLimit();
    try {
      call.edge = call.duplicate && dropped <= 0 ? null : edge(workloads, workloadsEnd - workloads);
    } catch (IllegalArgumentException e) {
      if (index < 0) {
        throw e;
      }
      // read whole, but refused: this event alone is a dead letter, the batch's others count
      call.invalid = "events[" + index + "]: " + e.getMessage();
      call.edge = null;
    }
    call.responseCode = code;
    call.requestBytes = requestBytes;
    call.responseBytes = responseBytes;
    call.durationMicros = duration;
    call.startMillis = Math.floorDiv(startMicros, 1000);
    call.droppedBefore = dropped;
    return true;
  }

  private static final Reporter[] REPORTERS = Reporter.values();

  /**
   * The {@code TcpReport} of the union whose index byte is just behind the current position
   * into {@code call}; false when the index is not 1 (the record) or a boolean not 0 or 1.
   * Apart from {@link #readEvent} so that its HTTP path stays small.
   */
  private boolean readTcp(Call call) {
    if (buf[pos - 1] != 2) { // zig-zag 1
      return false;
    }
    byte opened = buf[pos++];
    byte closed = buf[pos++];
    if ((opened & ~1) != 0 || (closed & ~1) != 0) {
      return false;
    }
    call.tcpOpened = opened == 1;
    call.tcpClosed = closed == 1;
    return true;
  }

  /** workload, service, version, namespace, cluster, zone, principal (union null/string). */
  private void readWorkload(int slot) {
    skipString(); // workload
    name(slot + 2); // service
    name(slot + 4); // version
    name(slot); // namespace
    skipString(); // cluster
    skipString(); // zone
    long principal = readLong();
    if (principal == 1) {
      skipString();
    } else if (principal != 0) {
      throw new IllegalStateException("principal: union branch " + principal);
    }
  }

  /** The edge of the workloads whose bytes are at {@code offset}: one of the record's recent ones, else interned. */
  private EdgeRef edge(int offset, int length) {
    for (int i = 0; i < recent; i++) {
      int o = recentOffsets[i];
      if (recentLengths[i] == length && Arrays.equals(buf, offset, offset + length, buf, o, o + length)) {
        EdgeRef ref = recentEdges[i];
        if (i > 0) { // most recent first: the next event most likely names it again
          toFront(i, o, length, ref);
        }
        return ref;
      }
    }
    EdgeRef ref = edges.get(probe.set(buf, offset, length));
    if (ref == null) {
      ref = EdgeRef.of(string(0), string(2), string(4), string(6), string(8), string(10));
      if (edges.size() >= MAX_CACHED_EDGES) {
        edges.clear();
      }
      edges.put(probe.copy(), ref);
    }
    probe.bytes = null;
    int keep = Math.min(recent, RECENT_EDGES - 1); // the oldest goes when all are taken
    toFront(keep, offset, length, ref);
    recent = keep + 1;
    return ref;
  }

  /** Moves the first {@code n} recent edges one place back and puts this one first. */
  private void toFront(int n, int offset, int length, EdgeRef ref) {
    System.arraycopy(recentOffsets, 0, recentOffsets, 1, n);
    System.arraycopy(recentLengths, 0, recentLengths, 1, n);
    System.arraycopy(recentEdges, 0, recentEdges, 1, n);
    recentOffsets[0] = offset;
    recentLengths[0] = length;
    recentEdges[0] = ref;
  }

  /**
   * The response flag of {@code len} bytes at the current position: the same String for the same
   * bytes (flags are a handful of Envoy codes, and most events carry one), so reading one costs
   * no allocation. At most {@value #MAX_CACHED_FLAGS} short flags are kept.
   */
  private String flag(int len) {
    for (int i = 0; i < cachedFlags; i++) {
      byte[] b = flagBytes[i];
      if (b.length == len && Arrays.equals(b, 0, len, buf, pos, pos + len)) {
        return flagStrings[i];
      }
    }
    String flag = new String(buf, pos, len, StandardCharsets.UTF_8);
    if (cachedFlags < MAX_CACHED_FLAGS && len <= MAX_CACHED_FLAG_BYTES) {
      flagBytes[cachedFlags] = Arrays.copyOfRange(buf, pos, pos + len);
      flagStrings[cachedFlags++] = flag;
    }
    return flag;
  }

  private static final byte[] UNKNOWN = Edge.UNKNOWN.getBytes(StandardCharsets.UTF_8);

  /** Whether the source service just read is empty or {@code unknown} (see {@link Edge.End}). */
  private boolean sourceOutsideMesh() {
    int offset = names[2];
    int length = names[3];
    return length == 0 || Arrays.equals(buf, offset, offset + length, UNKNOWN, 0, UNKNOWN.length);
  }

  /** Whether each name just read has at most {@link #MAX_NAME_CHARS} bytes (so as many characters). */
  private boolean namesWithinLimit() {
    for (int slot = 1; slot < names.length; slot += 2) {
      if (names[slot] > MAX_NAME_CHARS) {
        return false;
      }
    }
    return true;
  }

  /** Records where the string at the current position starts and how long it is; skips it. */
  private void name(int slot) {
    int len = length();
    names[slot] = pos;
    names[slot + 1] = len;
    pos += len;
  }

  private String string(int slot) {
    return new String(buf, names[slot], names[slot + 1], StandardCharsets.UTF_8);
  }

  private void skipString() {
    int len = length(); // not "pos += length()": that adds to pos as it was before the length
    pos += len;
  }

  private int length() {
    long len = readLong();
    if (len < 0 || len > buf.length - pos) {
      throw new IllegalStateException("length " + len + " at " + pos);
    }
    return (int) len;
  }

  private int readInt() {
    long v = readLong();
    if (v != (int) v) {
      throw new IllegalStateException("int out of range");
    }
    return (int) v;
  }

  /**
   * An Avro long: zig-zag varint. One byte (most lengths, counts, enums and codes) here; longer
   * ones in {@link #readLongSlow}, kept apart so that this stays small enough to be inlined at
   * each of an event's ~30 reads (unrolling the two- and three-byte cases here measured no faster).
   */
  private long readLong() {
    byte first = buf[pos];
    if (first >= 0) {
      pos++;
      return (first >>> 1) ^ -(first & 1);
    }
    return readLongSlow();
  }

  /** A varint of more than one byte; see {@link #readLong}. */
  private long readLongSlow() {
    long raw = 0;
    int shift = 0;
    byte b;
    do {
      if (shift > 63) {
        throw new IllegalStateException("varint too long");
      }
      b = buf[pos++];
      raw |= (long) (b & 0x7f) << shift;
      shift += 7;
    } while (b < 0);
    return (raw >>> 1) ^ -(raw & 1);
  }

  private static long fingerprint(byte[] bytes) {
    long f = 0;
    for (int i = 9; i >= 2; i--) {
      f = (f << 8) | (bytes[i] & 0xff);
    }
    return f;
  }
}
