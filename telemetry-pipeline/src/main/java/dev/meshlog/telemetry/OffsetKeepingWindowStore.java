package dev.meshlog.telemetry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.TimestampedBytesStore;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A RocksDB window store that still has its changelog offset after a clean close when it holds
 * no segment.
 *
 * <p>Since Kafka 4.3 (KIP-1035) a persistent store keeps its changelog offset inside itself; a
 * segmented (window) store writes it into each of its open segments, one RocksDB each, and a
 * window store that was never written to in its task has no segment, so nowhere to keep it.
 * On the next start, under exactly-once, Kafka Streams then finds a store without an offset in
 * a task directory that is not empty (its other stores are there), treats the whole task as
 * corrupted, wipes it and restores every store of it from the changelogs — after every clean
 * restart, for every task whose window store is empty (Kafka 4.3.1, README: Restarts).
 *
 * <p>This store delegates everything to the store Kafka Streams builds
 * ({@code Stores.persistentTimestampedWindowStore}) and keeps, besides, the offsets of its last
 * commit; when it closes (after the delegate has closed and so flushed its segments) it writes
 * them to {@code <task dir>/<store>.offsets}, and when it opens it reads that file and deletes
 * it at once, so that a process that dies without closing leaves none: Kafka Streams' own
 * {@code .checkpoint} rule before 4.3. The delegate's offset wins whenever it has one; the file
 * only answers for a store with no segment, which by then holds nothing a changelog record
 * before that offset could restore (none was written, or all of them have expired).
 */
final class OffsetKeepingWindowStore implements WindowStore<Bytes, byte[]>, TimestampedBytesStore {

  private static final Logger LOG = LoggerFactory.getLogger(OffsetKeepingWindowStore.class);
  private static final String SUFFIX = ".offsets";

  private final WindowStore<Bytes, byte[]> delegate;
  private final Map<TopicPartition, Long> offsets = new HashMap<>();
  private Path file;

  private OffsetKeepingWindowStore(WindowStore<Bytes, byte[]> delegate) {
    this.delegate = delegate;
  }

  /**
   * {@code inner}'s stores, each keeping its offsets across a clean close.
   *
   * @throws IllegalArgumentException if {@code inner} does not make timestamped persistent stores
   */
  static WindowBytesStoreSupplier supplier(WindowBytesStoreSupplier inner) {
    return new WindowBytesStoreSupplier() {
      @Override
      public String name() {
        return inner.name();
      }

      @Override
      public WindowStore<Bytes, byte[]> get() {
        WindowStore<Bytes, byte[]> store = inner.get();
        if (!(store instanceof TimestampedBytesStore) || !store.persistent()) {
          throw new IllegalArgumentException("store " + inner.name() + ": " + store.getClass().getName()
              + " (expected: a persistent timestamped window store)");
        }
        return new OffsetKeepingWindowStore(store);
      }

      @Override
      public String metricsScope() {
        return inner.metricsScope();
      }

      @Override
      public long segmentIntervalMs() {
        return inner.segmentIntervalMs();
      }

      @Override
      public long windowSize() {
        return inner.windowSize();
      }

      @Override
      public boolean retainDuplicates() {
        return inner.retainDuplicates();
      }

      @Override
      public long retentionPeriod() {
        return inner.retentionPeriod();
      }
    };
  }

  @Override
  public void init(StateStoreContext context, StateStore root) {
    file = context.stateDir().toPath().resolve(name() + SUFFIX);
    offsets.clear();
    offsets.putAll(read(file));
    try {
      // From here on only a clean close writes it again: a crash leaves no offsets behind.
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new ProcessorStateException("store " + name() + ": cannot delete " + file, e);
    }
    delegate.init(context, root);
  }

  @Override
  public void commit(Map<TopicPartition, Long> changelogOffsets) {
    delegate.commit(changelogOffsets);
    if (changelogOffsets.isEmpty()) {
      offsets.clear();
    }
    changelogOffsets.forEach((partition, offset) -> {
      if (offset == null) {
        offsets.remove(partition);
      } else {
        offsets.put(partition, offset);
      }
    });
  }

