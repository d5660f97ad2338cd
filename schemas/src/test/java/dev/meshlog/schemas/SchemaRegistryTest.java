package dev.meshlog.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.ServiceView;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class SchemaRegistryTest {

  private static final Duration HOLD = Duration.ofMinutes(1);

  private final MutableClock clock = new MutableClock();
  private final FakeRegistry registry = new FakeRegistry();
  private final SchemaRegistry.Lookup lookup = new SchemaRegistry.Lookup(registry, clock, HOLD);
  private final AvroSerde<ServiceView> serde = AvroSerde.of(ServiceView.class).withRegistry(lookup);

  @Test
  void decodesARecordOfAFutureSchemaOnceTheRegistryHoldsIt() {
    ServiceView sample = sampleView();
    registry.put(FutureSchemas.serviceView());

    ServiceView read = serde.decode("mesh.discovery.views",
        FutureSchemas.encodeServiceView(sample, "10%"));

    // the new field is dropped, the new symbol becomes the reader's default, the rest is intact
    ServiceView expected = ServiceView.newBuilder(sample).build();
    expected.getEndpoints().get(0).setHealth(EndpointHealth.UNSPECIFIED);
    assertThat(read).isEqualTo(expected);
    assertThat(read.getHost()).isEqualTo("reviews.default.svc.cluster.local");
    assertThat(read.getVersion()).isEqualTo(7);
  }

  @Test
  void failsAsBeforeWhenTheRegistryDoesNotHoldTheSchema() {
    byte[] future = FutureSchemas.encodeServiceView(sampleView(), "10%");
    assertThatThrownBy(() -> serde.decode("mesh.discovery.views", future))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("mesh.discovery.views: ServiceView: written with unknown schema "
            + "fingerprint " + SchemaRegistry.key(
                SchemaNormalization.parsingFingerprint64(FutureSchemas.serviceView())));
  }

  @Test
  void doesNotAskTheRegistryAgainForAMissWithinItsHold() {
    byte[] future = FutureSchemas.encodeServiceView(sampleView(), "10%");
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> serde.decode("t", future)).isInstanceOf(SerializationException.class);
    }
    assertThat(registry.reads.get()).isEqualTo(1);

    clock.advance(HOLD.minusSeconds(1));
    assertThatThrownBy(() -> serde.decode("t", future)).isInstanceOf(SerializationException.class);
    assertThat(registry.reads.get()).isEqualTo(1);

    registry.put(FutureSchemas.serviceView());
    clock.advance(Duration.ofSeconds(1));
    assertThat(serde.decode("t", future).getHost()).isEqualTo("reviews.default.svc.cluster.local");
    assertThat(registry.reads.get()).isEqualTo(2);
  }

  @Test
  void asksTheRegistryOncePerNewFingerprint() {
    registry.put(FutureSchemas.serviceView());
    byte[] future = FutureSchemas.encodeServiceView(sampleView(), "10%");
    AvroSerde<ServiceView> another = AvroSerde.of(ServiceView.class).withRegistry(lookup);
    serde.decode("t", future);
    serde.decode("t", future);
    another.decode("t", future);
    assertThat(registry.reads.get()).isEqualTo(1);
  }

  @Test
  void neverAsksTheRegistryForTheCurrentSchema() {
    byte[] current = AvroSerde.of(ServiceView.class).encode(sampleView());
    for (int i = 0; i < 3; i++) {
      assertThat(serde.decode("t", current)).isEqualTo(sampleView());
    }
    assertThat(registry.reads.get()).isZero();
  }

  @Test
  void ignoresARegistryRecordWhoseKeyIsNotItsSchemasFingerprint() {
    Schema future = FutureSchemas.serviceView();
    long fingerprint = SchemaNormalization.parsingFingerprint64(future);
    registry.records.put(SchemaRegistry.key(fingerprint), ServiceView.getClassSchema().toString());
    assertThat(lookup.findByFingerprint(fingerprint)).isNull();
    assertThat(lookup.findByFingerprint(
        SchemaNormalization.parsingFingerprint64(ServiceView.getClassSchema()))).isNull();
  }

  @Test
  void doesNotReadARecordAsATypeOtherThanTheOneItsRegisteredSchemaNames() {
    registry.put(FutureSchemas.serviceView());
    byte[] future = FutureSchemas.encodeServiceView(sampleView(), "10%");
    AvroSerde<dev.meshlog.events.discovery.ViewHold> holds =
        AvroSerde.of(dev.meshlog.events.discovery.ViewHold.class).withRegistry(lookup);
    assertThatThrownBy(() -> holds.decode("mesh.discovery.holds", future))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown schema fingerprint");
  }

  @Test
  void treatsAnUnreadableRegistryAsAMiss() {
    registry.failing = true;
    assertThat(lookup.findByFingerprint(42L)).isNull();
    assertThat(lookup.findByFingerprint(42L)).isNull();
    assertThat(registry.reads.get()).isEqualTo(1);
  }

  @Test
  void keepsWhatItReadBeforeTheRegistryTimedOut() {
    registry.put(FutureSchemas.serviceView());
    registry.timingOut = true;
    byte[] future = FutureSchemas.encodeServiceView(sampleView(), "10%");
    assertThat(serde.decode("t", future).getHost()).isEqualTo(sampleView().getHost());
  }

  @Test
  void registersTheValueSchemaOfEveryAvroTopicByItsFingerprint() {
    Map<String, String> schemas = SchemaRegistry.currentSchemas();
    for (Topic<String, ?> topic : Topics.ALL) {
      if (topic.valueSerde() instanceof AvroSerde<?> avro) {
        assertThat(schemas).containsEntry(SchemaRegistry.key(avro.fingerprint()),
            avro.schema().toString());
      }
    }
    schemas.forEach((key, json) -> assertThat(SchemaRegistry.key(
        SchemaNormalization.parsingFingerprint64(new Schema.Parser().parse(json)))).isEqualTo(key));
    assertThat(SchemaRegistry.key(0x00ab_0000_0000_0001L)).isEqualTo("00ab000000000001");
  }

  @Test
  void registersInTheBackgroundThroughTheProcesssProducer() throws Exception {
    org.apache.kafka.clients.producer.MockProducer<byte[], byte[]> producer =
        new org.apache.kafka.clients.producer.MockProducer<>(true, null,
            new org.apache.kafka.common.serialization.ByteArraySerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer());
    Thread thread = SchemaRegistry.registerInBackground(producer);
    thread.join(Duration.ofSeconds(30).toMillis());

    assertThat(thread.isAlive()).isFalse();
    Map<String, String> sent = new LinkedHashMap<>();
    producer.history().forEach(r -> {
      assertThat(r.topic()).isEqualTo("mesh.schemas");
      sent.put(new String(r.key(), java.nio.charset.StandardCharsets.UTF_8),
          new String(r.value(), java.nio.charset.StandardCharsets.UTF_8));
    });
    assertThat(sent).isEqualTo(SchemaRegistry.currentSchemas());
  }

  @Test
  void stopsRegisteringInTheBackgroundWhenTheProducerIsClosed() throws Exception {
    org.apache.kafka.clients.producer.MockProducer<byte[], byte[]> producer =
        new org.apache.kafka.clients.producer.MockProducer<>(false, null,
            new org.apache.kafka.common.serialization.ByteArraySerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer());
    producer.close();
    Thread thread = SchemaRegistry.registerInBackground(producer);
    thread.join(Duration.ofSeconds(30).toMillis());
    assertThat(thread.isAlive()).isFalse();
    assertThat(producer.history()).isEmpty();
  }

  private static ServiceView sampleView() {
    return (ServiceView) SampleEvents.oneOfEach().get(Topics.DISCOVERY_VIEWS).getValue();
  }

  /** A registry in memory that counts how often it is read. */
  private static final class FakeRegistry implements SchemaRegistry.Source {
    final Map<String, String> records = new LinkedHashMap<>();
    final AtomicInteger reads = new AtomicInteger();
    boolean failing;
    boolean timingOut;
    private int delivered;

    void put(Schema schema) {
      records.put(SchemaRegistry.key(SchemaNormalization.parsingFingerprint64(schema)),
          schema.toString());
    }

    @Override
    public void readNew(Duration timeout, java.util.function.BiConsumer<String, String> each) {
      reads.incrementAndGet();
      if (failing) {
        throw new IllegalStateException("broker gone");
      }
      records.entrySet().stream().skip(delivered).forEach(e -> each.accept(e.getKey(),
          e.getValue()));
      delivered = records.size();
      if (timingOut) {
        throw new IllegalStateException("not read to its end in time");
      }
    }
  }

  private static final class MutableClock extends Clock {
    private Instant now = Instant.parse("2026-11-26T12:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
