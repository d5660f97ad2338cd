package dev.meshlog.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.schemas.FutureSchemas;
import dev.meshlog.schemas.SampleEvents;
import dev.meshlog.schemas.SchemaRegistry;
import dev.meshlog.schemas.Topic;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The schema registry on a real broker: writers' registration and readers' lookup. Each test
 * has a registry topic of its own (configured as {@code mesh.schemas}), since the broker is
 * shared by the module's test classes.
 */
@WithKafka
class SchemaRegistryIT {

  @Test
  void registeringTwiceLeavesOneValuePerFingerprint(KafkaCluster kafka) throws Exception {
    String topic = registryTopic(kafka);

    int first = SchemaRegistry.register(kafka.clientConfig(), topic); // e.g. config-service
    int second = SchemaRegistry.register(kafka.clientConfig(), topic); // e.g. a proxy

    Map<String, String> expected = SchemaRegistry.currentSchemas();
    assertThat(first).isEqualTo(second).isEqualTo(expected.size());
    List<ConsumerRecord<String, String>> records = readAll(kafka, topic);
    Map<String, Set<String>> valuesByKey = new HashMap<>();
    records.forEach(r -> valuesByKey.computeIfAbsent(r.key(), k -> new java.util.HashSet<>())
        .add(r.value()));
    // compaction keeps the last record of each key: each key has one value, so what it keeps
    // is what both wrote
    assertThat(valuesByKey.keySet()).isEqualTo(expected.keySet());
    valuesByKey.forEach((key, values) -> assertThat(values).as(key)
        .containsExactly(expected.get(key)));
    try (Admin admin = kafka.admin()) {
      assertThat(admin.describeConfigs(List.of(new org.apache.kafka.common.config.ConfigResource(
          org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic))).all().get()
          .values().iterator().next().get("cleanup.policy").value()).isEqualTo("compact");
    }
  }

  @Test
  void decodesARecordOfAFutureSchemaRegisteredOnTheTopic(KafkaCluster kafka) throws Exception {
    String topic = registryTopic(kafka);
    SchemaRegistry.register(kafka.clientConfig(), topic);
    Schema future = FutureSchemas.serviceView();
    publish(kafka, topic, future);
    ServiceView sample = sampleView();
    byte[] record = FutureSchemas.encodeServiceView(sample, "10%");

    try (SchemaRegistry.Lookup lookup = SchemaRegistry.lookup(kafka.clientConfig(), topic)) {
      ServiceView read = AvroSerde.of(ServiceView.class).withRegistry(lookup)
          .decode("mesh.discovery.views", record);

      ServiceView expected = ServiceView.newBuilder(sample).build();
      expected.getEndpoints().get(0).setHealth(EndpointHealth.UNSPECIFIED);
      assertThat(read).isEqualTo(expected);
    }
  }

  @Test
  void aRecordOfAnUnregisteredSchemaFailsAsBefore(KafkaCluster kafka) {
    String topic = registryTopic(kafka);
    SchemaRegistry.register(kafka.clientConfig(), topic); // every current schema, not the future
    byte[] record = FutureSchemas.encodeServiceView(sampleView(), "10%");

    try (SchemaRegistry.Lookup lookup = SchemaRegistry.lookup(kafka.clientConfig(), topic)) {
      assertThatThrownBy(() -> AvroSerde.of(ServiceView.class).withRegistry(lookup)
          .decode("mesh.discovery.views", record))
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("written with unknown schema fingerprint " + SchemaRegistry.key(
              SchemaNormalization.parsingFingerprint64(FutureSchemas.serviceView())));
    }
  }

  @Test
  void theLookupInstalledInTheProcessServesTheMeshTopics(KafkaCluster kafka) throws Exception {
    String topic = registryTopic(kafka);
    publish(kafka, topic, FutureSchemas.serviceView());
    byte[] record = FutureSchemas.encodeServiceView(sampleView(), "10%");
    SchemaRegistry.install(SchemaRegistry.lookup(kafka.clientConfig(), topic));
    try {
      assertThat(Topics.DISCOVERY_VIEWS.deserializeValue(record).getHost())
          .isEqualTo(sampleView().getHost());
    } finally {
      SchemaRegistry.install((org.apache.avro.message.SchemaStore) null);
    }
  }

  /** A new topic configured as {@code mesh.schemas}. */
  private static String registryTopic(KafkaCluster kafka) {
    Topic<String, String> own = new Topic<>(KafkaCluster.uniqueName("schemas"),
        Topics.SCHEMAS.keySerde(), Topics.SCHEMAS.valueSerde(), Topics.SCHEMAS.partitions(),
        Topics.SCHEMAS.cleanup(), Topics.SCHEMAS.retention(), Topics.SCHEMAS.doc());
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensure(List.of(own), (short) 1);
    }
    return own.name();
  }

  private static void publish(KafkaCluster kafka, String topic, Schema schema) throws Exception {
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(kafka.clientConfig(),
        new StringSerializer(), new StringSerializer())) {
      producer.send(new ProducerRecord<>(topic,
          SchemaRegistry.key(SchemaNormalization.parsingFingerprint64(schema)),
          schema.toString())).get();
    }
  }

  private static List<ConsumerRecord<String, String>> readAll(KafkaCluster kafka, String topic) {
    Map<String, Object> config = kafka.clientConfig();
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config,
        new StringDeserializer(), new StringDeserializer())) {
      TopicPartition p = new TopicPartition(topic, 0);
      consumer.assign(List.of(p));
      long end = consumer.endOffsets(List.of(p)).get(p);
      List<ConsumerRecord<String, String>> records = new ArrayList<>();
      while (consumer.position(p) < end) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
      return records;
    }
  }

  private static ServiceView sampleView() {
    return (ServiceView) SampleEvents.oneOfEach().get(Topics.DISCOVERY_VIEWS).getValue();
  }
}