  @Override
  @SuppressWarnings("deprecation")
  public boolean managesOffsets() {
    return true;
  }

  @Override
  public Long committedOffset(TopicPartition partition) {
    Long own = delegate.committedOffset(partition);
    return own != null ? own : offsets.get(partition);
  }

  @Override
  public void close() {
    if (!delegate.isOpen()) {
      return;
    }
    delegate.close();
    if (file != null && !offsets.isEmpty()) {
      write(file, offsets);
    }
  }

  /** The offsets {@code file} holds; none if it is missing or unreadable (the store then restores). */
  static Map<TopicPartition, Long> read(Path file) {
    Map<TopicPartition, Long> out = new HashMap<>();
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.trim().split(" ");
        if (f.length != 3) {
          throw new IllegalArgumentException("line '" + line + "' (expected: topic partition offset)");
        }
        out.put(new TopicPartition(f[0], Integer.parseInt(f[1])), Long.parseLong(f[2]));
      }
      return out;
    } catch (NoSuchFileException e) {
      return Map.of();
    } catch (IOException | RuntimeException e) {
      LOG.warn("{}: unreadable, ignored (the store restores from its changelog): {}", file, e.toString());
      return Map.of();
    }
  }

  private void write(Path target, Map<TopicPartition, Long> values) {
    String text = values.entrySet().stream()
        .map(e -> e.getKey().topic() + ' ' + e.getKey().partition() + ' ' + e.getValue() + '\n')
        .sorted().collect(Collectors.joining());
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
        channel.force(true);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      // Not fatal: without the file the next start restores this task from the changelogs.
      LOG.warn("store {}: cannot write {} (the next start restores from the changelog)", name(), target, e);
    }
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public boolean persistent() {
    return true;
  }

  @Override
  public boolean isOpen() {
    return delegate.isOpen();
  }

  @Override
  @SuppressWarnings("deprecation")
  public void flush() {
    delegate.flush();
  }

  @Override
  public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
    return delegate.query(query, positionBound, config);
  }

  @Override
  public Position getPosition() {
    return delegate.getPosition();
  }

  @Override
  public void put(Bytes key, byte[] value, long windowStartTimestamp) {
    delegate.put(key, value, windowStartTimestamp);
  }

  @Override
  public byte[] fetch(Bytes key, long time) {
    return delegate.fetch(key, time);
  }

  @Override
  public WindowStoreIterator<byte[]> fetch(Bytes key, long timeFrom, long timeTo) {
    return delegate.fetch(key, timeFrom, timeTo);
  }

  @Override
  public WindowStoreIterator<byte[]> backwardFetch(Bytes key, long timeFrom, long timeTo) {
    return delegate.backwardFetch(key, timeFrom, timeTo);
  }

  @Override
  public KeyValueIterator<Windowed<Bytes>, byte[]> fetch(Bytes keyFrom, Bytes keyTo, long timeFrom, long timeTo) {
    return delegate.fetch(keyFrom, keyTo, timeFrom, timeTo);
  }

  @Override
  public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFetch(Bytes keyFrom, Bytes keyTo, long timeFrom,
                                                                 long timeTo) {
    return delegate.backwardFetch(keyFrom, keyTo, timeFrom, timeTo);
  }

  @Override
  public KeyValueIterator<Windowed<Bytes>, byte[]> fetchAll(long timeFrom, long timeTo) {
    return delegate.fetchAll(timeFrom, timeTo);
  }

  @Override
  public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFetchAll(long timeFrom, long timeTo) {
    return delegate.backwardFetchAll(timeFrom, timeTo);
  }

  @Override
  public KeyValueIterator<Windowed<Bytes>, byte[]> all() {
    return delegate.all();
  }

  @Override
  public KeyValueIterator<Windowed<Bytes>, byte[]> backwardAll() {
    return delegate.backwardAll();
  }
}
