package dev.meshlog.telemetry;

import java.time.Instant;
import java.util.List;

import dev.meshlog.events.telemetry.LossReport;
import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.events.telemetry.Workload;
import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.schemas.Topics;

/** Request events for tests. */
final class Requests {

  private Requests() {}

  static Workload workload(String namespace, String service, String version) {
    return Workload.newBuilder().setNamespace(namespace).setService(service).setVersion(version)
        .setWorkload(service + "-" + version).build();
  }

  /** A request from {@code src} (namespace {@code ns}) to {@code dst}, both in {@code ns}. */
  static RequestEvent request(String ns, String src, String srcVersion, String dst, String dstVersion,
                              int code, double latencyMillis, Instant start, String... flags) {
    return RequestEvent.newBuilder()
        .setReporter(Reporter.SOURCE)
        .setSource(workload(ns, src, srcVersion))
        .setDestination(workload(ns, dst, dstVersion))
        .setMethod("GET").setPath("/").setProtocol("http")
        .setResponseCode(code)
        .setResponseFlags(List.of(flags))
        .setRequestBytes(100).setResponseBytes(1000)
        .setDurationMicros(Math.round(latencyMillis * 1000))
        .setStartTime(start)
        .build();
  }

  /** The serde of one event, as releases before batching wrote {@code mesh.telemetry.requests}. */
  static final AvroSerde<RequestEvent> SINGLE = AvroSerde.of(RequestEvent.class);

  /** {@code e} as releases before batching wrote it: a single {@code RequestEvent}. */
  static byte[] single(RequestEvent e) {
    return SINGLE.encode(e);
  }

  /** A batch of {@code events}, as proxies write them. */
  static RequestEventBatch batch(List<RequestEvent> events) {
    return RequestEventBatch.newBuilder().setEvents(events).build();
  }

  /** A batch of {@code events} as on the topic. */
  static byte[] batchBytes(List<RequestEvent> events) {
    return Topics.TELEMETRY_REQUESTS.serializeValue(batch(events));
  }

  /**
   * {@code e} as release 0.1.0 wrote a single event: its schema (no {@code droppedBefore}) and
   * that schema's fingerprint in the header.
   */
  static byte[] asRelease010(RequestEvent e) throws java.io.IOException {
    org.apache.avro.Schema released;
    try (java.io.InputStream in = Requests.class.getResourceAsStream(
        "/meshlog/schemas/releases/0.1.0/dev.meshlog.events.telemetry.RequestEvent.avsc")) {
      released = new org.apache.avro.Schema.Parser().parse(in);
    }
    byte[] current = single(e);
    org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericDatumReader<org.apache.avro.generic.GenericRecord>(
        RequestEvent.getClassSchema(), released).read(null, org.apache.avro.io.DecoderFactory.get()
        .binaryDecoder(current, AvroSerde.HEADER_BYTES, current.length - AvroSerde.HEADER_BYTES, null));
    java.nio.ByteBuffer buffer = new org.apache.avro.message.BinaryMessageEncoder<org.apache.avro.generic.GenericRecord>(
        org.apache.avro.generic.GenericData.get(), released).encode(old);
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  /**
   * A loss report of the proxy on {@code reporter}'s side of {@code src -> dst} (both in
   * {@code ns}): {@code lost} events, reported at {@code at}.
   */
  static LossReport lossReport(String ns, String src, String srcVersion, String dst, String dstVersion,
                               Reporter reporter, long lost, Instant at) {
    return LossReport.newBuilder().setProxyId(reporter == Reporter.DESTINATION ? dst : src)
        .setReporter(reporter).setSource(workload(ns, src, srcVersion))
        .setDestination(workload(ns, dst, dstVersion)).setLost(lost).setReportedAt(at).build();
  }

  /** A loss-only record of {@code report}, as proxies write it: no events. */
  static RequestEventBatch lossOnly(LossReport report) {
    return RequestEventBatch.newBuilder().setEvents(List.of()).setLossReport(report).build();
  }

  /** The key proxies give a loss-only record: its edge's. */
  static String key(LossReport r) {
    return r.getSource().getNamespace() + "/" + r.getSource().getService() + "->"
        + r.getDestination().getNamespace() + "/" + r.getDestination().getService();
  }

  /**
   * A batch of {@code events} as proxies wrote it before the loss report: the schema with
   * {@code events} (of events before {@code tcp}) alone (its fingerprint in the header), so no
   * union after the array.
   */
  static byte[] asBatchBeforeLossReport(List<RequestEvent> events) {
    return reencode(batchBytes(events), RequestEventBatch.getClassSchema(), RequestReader.PREVIOUS_BATCH_SCHEMA);
  }

  /** A batch of {@code events} as proxies wrote it before {@code tcp}: with {@code lossReport}, events without {@code tcp}. */
  static byte[] asBatchBeforeTcp(RequestEventBatch batch) {
    return reencode(Topics.TELEMETRY_REQUESTS.serializeValue(batch), RequestEventBatch.getClassSchema(),
        RequestReader.BEFORE_TCP_BATCH_SCHEMA);
  }

  /** {@code e} as proxies wrote a single event before {@code tcp} (with {@code droppedBefore}). */
  static byte[] asEventBeforeTcp(RequestEvent e) {
    return reencode(single(e), RequestEvent.getClassSchema(), RequestReader.BEFORE_TCP_EVENT_SCHEMA);
  }

  /** {@code current} (single-object bytes of {@code writer}) written with the older schema {@code older}. */
  private static byte[] reencode(byte[] current, org.apache.avro.Schema writer, org.apache.avro.Schema older) {
    try {
      org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericDatumReader<org.apache.avro.generic.GenericRecord>(
          writer, older).read(null, org.apache.avro.io.DecoderFactory.get()
          .binaryDecoder(current, AvroSerde.HEADER_BYTES, current.length - AvroSerde.HEADER_BYTES, null));
      java.nio.ByteBuffer buffer = new org.apache.avro.message.BinaryMessageEncoder<org.apache.avro.generic.GenericRecord>(
          org.apache.avro.generic.GenericData.get(), older).encode(old);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * A TCP connection report from {@code src} to {@code dst} (both in {@code ns}) by the source's
   * proxy: the connection opened at {@code opened} and had been open {@code openMillis} at this
   * report, {@code received} bytes from the client and {@code sent} back since the previous one.
   */
  static RequestEvent tcp(String ns, String src, String srcVersion, String dst, String dstVersion, Instant opened,
                          long openMillis, boolean first, boolean last, long received, long sent, String... flags) {
    return RequestEvent.newBuilder(request(ns, src, srcVersion, dst, dstVersion, 0, openMillis, opened, flags))
        .setProtocol("tcp").setMethod("").setPath("")
        .setRequestBytes(received).setResponseBytes(sent)
        .setTcp(dev.meshlog.events.telemetry.TcpReport.newBuilder().setOpened(first).setClosed(last).build())
        .build();
  }

  /** The topic key proxies use: {@code srcNs/src->dstNs/dst}. */
  static String key(RequestEvent e) {
    return e.getSource().getNamespace() + "/" + e.getSource().getService() + "->"
        + e.getDestination().getNamespace() + "/" + e.getDestination().getService();
  }
}
