package dev.meshlog.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.meshlog.schemas.SampleEvents;
import dev.meshlog.schemas.Topic;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@WithKafka
class EmbeddedKafkaIT {

  private static TopicBootstrapper.Report firstRun;

  @BeforeAll
  static void createTopics(KafkaCluster kafka) {
    try (Admin admin = kafka.admin()) {
      firstRun = new TopicBootstrapper(admin).ensureAll();
    }
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"})
  void producesAndConsumesEveryTopicsValueTypeWithTheProjectSerdes(KafkaCluster kafka) throws Exception {
    Map<Topic<String, ?>, Map.Entry<String, Object>> samples = SampleEvents.oneOfEach();
    for (Map.Entry<Topic<String, ?>, Map.Entry<String, Object>> sample : samples.entrySet()) {
      Topic topic = sample.getKey();
      try (KafkaProducer producer = new KafkaProducer<>(kafka.clientConfig(),
          topic.keySerde().serializer(), topic.valueSerde().serializer())) {
        producer.send(new ProducerRecord<>(topic.name(), sample.getValue().getKey(),
            sample.getValue().getValue())).get();
      }
      Map<String, Object> config = kafka.clientConfig();
      config.put(ConsumerConfig.GROUP_ID_CONFIG, KafkaCluster.uniqueName("it"));
      config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      try (KafkaConsumer consumer = new KafkaConsumer<>(config, topic.keySerde().deserializer(),
          topic.valueSerde().deserializer())) {
        consumer.subscribe(List.of(topic.name()));
        List<ConsumerRecord> received = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (received.isEmpty() && System.nanoTime() < deadline) {
          consumer.poll(Duration.ofMillis(200)).forEach(r -> received.add((ConsumerRecord) r));
        }
        assertThat(received).as(topic.name()).hasSize(1);
        assertThat(received.get(0).key()).isEqualTo(sample.getValue().getKey());
        assertThat(received.get(0).value()).as(topic.name()).isEqualTo(sample.getValue().getValue());
      }
    }
  }

  @Test
  void createsEveryTopicWithItsPartitionsAndCleanupPolicy(KafkaCluster kafka) throws Exception {
    assertThat(firstRun.created().size() + firstRun.unchanged().size() + firstRun.reconfigured().size())
        .isEqualTo(Topics.ALL.size());
    try (Admin admin = kafka.admin()) {
      Map<String, TopicDescription> described = admin.describeTopics(
          Topics.ALL.stream().map(Topic::name).toList()).allTopicNames().get();
      for (Topic<String, ?> topic : Topics.ALL) {
        assertThat(described.get(topic.name()).partitions()).as(topic.name())
            .hasSize(topic.partitions());
        Config config = admin.describeConfigs(List.of(new ConfigResource(
            ConfigResource.Type.TOPIC, topic.name()))).all().get().values().iterator().next();
        topic.configs().forEach((key, value) ->
            assertThat(config.get(key).value()).as(topic.name() + " " + key).isEqualTo(value));
      }
    }
  }

  @Test
  void bootstrappingTwiceChangesNothing(KafkaCluster kafka) {
    try (Admin admin = kafka.admin()) {
      TopicBootstrapper.Report again = new TopicBootstrapper(admin).ensureAll();
      assertThat(again.created()).isEmpty();
      assertThat(again.reconfigured()).isEmpty();
      assertThat(again.unchanged()).hasSize(Topics.ALL.size());
    }
  }

  @Test
  void bootstrappingRepairsADriftedTopic(KafkaCluster kafka) throws Exception {
    Topic<String, String> topic = new Topic<>(KafkaCluster.uniqueName("drift"),
        Serdes.String(), Serdes.String(), 2, Topic.Cleanup.DELETE, Duration.ofHours(6), "test");
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic.name());
    try (Admin admin = kafka.admin()) {
      TopicBootstrapper bootstrapper = new TopicBootstrapper(admin);
      assertThat(bootstrapper.ensure(Set.of(topic), (short) 1).created())
          .containsExactly(topic.name());
      Map<ConfigResource, java.util.Collection<AlterConfigOp>> drift = new HashMap<>();
      drift.put(resource, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "1000"),
          AlterConfigOp.OpType.SET)));
      admin.incrementalAlterConfigs(drift).all().get();
      awaitRetention(admin, resource, "1000");

      TopicBootstrapper.Report report = bootstrapper.ensure(Set.of(topic), (short) 1);
      assertThat(report.reconfigured()).containsExactly(topic.name());
      awaitRetention(admin, resource, Long.toString(Duration.ofHours(6).toMillis()));
    }
  }

  /**
   * A views topic an earlier release created (no {@code max.message.bytes}: the broker's 1 MiB)
   * refuses a view of several megabytes; the next start's bootstrap raises its limit to
   * {@link Topics#VIEWS_MAX_MESSAGE_BYTES} and the same record is taken, and read back by a
   * consumer with Kafka's default fetch limits (1 MiB per partition: the first batch is returned
   * whatever its size).
   */
  @Test
  void bootstrappingRaisesAnOldViewsTopicsLimitSoItTakesAViewOfSeveralMegabytes(KafkaCluster kafka)
      throws Exception {
    String name = KafkaCluster.uniqueName("views");
    Topic<String, byte[]> before = new Topic<>(name, Serdes.String(), Serdes.ByteArray(), 2,
        Topic.Cleanup.COMPACT, Duration.ofDays(1), "views as an earlier release created them");
    Topic<String, byte[]> now = new Topic<>(name, Serdes.String(), Serdes.ByteArray(), 2,
        Topic.Cleanup.COMPACT, Duration.ofDays(1), "views", Topics.VIEWS_MAX_MESSAGE_BYTES);
    assertThat(Topics.DISCOVERY_VIEWS.configs()).isEqualTo(now.configs());
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
    byte[] view = new byte[6_000_000];
    new java.util.Random(1).nextBytes(view); // incompressible, though nothing compresses here
    Map<String, Object> config = kafka.clientConfig();
    config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.VIEWS_MAX_MESSAGE_BYTES);
    try (Admin admin = kafka.admin();
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config,
            Serdes.String().serializer(), Serdes.ByteArray().serializer())) {
      TopicBootstrapper bootstrapper = new TopicBootstrapper(admin);
      assertThat(bootstrapper.ensure(Set.of(before), (short) 1).created()).containsExactly(name);
      assertThatThrownBy(() -> producer.send(new ProducerRecord<>(name, "big.default", view)).get())
          .hasCauseInstanceOf(org.apache.kafka.common.errors.RecordTooLargeException.class);

      TopicBootstrapper.Report report = bootstrapper.ensure(Set.of(now), (short) 1);
      assertThat(report.reconfigured()).containsExactly(name);
      awaitConfig(admin, resource, "max.message.bytes",
          Integer.toString(Topics.VIEWS_MAX_MESSAGE_BYTES));
      RecordMetadata sent = producer.send(new ProducerRecord<>(name, "big.default", view)).get();
      assertThat(bootstrapper.ensure(Set.of(now), (short) 1).unchanged()).containsExactly(name);

      Map<String, Object> read = kafka.clientConfig();
      read.put(ConsumerConfig.GROUP_ID_CONFIG, KafkaCluster.uniqueName("it"));
      read.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(read,
          Serdes.String().deserializer(), Serdes.ByteArray().deserializer())) {
        consumer.assign(List.of(new org.apache.kafka.common.TopicPartition(name,
            sent.partition())));
        List<ConsumerRecord<String, byte[]>> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (got.isEmpty() && System.nanoTime() < deadline) {
          consumer.poll(Duration.ofMillis(200)).forEach(got::add);
        }
        assertThat(got).singleElement().satisfies(r -> assertThat(r.value()).isEqualTo(view));
      }
    }
  }

  /**
   * A partition the bootstrapper created takes a write at once: a producer that does not retry
   * writes to every partition of five new topics right after {@code ensure} returns. Without the
   * wait, some of those writes met the moment in which the broker knew a partition but did not
   * lead it yet and were refused as {@code NOT_LEADER_OR_FOLLOWER} (the KAFKA-15591 window).
   */
  @Test
  void aCreatedPartitionTakesAWriteAtOnce(KafkaCluster kafka) throws Exception {
    List<Topic<String, String>> topics = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      topics.add(new Topic<>(KafkaCluster.uniqueName("fresh"), Serdes.String(), Serdes.String(),
          12, Topic.Cleanup.DELETE, Duration.ofHours(6), "test"));
    }
    Map<String, Object> config = kafka.clientConfig();
    config.put(ProducerConfig.RETRIES_CONFIG, 0);
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    try (Admin admin = kafka.admin();
        KafkaProducer<String, String> producer = new KafkaProducer<>(config,
            Serdes.String().serializer(), Serdes.String().serializer())) {
      assertThat(new TopicBootstrapper(admin).ensure(topics, (short) 1).created()).hasSize(5);
      List<java.util.concurrent.Future<RecordMetadata>> sends = new ArrayList<>();
      for (Topic<String, String> topic : topics) {
        for (int p = 0; p < topic.partitions(); p++) {
          sends.add(producer.send(new ProducerRecord<>(topic.name(), p, "k", "v")));
        }
      }
      for (java.util.concurrent.Future<RecordMetadata> send : sends) {
        assertThat(send.get().offset()).isZero();
      }
    }
  }

  /** Topic config changes reach describeConfigs asynchronously in KRaft. */
  private static void awaitRetention(Admin admin, ConfigResource resource, String expected)
      throws Exception {
    awaitConfig(admin, resource, "retention.ms", expected);
  }

  private static void awaitConfig(Admin admin, ConfigResource resource, String key,
                                  String expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String actual = null;
    while (System.nanoTime() < deadline) {
      try {
        Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
        actual = config.get(key).value();
        if (expected.equals(actual)) {
          return;
        }
      } catch (java.util.concurrent.ExecutionException e) {
        actual = e.getCause().toString(); // a new topic is unknown to describeConfigs for a moment
      }
    }
    assertThat(actual).as(key + " of " + resource.name()).isEqualTo(expected);
  }

  @Test
  void retriesAProduceThatMeetsTheProducersClosingTransactionAfterFiveMs(KafkaCluster kafka)
      throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(kafka.kind().equals("embedded"),
        "a setting of testkit's own broker");
    try (Admin admin = kafka.admin()) {
      String broker = admin.describeCluster().nodes().get().iterator().next().idString();
      Config config = admin.describeConfigs(List.of(new ConfigResource(
          ConfigResource.Type.BROKER, broker))).all().get().values().iterator().next();
      assertThat(config.get("add.partitions.to.txn.retry.backoff.ms").value()).isEqualTo("5");
    }
  }
}
