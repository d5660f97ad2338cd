package dev.meshlog.proxy.subscribe;

import java.io.IOException;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.status.ProxyState;
import dev.meshlog.events.status.ViewAck;
import dev.meshlog.schemas.Topic;
import dev.meshlog.schemas.Topics;
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
 * It reads only the partitions it needs: first the one of the proxy's own view; then, if that
 * view names exact egress hosts (or the proxy is a gateway), the partitions of those hosts,
 * re-assigning as they change; otherwise all of them. While Kafka is unreachable the proxy
 * keeps serving what it has.
 */
public final class ViewSubscriber implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ViewSubscriber.class);

  /**
   * How much heap an applied view takes per encoded byte, about: a view of 50,000 endpoints,
   * 5.2 MB encoded, took 77 MB of a sidecar's heap once applied (its decoded form, kept as the
   * latest and applied view, and its translation), and a new version needs as much again while
   * it is swapped in. A view is refused unless the heap holds it 64 times over.
   */
  static final int HEAP_PER_VIEW_BYTE = 64;

  private final Map<String, Object> kafkaConfig;
  private final Topic<String, ServiceView> topic;
  private final int maxViewBytes;
  private final ViewApplier applier;
  private final SnapshotStore store;
  private final StatusReporter reporter;
  private final Thread thread;
  private volatile boolean closed;
  private volatile boolean caughtUp;
  private volatile boolean loadedFromDisk;
  private boolean restored;
  private volatile KafkaConsumer<byte[], byte[]> consumer;
  private volatile Set<Integer> assignedPartitions = Set.of();
  private final Set<String> hostsReceived = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A subscriber; call {@link #start()}.
   *
   * @param kafkaConfig consumer config, at least {@code bootstrap.servers}
   * @param store where the last good views are kept, or {@code null}
   * @param reporter where ACK/NACK go, or {@code null}
   */
  public ViewSubscriber(Map<String, Object> kafkaConfig, Topic<String, ServiceView> topic,
                        ViewApplier applier, SnapshotStore store, StatusReporter reporter) {
    this(kafkaConfig, topic, applier, store, reporter,
        maxViewBytes(Runtime.getRuntime().maxMemory()));
  }

  /**
   * A subscriber refusing views over {@code maxViewBytes} encoded bytes; call {@link #start()}.
   */
  public ViewSubscriber(Map<String, Object> kafkaConfig, Topic<String, ServiceView> topic,
                        ViewApplier applier, SnapshotStore store, StatusReporter reporter,
                        int maxViewBytes) {
    if (maxViewBytes < 1) {
      throw new IllegalArgumentException("maxViewBytes: " + maxViewBytes + " (expected: >= 1)");
    }
    this.maxViewBytes = maxViewBytes;
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

  /**
   * The largest view a proxy whose heap is at most {@code maxHeapBytes} applies: 1/64 of it
   * ({@link #HEAP_PER_VIEW_BYTE}), at most what the views topic takes — 1 MiB for the sidecar's
   * 64 MiB (≈10,000 endpoints), 6 MiB for 384 MiB (50,000 endpoints).
   */
  public static int maxViewBytes(long maxHeapBytes) {
    return (int) Math.max(1, Math.min(Topics.VIEWS_MAX_MESSAGE_BYTES,
        maxHeapBytes / HEAP_PER_VIEW_BYTE));
  }

  /** The largest view this subscriber applies, encoded. */
  public int maxViewBytes() {
    return maxViewBytes;
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
    props.putAll(KafkaClients.viewConsumer(kafkaConfig));
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // Views are written in the control plane's exactly-once transactions: never apply one from
    // a transaction that was aborted.
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
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
      // Partitions read and where they ended when assigned; null until the topic is known.
      Map<TopicPartition, Long> end = null;
      ViewPartitions partitions = null;
      boolean ownCaughtUp = false;
      while (!closed) {
        try {
          if (end == null) {
            List<PartitionInfo> parts = c.partitionsFor(topic.name(), Duration.ofSeconds(5));
            if (parts == null || parts.isEmpty()) {
              // The topic does not exist yet: ask again shortly rather than spin.
              pause(Duration.ofMillis(500));
              continue;
            }
            partitions = new ViewPartitions(topic, parts.size());
            // First the partition of the proxy's own view: it says which others are needed.
            end = new HashMap<>();
            ownCaughtUp = false;
            assign(c, end, Set.of(partitions.of(applier.ownHost())), partitions);
          }
          ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(500));
          if (!records.isEmpty()) {
            boolean changed = applier.apply(decode(records));
            if (changed && store != null) {
              save();
            }
          }
          if (!ownCaughtUp) {
            ownCaughtUp = reachedEnd(c, end);
          }
          if (ownCaughtUp) {
            Set<Integer> wanted = applier.neededHosts().map(partitions::of)
                .orElseGet(partitions::all);
            wanted.add(partitions.of(applier.ownHost()));
            if (!wanted.equals(assignedPartitions)) {
              assign(c, end, wanted, partitions);
            } else if (!caughtUp && reachedEnd(c, end)) {
              caughtUp = true;
              dirty = true;
              LOG.info("views caught up on partitions {}: {}", wanted,
                  applier.appliedViews().keySet());
            }
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
          if (!(e instanceof org.apache.kafka.common.errors.TimeoutException)) {
            end = null;
            assignedPartitions = Set.of();
          }
        }
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer = null;
    }
  }

  /**
   * Reads exactly {@code wanted}: new partitions from their beginning (the topic is compacted),
   * kept ones from where they were; hosts of dropped partitions are forgotten.
   */
  private void assign(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> end,
                      Set<Integer> wanted, ViewPartitions partitions) {
    Set<Integer> before = assignedPartitions;
    List<TopicPartition> tps = wanted.stream().sorted()
        .map(p -> new TopicPartition(topic.name(), p)).toList();
    List<TopicPartition> added = tps.stream().filter(tp -> !before.contains(tp.partition()))
        .toList();
    c.assign(tps);
    if (!added.isEmpty()) {
      c.seekToBeginning(added);
      end.putAll(c.endOffsets(added, Duration.ofSeconds(5)));
    }
    end.keySet().removeIf(tp -> !wanted.contains(tp.partition()));
    assignedPartitions = Set.copyOf(wanted);
    Set<String> dropped = new java.util.TreeSet<>();
    for (String host : applier.knownHosts()) {
      if (!wanted.contains(partitions.of(host))) {
        dropped.add(host);
      }
    }
    if (applier.forget(dropped) && store != null) {
      save();
    }
    LOG.info("reading views from partitions {} of {}", wanted, topic.name());
  }

  /** The partitions of the views topic being read now. */
  public Set<Integer> assignedPartitions() {
    return assignedPartitions;
  }

  /** Every host a view record was received for since start (for tests and debugging). */
  public Set<String> hostsReceived() {
    return java.util.Collections.unmodifiableSet(hostsReceived);
  }

  private void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
  }

  /**
   * Decodes a poll's views, only the last record of each host (the applier would apply only
   * that one: decoding the others cost heap for nothing, a view of tens of thousands of
   * endpoints decodes to tens of MB). A view over {@link #maxViewBytes} is not decoded: it is
   * NACKed and the host's last good version keeps serving — unless the proxy is known not to
   * need the host (it shares a partition with one it does), which is skipped.
   */
  private List<Map.Entry<String, ServiceView>> decode(ConsumerRecords<byte[], byte[]> records) {
    List<Map.Entry<String, ConsumerRecord<byte[], byte[]>>> keyed = new ArrayList<>();
    Map<String, Integer> lastOfHost = new HashMap<>();
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
      hostsReceived.add(host);
      lastOfHost.put(host, keyed.size());
      keyed.add(new AbstractMap.SimpleEntry<>(host, r));
    }
    List<Map.Entry<String, ServiceView>> batch = new ArrayList<>();
    java.util.Optional<Set<String>> needed = null;
    for (int i = 0; i < keyed.size(); i++) {
      String host = keyed.get(i).getKey();
      ConsumerRecord<byte[], byte[]> r = keyed.get(i).getValue();
      if (lastOfHost.get(host) != i) {
        continue;
      }
      if (r.value() != null && r.value().length > maxViewBytes) {
        if (needed == null) {
          needed = applier.neededHosts();
        }
        if (needed.isPresent() && !needed.get().contains(host)) {
          continue;
        }
        String reason = "view of " + r.value().length + " bytes is over what this proxy takes"
            + " (expected: at most " + maxViewBytes + " bytes, 1/" + HEAP_PER_VIEW_BYTE
            + " of its heap: give it a larger -Xmx, or list the hosts it calls in a Sidecar)";
        LOG.warn("refused the view of {} at {}-{}@{}: {}", host, r.topic(), r.partition(),
            r.offset(), reason);
        applier.refused(host, reason);
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
