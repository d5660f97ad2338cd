package dev.meshlog.config.gitops;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.meshlog.config.resource.ParsedDocument;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.ObjectId;

/**
 * The documents parsed from git blobs, by blob id and file path, least recently used first out
 * once their text passes a bound. A blob's content never changes, so a file no commit touched
 * is parsed once, not at every commit that reads the files beside the ones it changed; the
 * path is part of the key because it is part of what a parse returns (each document's source,
 * the file of each problem). The documents are immutable. Not thread-safe: one bridge's syncs
 * run one at a time.
 */
final class ParsedBlobs {

  /**
   * The default bound on the text of the blobs kept: 16 MiB, thousands of config files; their
   * parsed trees take a few times that on the heap.
   */
  static final long DEFAULT_MAX_BYTES = 16L << 20;

  /** What an entry counts for at least: a file of a few bytes still costs its objects. */
  private static final long MIN_ENTRY_BYTES = 256;

  private record Key(ObjectId blob, String file) {}

  private record Entry(List<ParsedDocument> documents, long bytes) {}

  private final long maxBytes;
  private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
  private long bytes;
  private long hits;
  private long misses;

  /** A cache that keeps at most {@code maxBytes} of blob text (0: keeps nothing). */
  ParsedBlobs(long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: 0 or more)");
    }
    this.maxBytes = maxBytes;
  }

  /** A cache that keeps nothing: every read parses. */
  static ParsedBlobs none() {
    return new ParsedBlobs(0);
  }

  /** The documents of {@code blob} at {@code file}, if parsed and kept; counts a hit or a miss. */
  List<ParsedDocument> get(AnyObjectId blob, String file) {
    Entry entry = entries.get(new Key(blob.toObjectId(), file));
    if (entry == null) {
      misses++;
      return null;
    }
    hits++;
    return entry.documents();
  }

  /** Keeps what {@code blob} at {@code file} parsed to; {@code textBytes} is the blob's size. */
  void put(AnyObjectId blob, String file, List<ParsedDocument> documents, long textBytes) {
    long weight = Math.max(textBytes, MIN_ENTRY_BYTES);
    if (weight > maxBytes) {
      return;
    }
    Entry previous = entries.put(new Key(blob.copy(), file), new Entry(List.copyOf(documents), weight));
    bytes += weight - (previous == null ? 0 : previous.bytes());
    Iterator<Map.Entry<Key, Entry>> eldest = entries.entrySet().iterator();
    while (bytes > maxBytes && eldest.hasNext()) {
      bytes -= eldest.next().getValue().bytes();
      eldest.remove();
    }
  }

  /** How many reads found their blob parsed. */
  long hits() {
    return hits;
  }

  /** How many reads had to parse. */
  long misses() {
    return misses;
  }

  /** How many blobs are kept. */
  int size() {
    return entries.size();
  }
}
