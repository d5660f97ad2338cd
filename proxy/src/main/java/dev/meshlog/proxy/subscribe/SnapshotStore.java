package dev.meshlog.proxy.subscribe;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.schemas.Topics;

/**
 * The last good set of views on disk, so a proxy that starts while Kafka is unreachable serves
 * what it served before. Views are kept as the topic encodes them (Avro single-object encoding,
 * readable across schema versions); a file is replaced atomically. Call from a non-event-loop
 * thread: this is blocking disk I/O.
 */
public final class SnapshotStore {

  private static final byte[] MAGIC = "MESHLOG-VIEWS-1\n".getBytes(StandardCharsets.US_ASCII);
  /** A view larger than this in the file is taken as corruption. */
  private static final int MAX_VIEW_BYTES = 64 * 1024 * 1024;

  private final Path file;

  /** A store keeping its file at {@code file}. */
  public SnapshotStore(Path file) {
    this.file = file;
  }

  /** Where the views are kept. */
  public Path file() {
    return file;
  }

  /** Replaces the stored views with {@code views}. */
  public void save(Collection<ServiceView> views) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try (OutputStream raw = Files.newOutputStream(tmp);
         DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(raw))) {
      out.write(MAGIC);
      out.writeInt(views.size());
      for (ServiceView v : views) {
        byte[] bytes = Topics.DISCOVERY_VIEWS.serializeValue(v);
        out.writeInt(bytes.length);
        out.write(bytes);
      }
    }
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  /**
   * The stored views; empty when there is no file. A file that ends early (cut short by a full
   * disk or a copy) is refused as {@code truncated at byte N}, one whose bytes are all there but
   * do not read as views as {@code corrupt}; either way the message names the file, the view and
   * the byte offset.
   */
  public List<ServiceView> load() throws IOException {
    if (!Files.exists(file)) {
      return List.of();
    }
    try (InputStream raw = Files.newInputStream(file);
         DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw))) {
      long at = 0;
      byte[] magic = in.readNBytes(MAGIC.length);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        if (magic.length < MAGIC.length
            && java.util.Arrays.equals(magic, java.util.Arrays.copyOf(MAGIC, magic.length))) {
          throw truncated(magic.length, "in the header");
        }
        throw new IOException(file + ": not a Meshlog views file (bad header)");
      }
      at += MAGIC.length;
      byte[] word = new byte[4];
      int counted = in.readNBytes(word, 0, 4);
      if (counted < 4) {
        throw truncated(at + counted, "in the view count");
      }
      int count = java.nio.ByteBuffer.wrap(word).getInt();
      if (count < 0) {
        throw new IOException(file + ": corrupt at byte " + at + ": view count " + count
            + " (expected: >= 0)");
      }
      at += 4;
      List<ServiceView> views = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String which = "view " + (i + 1) + " of " + count;
        int got = in.readNBytes(word, 0, 4);
        if (got < 4) {
          throw truncated(at + got, "before " + which);
        }
        int len = java.nio.ByteBuffer.wrap(word).getInt();
        if (len < 0 || len > MAX_VIEW_BYTES) {
          throw new IOException(file + ": corrupt " + which + " at byte " + at + ": length "
              + len + " (expected: 0.." + MAX_VIEW_BYTES + ")");
        }
        byte[] bytes = in.readNBytes(len);
        if (bytes.length < len) {
          throw truncated(at + 4 + bytes.length, "inside " + which + " (" + len
              + " bytes from byte " + (at + 4) + ", " + bytes.length + " present)");
        }
        try {
          views.add(Topics.DISCOVERY_VIEWS.deserializeValue(bytes));
        } catch (RuntimeException e) {
          throw new IOException(file + ": corrupt " + which + " at byte " + at + " ("
              + e.getMessage() + ")", e);
        }
        at += 4 + len;
      }
      return views;
    }
  }

  private IOException truncated(long at, String where) {
    return new IOException(file + ": truncated at byte " + at + ", " + where);
  }
}
