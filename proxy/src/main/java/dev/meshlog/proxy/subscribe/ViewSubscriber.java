package dev.meshlog.proxy.subscribe;

import java.io.IOException;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.status.ProxyState;
import dev.meshlog.events.status.ViewAck;
import dev.meshlog.schemas.Topic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code mesh.discovery.views} on its own thread (never an event loop): it first loads the
 * last good views from disk, then replays the compacted topic from the beginning and follows it,
 * applying each poll's views as one batch, saving the result to disk and reporting ACK/NACK.
 * While Kafka is unreachable the proxy keeps serving what it has.
 */
public final class ViewSubscriber implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ViewSubscriber.class);

  private final Map<String, Object> kafkaConfig;
  private final Topic<String, ServiceView> topic;
  private final ViewApplier applier;
  private final SnapshotStore store;
  private final StatusReporter reporter;
  private final Thread thread;
  private volatile boolean closed;
  private volatile boolean caughtUp;
  private volatile boolean loadedFromDisk;
  private boolean restored;
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  /**
   * A subscriber; call {@link #start()}.
   *
   * @param kafkaConfig consumer config, at least {@code bootstrap.servers}
   * @param store where the last good views are kept, or {@code null}
   * @param reporter where ACK/NACK go, or {@code null}
   */
  public ViewSubscriber(Map<String, Object> kafkaConfig, Topic<String, ServiceView> topic,
                        ViewApplier applier, SnapshotStore store, StatusReporter reporter) {
    this.kafkaConfig = Map.copyOf(kafkaConfig);
    this.topic = topic;
    this.applier = applier;
    this.store = store;
    this.reporter = reporter;
    this.thread = new Thread(this::run, "meshlog-view-subscriber");
    thread.setDaemon(true);
  }

  /**
   * Loads the views saved on disk, if not done yet (blocking; call before serving), then starts
   * following Kafka.
   */
  public void start() {
    restore();
    thread.start();
  }

  /** Whether the topic was read up to where it ended when the subscriber started. */
  public boolean caughtUp() {
    return caughtUp;
  }

  /** Whether a snapshot was restored from disk at start. */
  public boolean loadedFromDisk() {
    return loadedFromDisk;
  }

  /**
   * Loads the last good views saved on disk into the snapshot, once (blocking disk I/O); returns
   * whether there were any.
   */
  public synchronized boolean restore() {
    if (restored) {
      return loadedFromDisk;
    }
    restored = true;
    if (store == null) {
      return false;
    }
    try {
      List<ServiceView> views = store.load();
      if (!views.isEmpty()) {
        List<Map.Entry<String, ServiceView>> batch = new ArrayList<>();
        views.forEach(v -> batch.add(new AbstractMap.SimpleEntry<>(v.getHost(), v)));
        applier.apply(batch);
        loadedFromDisk = true;
        LOG.info("restored {} views from {}", views.size(), store.file());
      }
    } catch (IOException e) {
      LOG.warn("last good snapshot not restored: {}", e.getMessage());
    }
    return loadedFromDisk;
  }

  private void run() {
    Properties props = new Properties();
    props.putAll(kafkaConfig);
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
    props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "meshlog-proxy-views");
    List<ViewAck> reported = null;
    boolean dirty = true;
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props,
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer = c;
      if (closed) {
        return;
      }
      Map<TopicPartition, Long> end = null;
      while (!closed) {
        try {
          if (end == null) {
            List<PartitionInfo> parts = c.partitionsFor(topic.name(), Duration.ofSeconds(5));
            if (parts == null || parts.isEmpty()) {
              // The topic does not exist yet: ask again shortly rather than spin.
              pause(Duration.ofMillis(500));
              continue;
            }
            List<TopicPartition> tps = parts.stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            end = c.endOffsets(tps, Duration.ofSeconds(5));
          }
          ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(500));
          if (!records.isEmpty()) {
            boolean changed = applier.apply(decode(records));
            if (changed && store != null) {
              save();
            }
          }
          if (!caughtUp && reachedEnd(c, end)) {
            caughtUp = true;
            dirty = true;
            LOG.info("views caught up: {}", applier.appliedViews().keySet());
          }
          List<ViewAck> acks = applier.acks();
          if (reporter != null && (dirty || !acks.equals(reported))) {
            dirty = !reporter.report(caughtUp ? ProxyState.RUNNING : ProxyState.STARTING, acks);
            reported = acks;
          }
        } catch (WakeupException e) {
          break;
        } catch (RuntimeException e) {
          if (closed) {
            break;
          }
          LOG.warn("view subscription: {}", e.toString());
          end = e instanceof org.apache.kafka.common.errors.TimeoutException ? end : null;
        }
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer = null;
    }
  }

  private void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
  }

  private List<Map.Entry<String, ServiceView>> decode(ConsumerRecords<byte[], byte[]> records) {
    List<Map.Entry<String, ServiceView>> batch = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      String host;
      try {
        host = topic.deserializeKey(r.key());
      } catch (RuntimeException e) {
        LOG.warn("skipped view record at {}-{}@{} with an unreadable key", r.topic(),
            r.partition(), r.offset());
        continue;
      }
      if (host == null) {
        continue;
      }
      try {
        batch.add(new AbstractMap.SimpleEntry<>(host,
            r.value() == null ? null : topic.deserializeValue(r.value())));
      } catch (RuntimeException e) {
        LOG.warn("skipped undecodable view of {} at {}-{}@{}: {}", host, r.topic(),
            r.partition(), r.offset(), e.getMessage());
        applier.undecodable(host, e.getMessage());
      }
    }
    return batch;
  }

  private static boolean reachedEnd(KafkaConsumer<byte[], byte[]> c,
                                    Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (c.position(e.getKey(), Duration.ofSeconds(5)) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void save() {
    try {
      store.save(applier.appliedViews().values());
    } catch (IOException e) {
      LOG.warn("last good snapshot not saved to {}: {}", store.file(), e.getMessage());
    }
  }

  /** Stops following Kafka; the snapshot in force stays. */
  @Override
  public void close() {
    closed = true;
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
