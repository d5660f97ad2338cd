package dev.meshlog.config.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import dev.meshlog.config.client.ConfigFold;
import dev.meshlog.config.client.CurrentResource;
import dev.meshlog.config.client.LogReader;
import dev.meshlog.config.client.Revision;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.schemas.Topic;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's in-memory view of the mesh, kept up to date by one consumer on its own thread: the
 * audit log folded into current resources and histories, the latest views, the views held back
 * for size and proxy statuses.
 * Reads are cheap and never wait for Kafka (safe on an event loop); writers wait with
 * {@link #awaitEvent} to read their own writes.
 */
public final class ReadModel implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ReadModel.class);

  private final Map<String, Object> config;
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private final ConfigFold fold = new ConfigFold(true);
  private final Map<String, ServiceView> views = new TreeMap<>();
  private final Map<String, ProxyStatus> statuses = new TreeMap<>();
  private final Map<String, ViewHold> holds = new TreeMap<>();
  private final Map<Integer, Long> eventPositions = new HashMap<>();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private volatile KafkaConsumer<String, byte[]> consumer;
  private volatile boolean running;
  private Thread thread;

  /** A read model of the cluster in {@code kafkaConfig} (at least {@code bootstrap.servers}). */
  public ReadModel(Map<String, Object> kafkaConfig) {
    this.config = Map.copyOf(LogReader.consumerConfig(kafkaConfig, Duration.ofSeconds(30)));
  }

  /** Starts following the topics from their beginning on a new thread. */
  public synchronized void start() {
    if (thread != null) {
      return;
    }
    running = true;
    thread = new Thread(this::run, "meshlog-api-read-model");
    thread.setDaemon(true);
    thread.start();
  }

  /** Completes once the model has read everything the topics held when it started. */
  public CompletableFuture<Void> ready() {
    return ready;
  }

  /** Whether the initial read is done. */
  public boolean isReady() {
    return ready.isDone() && !ready.isCompletedExceptionally();
  }

  private void run() {
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(config, new StringDeserializer(),
        new ByteArrayDeserializer())) {
      consumer = c;
      List<TopicPartition> partitions = new ArrayList<>();
      for (Topic<String, ?> topic : List.of(Topics.CONFIG_EVENTS, Topics.DISCOVERY_VIEWS,
          Topics.DISCOVERY_HOLDS, Topics.PROXY_STATUS)) {
        partitions.addAll(partitionsOf(c, topic.name()));
      }
      c.assign(partitions);
      c.seekToBeginning(partitions);
      Map<TopicPartition, Long> initialEnd = new HashMap<>(c.endOffsets(partitions));
      while (running) {
        try {
          pollOnce(c, partitions, initialEnd);
        } catch (WakeupException e) {
          throw e;
        } catch (KafkaException e) {
          // Kafka away for a while (timeouts): keep the last state and try again.
          LOG.warn("read model: {}; retrying", e.getMessage());
          LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      LOG.error("read model stopped: {}", e.getMessage(), e);
      ready.completeExceptionally(e);
    } finally {
      consumer = null;
    }
  }

  private void pollOnce(KafkaConsumer<String, byte[]> c, List<TopicPartition> partitions,
                        Map<TopicPartition, Long> initialEnd) {
    for (ConsumerRecord<String, byte[]> record : c.poll(Duration.ofMillis(500))) {
      apply(record);
    }
    synchronized (eventPositions) {
      for (TopicPartition tp : partitions) {
        if (tp.topic().equals(Topics.CONFIG_EVENTS.name())) {
          eventPositions.put(tp.partition(), c.position(tp));
        }
      }
      eventPositions.notifyAll();
    }
    if (!ready.isDone()) {
      initialEnd.entrySet().removeIf(e -> c.position(e.getKey()) >= e.getValue());
      if (initialEnd.isEmpty()) {
        ready.complete(null);
        LOG.info("read model loaded: {} resources, {} views, {} proxies",
            resources().size(), views().size(), proxyStatuses().size());
      }
    }
  }

  /** The partitions of {@code topic}, waiting (while running) until it exists and Kafka answers. */
  private List<TopicPartition> partitionsOf(KafkaConsumer<?, ?> c, String topic) {
    while (running) {
      try {
        List<PartitionInfo> infos = c.partitionsFor(topic);
        if (infos != null && !infos.isEmpty()) {
          List<TopicPartition> partitions = new ArrayList<>();
          infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
          return partitions;
        }
        LOG.warn("topic {} does not exist yet; waiting for it", topic);
      } catch (WakeupException e) {
        throw e;
      } catch (KafkaException e) {
        LOG.warn("read model: cannot list the partitions of {}: {}; retrying", topic, e.getMessage());
      }
      LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
    }
    throw new WakeupException();
  }

  private void apply(ConsumerRecord<String, byte[]> record) {
    try {
      String topic = record.topic();
      if (topic.equals(Topics.CONFIG_EVENTS.name())) {
        var event = Topics.CONFIG_EVENTS.deserializeValue(record.value());
        write(() -> fold.accept(event));
      } else if (topic.equals(Topics.DISCOVERY_VIEWS.name())) {
        ServiceView view = Topics.DISCOVERY_VIEWS.deserializeValue(record.value());
        write(() -> put(views, record.key(), view));
      } else if (topic.equals(Topics.DISCOVERY_HOLDS.name())) {
        ViewHold hold = Topics.DISCOVERY_HOLDS.deserializeValue(record.value());
        write(() -> put(holds, record.key(), hold));
      } else if (topic.equals(Topics.PROXY_STATUS.name())) {
        ProxyStatus status = Topics.PROXY_STATUS.deserializeValue(record.value());
        write(() -> put(statuses, record.key(), status));
      }
    } catch (SerializationException e) {
      LOG.warn("skipping undecodable record {}-{}@{}: {}", record.topic(), record.partition(),
          record.offset(), e.getMessage());
    }
  }

  private static <V> void put(Map<String, V> map, String key, V value) {
    if (value == null) {
      map.remove(key);
    } else {
      map.put(key, value);
    }
  }

  private void write(Runnable change) {
    lock.writeLock().lock();
    try {
      change.run();
    } finally {
      lock.writeLock().unlock();
    }
  }

  private <T> T read(java.util.function.Supplier<T> query) {
    lock.readLock().lock();
    try {
      return query.get();
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Waits until the model has read the audit log past {@code offset} in {@code partition} (so it
   * shows that event). Blocks: call it on a worker thread, never an event loop.
   *
   * @return whether it got there within {@code timeout}
   */
  public boolean awaitEvent(int partition, long offset, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (eventPositions) {
      while (eventPositions.getOrDefault(partition, -1L) <= offset) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        eventPositions.wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }

  /** Every resource that exists now, sorted by id. */
  public SortedMap<ResourceId, CurrentResource> resources() {
    return read(fold::current);
  }

  /** One resource as it is now. */
  public Optional<CurrentResource> resource(ResourceId id) {
    return read(() -> fold.current(id));
  }

  /** Every revision of {@code id}, oldest first. */
  public List<Revision> history(ResourceId id) {
    return read(() -> fold.history(id));
  }

  /** The latest view per host. */
  public Map<String, ServiceView> views() {
    return read(() -> Map.copyOf(views));
  }

  /** The views held back for size now, per host. */
  public Map<String, ViewHold> holds() {
    return read(() -> Map.copyOf(holds));
  }

  /** The latest status per proxy. */
  public Map<String, ProxyStatus> proxyStatuses() {
    return read(() -> Map.copyOf(statuses));
  }

  @Override
  public void close() {
    running = false;
    KafkaConsumer<String, byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
