package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.TimestampedWindowStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The smallest reproduction of Kafka 4.3.1's clean-restart restore, on plain Kafka Streams:
 * exactly-once v2, one task per partition, each with a persistent timestamped key-value store
 * and a persistent timestamped window store; partition 0's records go into both, partition 1's
 * into the key-value store alone, so task 0_1's window store never gets a segment. After a
 * clean close and a start on the same state directory, Kafka's own window store makes task 0_1
 * restore its key-value store from the changelog (the window store has nowhere to keep its
 * offset), {@link OffsetKeepingWindowStore} lets every task resume, and key-value stores alone
 * (the control plane's kind) resume anyway. The first test pins Kafka's behaviour: when it
 * fails after a Kafka upgrade, the upgrade fixed it and the workaround can go.
 */
@WithKafka
class WindowStoreOffsetsIT {

  private static final int PER_PARTITION = 200;

  @Test
  void kafkasWindowStoreWithoutASegmentMakesACleanRestartRestoreItsWholeTask(KafkaCluster kafka,
      @TempDir Path state) throws Exception {
    Map<TopicPartition, AtomicLong> restored = restartOnce(kafka, state, Function.identity(), true);
    assertThat(restored(restored, "kv", 0)).isZero();
    assertThat(restored(restored, "kv", 1)).isEqualTo(PER_PARTITION);
  }

  @Test
  void offsetKeepingWindowStoreLetsEveryTaskResumeAfterACleanRestart(KafkaCluster kafka, @TempDir Path state)
      throws Exception {
    Map<TopicPartition, AtomicLong> restored = restartOnce(kafka, state, OffsetKeepingWindowStore::supplier, true);
    assertThat(restored.values().stream().mapToLong(AtomicLong::get).sum()).isZero();
  }

  @Test
  void keyValueStoresAloneResumeEveryTaskAfterACleanRestart(KafkaCluster kafka, @TempDir Path state)
      throws Exception {
    Map<TopicPartition, AtomicLong> restored = restartOnce(kafka, state, Function.identity(), false);
    assertThat(restored.values().stream().mapToLong(AtomicLong::get).sum()).isZero();
  }

  /**
   * Runs the topology over {@link #PER_PARTITION} records on each of two partitions, closes it
   * cleanly, starts it again on the same state and returns what each changelog partition restored.
   */
  private static Map<TopicPartition, AtomicLong> restartOnce(KafkaCluster kafka, Path state,
      Function<WindowBytesStoreSupplier, WindowBytesStoreSupplier> window, boolean withWindowStore) throws Exception {
    String topic = KafkaCluster.uniqueName("offsets-in");
    try (var admin = kafka.admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
    }
    String app = KafkaCluster.uniqueName("offsets");
    long now = System.currentTimeMillis();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(kafka.clientConfig(), new StringSerializer(),
        new StringSerializer())) {
      for (int i = 0; i < PER_PARTITION; i++) {
        for (int p = 0; p < 2; p++) {
          producer.send(new ProducerRecord<>(topic, p, now + i * 100L, "k" + i, "v"));
        }
      }
      producer.flush();
    }
    KafkaStreams first = streams(kafka, topic, app, state, window, withWindowStore, new ConcurrentHashMap<>());
    try {
      first.start();
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> counted(first) == 2L * PER_PARTITION);
    } finally {
      close(first);
    }
    Map<TopicPartition, AtomicLong> restored = new ConcurrentHashMap<>();
    KafkaStreams second = streams(kafka, topic, app, state, window, withWindowStore, restored);
    try {
      second.start();
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> counted(second) == 2L * PER_PARTITION);
    } finally {
      close(second);
    }
    return restored;
  }

  private static long restored(Map<TopicPartition, AtomicLong> restored, String store, int partition) {
    AtomicLong n = restored.entrySet().stream()
        .filter(e -> e.getKey().topic().endsWith("-" + store + "-changelog") && e.getKey().partition() == partition)
        .map(Map.Entry::getValue).findFirst().orElse(new AtomicLong());
    return n.get();
  }

  private static void close(KafkaStreams streams) {
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
        .withTimeout(Duration.ofSeconds(30)));
  }

  /** Sum of the key-value store's counts, or -1 while it cannot be queried. */
  private static long counted(KafkaStreams streams) {
    try {
      ReadOnlyKeyValueStore<String, ValueAndTimestamp<Long>> kv = streams.store(
          StoreQueryParameters.fromNameAndType("kv", QueryableStoreTypes.timestampedKeyValueStore()));
      long sum = 0;
      try (var it = kv.all()) {
        while (it.hasNext()) {
          sum += it.next().value.value();
        }
      }
      return sum;
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private static KafkaStreams streams(KafkaCluster kafka, String topic, String app, Path state,
      Function<WindowBytesStoreSupplier, WindowBytesStoreSupplier> window, boolean withWindowStore,
      Map<TopicPartition, AtomicLong> restored) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.timestampedKeyValueStoreBuilder(Stores.persistentTimestampedKeyValueStore("kv"),
        Serdes.String(), Serdes.Long()).withCachingDisabled());
    String[] stores = withWindowStore ? new String[] {"kv", "win"} : new String[] {"kv"};
    if (withWindowStore) {
      builder.addStateStore(Stores.timestampedWindowStoreBuilder(window.apply(
          Stores.persistentTimestampedWindowStore("win", Duration.ofHours(1), Duration.ofSeconds(10), false)),
          Serdes.String(), Serdes.Long()).withCachingDisabled());
    }
    builder.stream(topic, Consumed.with(Serdes.String(), Serdes.String()))
        .process(() -> new Counter(withWindowStore), stores);
    Properties props = new Properties();
    props.putAll(kafka.clientConfig());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
    props.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
    props.put(StreamsConfig.GROUP_PROTOCOL_CONFIG, "classic");
    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    streams.setGlobalStateRestoreListener(new StateRestoreListener() {
      @Override
      public void onRestoreStart(TopicPartition partition, String store, long start, long end) {
      }

      @Override
      public void onBatchRestored(TopicPartition partition, String store, long batchEnd, long n) {
        restored.computeIfAbsent(partition, p -> new AtomicLong()).addAndGet(n);
      }

      @Override
      public void onRestoreEnd(TopicPartition partition, String store, long total) {
      }
    });
    return streams;
  }

  /** Counts records per key; per key and 10 s window too, for partition 0's records only. */
  private static final class Counter implements Processor<String, String, Void, Void> {
    private final boolean withWindowStore;
    private ProcessorContext<Void, Void> context;
    private TimestampedKeyValueStore<String, Long> kv;
    private TimestampedWindowStore<String, Long> win;

    Counter(boolean withWindowStore) {
      this.withWindowStore = withWindowStore;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      this.context = context;
      kv = context.getStateStore("kv");
      if (withWindowStore) {
        win = context.getStateStore("win");
      }
    }

    @Override
    public void process(Record<String, String> r) {
      ValueAndTimestamp<Long> old = kv.get(r.key());
      kv.put(r.key(), ValueAndTimestamp.make(old == null ? 1 : old.value() + 1, r.timestamp()));
      if (win != null && context.recordMetadata().orElseThrow().partition() == 0) {
        long start = r.timestamp() - r.timestamp() % 10_000;
        ValueAndTimestamp<Long> w = win.fetch(r.key(), start);
        win.put(r.key(), ValueAndTimestamp.make(w == null ? 1 : w.value() + 1, r.timestamp()), start);
      }
    }
  }
}
