package dev.meshlog.config.controlplane;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaClientSupplier;

/**
 * Kafka Streams' clients as Kafka's default supplier makes them, with the two hooks
 * {@link CommandStages} needs: the main consumer's poll (an interceptor sees which command offsets
 * it returned, and when) and the producer's commit calls (flush, offsets, {@code EndTxn}) timed.
 * The producer is Kafka's own behind a delegate that adds two clock reads per call; when the
 * stages are off, the plain clients are returned.
 */
final class StageTimingClients implements KafkaClientSupplier {

  /** The config key that hands the {@link CommandStages} to the interceptor Kafka instantiates. */
  static final String STAGES_CONFIG = "meshlog.command.stages";

  private final CommandStages stages;

  StageTimingClients(CommandStages stages) {
    this.stages = stages;
  }

  @Override
  public Admin getAdmin(Map<String, Object> config) {
    return Admin.create(config);
  }

  @Override
  public Producer<byte[], byte[]> getProducer(Map<String, Object> config) {
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    return stages.on() ? new TimedProducer(producer, stages) : producer;
  }

  @Override
  public Consumer<byte[], byte[]> getConsumer(Map<String, Object> config) {
    Map<String, Object> withInterceptor = config;
    if (stages.on()) {
      withInterceptor = new HashMap<>(config);
      withInterceptor.put(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, PollInterceptor.class.getName());
      withInterceptor.put(STAGES_CONFIG, stages);
    }
    return new KafkaConsumer<>(withInterceptor, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  @Override
  public Consumer<byte[], byte[]> getRestoreConsumer(Map<String, Object> config) {
    return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  @Override
  public Consumer<byte[], byte[]> getGlobalConsumer(Map<String, Object> config) {
    return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** Notes each poll that returned commands (the main consumer's, on the stream thread). */
  public static final class PollInterceptor implements ConsumerInterceptor<byte[], byte[]> {
    private CommandStages stages = CommandStages.OFF;

    @Override
    public void configure(Map<String, ?> configs) {
      if (configs.get(STAGES_CONFIG) instanceof CommandStages s) {
        stages = s;
      }
    }

    @Override
    public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
      if (!records.isEmpty()) {
        List<ConsumerRecord<byte[], byte[]>> commands =
            records.records(new TopicPartition(Topics.CONFIG_COMMANDS.name(), 0));
        if (!commands.isEmpty()) {
          stages.polled(commands.get(commands.size() - 1).offset());
        }
      }
      return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}

    @Override
    public void close() {}
  }

  /** Kafka's producer, with its flush and transaction calls timed; everything else passes through. */
  static final class TimedProducer implements Producer<byte[], byte[]> {
    private final Producer<byte[], byte[]> delegate;
    private final CommandStages stages;

    TimedProducer(Producer<byte[], byte[]> delegate, CommandStages stages) {
      this.delegate = delegate;
      this.stages = stages;
    }

    @Override
    public void flush() {
      stages.flushStarted();
      delegate.flush();
      stages.flushed();
    }

    @Override
    public void sendOffsetsToTransaction(Map<TopicPartition, OffsetAndMetadata> offsets,
                                         ConsumerGroupMetadata groupMetadata) {
      delegate.sendOffsetsToTransaction(offsets, groupMetadata);
      stages.offsetsSent();
    }

    @Override
    public void commitTransaction() {
      delegate.commitTransaction();
      stages.committed();
    }

    @Override
    public void abortTransaction() {
      stages.aborted();
      delegate.abortTransaction();
    }

    @Override
    public void initTransactions() {
      delegate.initTransactions();
    }

    @Override
    public void beginTransaction() {
      delegate.beginTransaction();
    }

    @Override
    public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
      return delegate.send(record);
    }

    @Override
    public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
      return delegate.send(record, callback);
    }

    @Override
    public List<PartitionInfo> partitionsFor(String topic) {
      return delegate.partitionsFor(topic);
    }

    @Override
    public Map<MetricName, ? extends Metric> metrics() {
      return delegate.metrics();
    }

    @Override
    public Uuid clientInstanceId(Duration timeout) {
      return delegate.clientInstanceId(timeout);
    }

    @Override
    public void registerMetricForSubscription(KafkaMetric metric) {
      delegate.registerMetricForSubscription(metric);
    }

    @Override
    public void unregisterMetricFromSubscription(KafkaMetric metric) {
      delegate.unregisterMetricFromSubscription(metric);
    }

    @Override
    public void close() {
      delegate.close();
    }

    @Override
    public void close(Duration timeout) {
      delegate.close(timeout);
    }
  }
}
