package dev.meshlog.config.controlplane;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.schemas.AvroSerde;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What the control plane keeps of the last view it published for a host: its version, whether it
 * was a removal, the service and namespace (for a removal's record), and a SHA-256 of its content
 * (everything but version, generation time and trigger) — enough to tell whether a newly compiled
 * view differs and which version comes next, in ~70 bytes of changelog instead of the whole view.
 *
 * @param version the published version (versions only grow)
 * @param removed the published record said the host is gone
 * @param service the view's service
 * @param namespace the view's namespace
 * @param contentHash SHA-256 of {@link #content(ServiceView)}'s encoding (32 bytes)
 */
public record ViewStamp(long version, boolean removed, String service, String namespace,
                        byte[] contentHash) {

  private static final AvroSerde<ServiceView> VIEW_SERDE = AvroSerde.of(ServiceView.class);
  private static final int HASH_BYTES = 32;
  /** Marks the stamp encoding; a stored {@link ServiceView} (the old format) starts C3 01. */
  private static final byte MAGIC_0 = 'M';
  private static final byte MAGIC_1 = 'V';
  private static final byte FORMAT = 1;

  public ViewStamp {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(namespace, "namespace");
    if (contentHash == null || contentHash.length != HASH_BYTES) {
      throw new IllegalArgumentException("contentHash: "
          + (contentHash == null ? "null" : contentHash.length + " bytes")
          + " (expected: " + HASH_BYTES + " bytes, SHA-256)");
    }
    contentHash = contentHash.clone();
  }

  /** The stamp of a published (versioned) view. */
  public static ViewStamp of(ServiceView published) {
    return new ViewStamp(published.getVersion(), published.getRemoved(),
        String.valueOf(published.getService()), String.valueOf(published.getNamespace()),
        contentHash(published));
  }

  /**
   * The stamp of a published view whose content hash is already known ({@link
   * #contentHash(ServiceView)} of the view before versioning: the hash ignores version, time and
   * trigger), so publishing hashes a view once, not once to compare and again to stamp.
   */
  static ViewStamp of(ServiceView published, byte[] contentHash) {
    return new ViewStamp(published.getVersion(), published.getRemoved(),
        String.valueOf(published.getService()), String.valueOf(published.getNamespace()),
        contentHash);
  }

  /** Whether {@code view} has the content this stamp was taken of (version etc. aside). */
  public boolean sameContent(ServiceView view) {
    return sameContent(contentHash(view));
  }

  /** Whether a view with this {@link #contentHash(ServiceView) content hash} has this stamp's content. */
  boolean sameContent(byte[] otherContentHash) {
    return MessageDigest.isEqual(contentHash, otherContentHash);
  }

  /** The view with the fields that change on every publication set to fixed values. */
  static ServiceView content(ServiceView view) {
    ServiceView copy = ServiceView.newBuilder(view).build();
    clearPublication(copy);
    return copy;
  }

  /** Sets the fields that change on every publication (version, time, trigger) to fixed values. */
  private static void clearPublication(ServiceView view) {
    view.setVersion(0);
    view.setGeneratedAt(Instant.EPOCH);
    view.setTriggeredBy(null);
  }

  static byte[] contentHash(ServiceView view) {
    return hashOfContent(content(view));
  }

  /**
   * {@link #contentHash(ServiceView)} of a view its caller owns, without copying it: sets the
   * fields that change on every publication to {@link #content}'s fixed values in place, then
   * hashes. For the publisher, whose freshly compiled view is hashed once and then versioned
   * (Avro's deep copy of the whole view for each was ~5% of the stream thread's profile samples
   * during the benchmark's applies).
   */
  static byte[] contentHashInPlace(ServiceView owned) {
    return contentInPlace(owned).hash();
  }

  /**
   * {@link #contentHashInPlace} with the size of the encoding it hashed: what the view's record
   * will weigh, but for the few bytes of its version, time and trigger.
   */
  static Content contentInPlace(ServiceView owned) {
    clearPublication(owned);
    byte[] encoded = VIEW_SERDE.encode(owned);
    return new Content(sha256(encoded), encoded.length);
  }

  /**
   * A view's content hash and encoded size.
   *
   * @param hash SHA-256 of the content's encoding
   * @param bytes the encoding's length
   */
  record Content(byte[] hash, int bytes) {
  }

  private static byte[] hashOfContent(ServiceView content) {
    return sha256(VIEW_SERDE.encode(content));
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  @Override
  public byte[] contentHash() {
    return contentHash.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ViewStamp s && version == s.version && removed == s.removed
        && service.equals(s.service) && namespace.equals(s.namespace)
        && Arrays.equals(contentHash, s.contentHash);
  }

  @Override
  public int hashCode() {
    return Objects.hash(version, removed, service, namespace, Arrays.hashCode(contentHash));
  }

  @Override
  public String toString() {
    return "ViewStamp[version=" + version + ", removed=" + removed + ", service=" + service
        + ", namespace=" + namespace + "]";
  }

  /**
   * The store's serde: writes stamps; reads stamps and, for state written before stamps, whole
   * {@link ServiceView} records (Avro single-object encoding), which it turns into their stamps —
   * so a control plane upgraded over an old {@code discovery-views} changelog keeps counting
   * versions from where it was.
   */
  public static Serde<ViewStamp> serde() {
    return Serdes.serdeFrom(SERIALIZER, DESERIALIZER);
  }

  private static final Serializer<ViewStamp> SERIALIZER = (topic, stamp) -> {
    if (stamp == null) {
      return null;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(MAGIC_0);
      out.writeByte(MAGIC_1);
      out.writeByte(FORMAT);
      out.writeLong(stamp.version);
      out.writeBoolean(stamp.removed);
      out.writeUTF(stamp.service);
      out.writeUTF(stamp.namespace);
      out.write(stamp.contentHash);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  };

  private static final Deserializer<ViewStamp> DESERIALIZER = (topic, data) -> {
    if (data == null) {
      return null;
    }
    String where = (topic == null ? "" : topic + ": ") + "view stamp";
    if (data.length >= 2 && (data[0] & 0xff) == 0xC3 && (data[1] & 0xff) == 0x01) {
      return of(VIEW_SERDE.decode(topic, data));
    }
    if (data.length < 3 || data[0] != MAGIC_0 || data[1] != MAGIC_1) {
      throw new SerializationException(where + ": record of " + data.length
          + " bytes starts with neither 'MV' (a stamp) nor C3 01 (a whole view)");
    }
    if (data[2] != FORMAT) {
      throw new SerializationException(where + ": format " + data[2] + " (expected: " + FORMAT
          + "; written by a newer Meshlog?)");
    }
    try (DataInputStream in = new DataInputStream(
        new java.io.ByteArrayInputStream(data, 3, data.length - 3))) {
      long version = in.readLong();
      boolean removed = in.readBoolean();
      String service = in.readUTF();
      String namespace = in.readUTF();
      byte[] hash = new byte[HASH_BYTES];
      in.readFully(hash);
      if (in.available() != 0) {
        throw new SerializationException(where + ": " + in.available()
            + " bytes after the content hash (expected: none)");
      }
      return new ViewStamp(version, removed, service, namespace, hash);
    } catch (IOException e) {
      throw new SerializationException(where + ": truncated record of " + data.length + " bytes ("
          + new String(data, 0, Math.min(data.length, 2), StandardCharsets.ISO_8859_1) + "...)", e);
    }
  };
}
