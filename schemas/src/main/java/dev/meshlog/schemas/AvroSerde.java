package dev.meshlog.schemas;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for one generated Avro record type, in Avro's
 * <a href="https://avro.apache.org/docs/1.12.0/specification/#single-object-encoding">single-object
 * encoding</a>: two marker bytes {@code C3 01}, the writer schema's 8-byte CRC-64-AVRO fingerprint
 * (little-endian), then the Avro binary body.
 *
 * <p>Any reader can tell which schema wrote a record from its first ten bytes. This serde decodes
 * records written with the current schema or with any released version it knows (the baselines
 * under {@code meshlog/schemas/releases/}), resolving them to the current schema; a record of a
 * schema it does not know (a newer writer's) is decoded if the {@link SchemaRegistry} holds that
 * schema, its new fields dropped. Every failure
 * to decode, whether a foreign, truncated or corrupt record, becomes a {@link SerializationException} that
 * names the topic and says what was wrong; decoding never allocates more than Avro's limits allow
 * (see {@link AvroLimits}).
 *
 * @param <T> the generated record type
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

  /** Length of the single-object encoding header: marker (2) + fingerprint (8). */
  public static final int HEADER_BYTES = 10;

  static {
    AvroLimits.install();
  }

  private final Class<T> type;
  private final Schema schema;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;
  /** Where this serde looks up a fingerprint it does not know, or null for the process's. */
  private final SchemaStore registry;
  /** Another record type this serde also reads (see {@link #readingAlso}), or null. */
  private final Alternative<?, T> alternative;

  private AvroSerde(Class<T> type, Schema schema, List<Schema> olderVersions,
                    Alternative<?, T> alternative, SchemaStore registry) {
    this.type = type;
    this.schema = schema;
    this.registry = registry;
    SpecificData model = SpecificData.getForClass(type);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    SchemaStore.Cache released = new SchemaStore.Cache();
    olderVersions.forEach(released::addSchema);
    // Avro's decoder asks the store only for a fingerprint it has no resolver for yet (then
    // keeps one): the current schema and the released ones are known up front, so only a
    // record of a schema newer than this build's reaches the registry, once per fingerprint.
    SchemaStore store = fingerprint -> {
      Schema known = released.findByFingerprint(fingerprint);
      if (known != null) {
        return known;
      }
      SchemaStore fallback = this.registry != null ? this.registry : SchemaRegistry.installed();
      Schema writer = fallback == null ? null : fallback.findByFingerprint(fingerprint);
      // Avro resolves a record by its fields, not its name: a registered schema of another
      // type is not this type's, whatever the record's header says.
      return writer != null && writer.getFullName().equals(schema.getFullName()) ? writer : null;
    };
    this.decoder = new BinaryMessageDecoder<>(model, schema, store);
    this.alternative = alternative;
  }

  /** A record of another type, recognised by its fingerprints and converted to {@code T}. */
  private record Alternative<U extends SpecificRecord, T>(AvroSerde<U> serde, Set<Long> fingerprints,
                                                          Function<U, T> convert) {
    T decode(String topic, byte[] data) {
      return convert.apply(serde.decode(topic, data));
    }
  }

  /**
   * A serde for {@code type}, able to read every released version of its schema.
   *
   * @param type a class generated from an {@code .avsc} in this module
   */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
    Schema schema = SpecificData.get().getSchema(Objects.requireNonNull(type, "type"));
    return new AvroSerde<>(type, schema, SchemaHistory.releasedVersionsOf(schema.getFullName()),
        null, null);
  }

  /**
   * This serde, looking up fingerprints it does not know in {@code registry} instead of the
   * registry {@linkplain SchemaRegistry#install installed} in the process (for tests, and for
   * a reader of another cluster's topics).
   */
  public AvroSerde<T> withRegistry(SchemaStore registry) {
    return new AvroSerde<>(type, schema, SchemaHistory.releasedVersionsOf(schema.getFullName()),
        alternative, Objects.requireNonNull(registry, "registry"));
  }

  /**
   * This serde, also reading records of another type — the value a topic held before its value
   * type changed — and converting them, e.g. a single {@code RequestEvent} into a batch of one.
   * Which type wrote a record is told by its fingerprint (the current one of {@code older}'s
   * schema or any released one); it always writes {@code T}.
   *
   * @param older the other generated record type
   * @param convert turns one of its records into a {@code T}
   */
  public <U extends SpecificRecord> AvroSerde<T> readingAlso(Class<U> older,
                                                             Function<U, T> convert) {
    AvroSerde<U> serde = of(older);
    Set<Long> fingerprints = Stream.concat(Stream.of(serde.schema),
            SchemaHistory.releasedVersionsOf(serde.schema.getFullName()).stream())
        .map(SchemaNormalization::parsingFingerprint64).collect(Collectors.toUnmodifiableSet());
    return new AvroSerde<>(type, schema, SchemaHistory.releasedVersionsOf(schema.getFullName()),
        new Alternative<>(serde, fingerprints, Objects.requireNonNull(convert, "convert")),
        registry);
  }

  /** The current (writer) schema. */
  public Schema schema() {
    return schema;
  }

  /** The CRC-64-AVRO fingerprint of the current schema, as written in every record's header. */
  public long fingerprint() {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  /** Encodes one record; {@code null} stays {@code null} (a tombstone). */
  public byte[] encode(T value) {
    if (value == null) {
      return null;
    }
    try {
      ByteBuffer buffer = encoder.encode(value);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      throw new SerializationException(
          "cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Decodes one record.
   *
   * @param topic the topic it came from, for error messages (may be null)
   * @throws SerializationException if the bytes are not a record this serde can read
   */
  public T decode(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    String where = (topic == null ? "" : topic + ": ") + type.getSimpleName();
    if (data.length < HEADER_BYTES) {
      throw new SerializationException(where + ": record of " + data.length
          + " bytes is shorter than the " + HEADER_BYTES + "-byte single-object header");
    }
    if ((data[0] & 0xff) != 0xC3 || (data[1] & 0xff) != 0x01) {
      throw new SerializationException(String.format(
          "%s: not Avro single-object encoding (expected marker C3 01, found %02X %02X)",
          where, data[0] & 0xff, data[1] & 0xff));
    }
    if (alternative != null && alternative.fingerprints().contains(fingerprintOf(data))) {
      return alternative.decode(topic, data);
    }
    try {
      return decoder.decode(data);
    } catch (MissingSchemaException e) {
      throw new SerializationException(String.format(
          "%s: written with unknown schema fingerprint %016x (this reader knows %s)",
          where, fingerprintOf(data), knownFingerprints()), e);
    } catch (BadHeaderException e) {
      throw new SerializationException(where + ": bad header: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new SerializationException(where + ": truncated or corrupt record of " + data.length
          + " bytes: " + describe(e), e);
    } catch (RuntimeException e) {
      // Avro signals corrupt input with assorted runtime exceptions (AvroRuntimeException,
      // UnsupportedOperationException for over-limit lengths, IndexOutOfBounds, ...).
      throw new SerializationException(where + ": corrupt record of " + data.length + " bytes: "
          + describe(e), e);
    }
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : " (" + message + ")");
  }

  private static long fingerprintOf(byte[] data) {
    return ByteBuffer.wrap(data, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
  }

  private String knownFingerprints() {
    StringBuilder sb = new StringBuilder(String.format("%016x", fingerprint()));
    for (Schema older : SchemaHistory.releasedVersionsOf(schema.getFullName())) {
      sb.append(", ").append(String.format("%016x",
          SchemaNormalization.parsingFingerprint64(older)));
    }
    if (alternative != null) {
      alternative.fingerprints().stream().sorted()
          .forEach(f -> sb.append(", ").append(String.format("%016x", f)));
      sb.append(" (").append(alternative.serde().type.getSimpleName()).append(')');
    }
    return sb.toString();
  }

  @Override
  public Serializer<T> serializer() {
    return (topic, value) -> encode(value);
  }

  @Override
  public Deserializer<T> deserializer() {
    return this::decode;
  }

  @Override
  public String toString() {
    return "AvroSerde[" + type.getSimpleName() + "]";
  }
}
