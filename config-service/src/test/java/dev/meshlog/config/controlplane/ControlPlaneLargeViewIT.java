package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * A service of 50,000 pods on a real broker: the pods register as proxies do (on
 * {@code mesh.registry.instances}), the control plane publishes the host's view of ≈5 MB on
 * {@code mesh.discovery.views} (a few versions, not one per pod) and holds nothing; padded pods
 * that take it over {@link Topics#MAX_VIEW_BYTES} get it held, the last version kept.
 */
@WithControlPlane
class ControlPlaneLargeViewIT {

  private static final int PODS = 50_000;
  private static final String HOST = "reviews.default.svc.cluster.local";

  private final KafkaCluster kafka;

  ControlPlaneLargeViewIT(KafkaCluster kafka) {
    this.kafka = kafka;
  }

  @Test
  void aServiceOfFiftyThousandPodsGetsItsViewAndOneTooLargeIsHeld() throws Exception {
    try (Admin admin = kafka.admin()) {
      ConfigResource views = new ConfigResource(ConfigResource.Type.TOPIC,
          Topics.DISCOVERY_VIEWS.name());
      Config config = admin.describeConfigs(List.of(views)).all().get().get(views);
      assertThat(config.get("max.message.bytes").value())
          .isEqualTo(Integer.toString(Topics.VIEWS_MAX_MESSAGE_BYTES));
    }
    // An hour's lease: nothing lapses while the test runs.
    register(1, PODS, Map.of());

    try (KafkaConsumer<String, byte[]> consumer = consumer()) {
      consumer.subscribe(List.of(Topics.DISCOVERY_VIEWS.name(), Topics.DISCOVERY_HOLDS.name()));
      Seen seen = new Seen();
      long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
      while ((seen.last == null || seen.last.getEndpoints().size() < PODS)
          && System.nanoTime() < deadline) {
        seen.poll(consumer);
      }
      assertThat(seen.last).as("the view of reviews").isNotNull();
      assertThat(seen.last.getEndpoints()).hasSize(PODS);
      assertThat(seen.lastBytes).as("bytes of the view").isGreaterThan(4_000_000);
      assertThat(seen.views).as("views of reviews published on the way").isLessThan(2_000);
      assertThat(seen.holds).as("nothing held").isEmpty();

      // 120 pods with 100 KB of labels each: ≈19 MB, over the limit.
      register(PODS + 1, PODS + 120, Map.of("pad", "p".repeat(100_000)));
      deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (seen.holds.isEmpty() && System.nanoTime() < deadline) {
        seen.poll(consumer);
      }
      assertThat(seen.holds).as("the hold of reviews").isNotEmpty();
      ViewHold hold = seen.holds.get(0);
      assertThat(hold.getViewBytes()).isGreaterThan(Topics.MAX_VIEW_BYTES);
      assertThat(hold.getLimitBytes()).isEqualTo(Topics.MAX_VIEW_BYTES);
      assertThat(hold.getKeptVersion()).isEqualTo(seen.last.getVersion());
      assertThat(seen.maxBytes).as("no view over the limit sent")
          .isLessThanOrEqualTo(Topics.MAX_VIEW_BYTES + 1_000);
    }
  }

  /** What was read of reviews: the last view only (a 7 MB view decodes to tens of MB). */
  private static final class Seen {
    ServiceView last;
    int lastBytes;
    int maxBytes;
    int views;
    final List<ViewHold> holds = new ArrayList<>();

    void poll(KafkaConsumer<String, byte[]> consumer) {
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        if (!HOST.equals(r.key()) || r.value() == null) {
          continue;
        }
        if (r.topic().equals(Topics.DISCOVERY_VIEWS.name())) {
          last = Topics.DISCOVERY_VIEWS.deserializeValue(r.value());
          lastBytes = r.value().length;
          maxBytes = Math.max(maxBytes, lastBytes);
          views++;
        } else {
          holds.add(Topics.DISCOVERY_HOLDS.deserializeValue(r.value()));
        }
      }
    }
  }

  private void register(int from, int to, Map<String, String> extraLabels) throws Exception {
    Map<String, Object> config = kafka.clientConfig();
    config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    config.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    Instant now = Instant.now();
    try (KafkaProducer<String, InstanceRegistration> producer = new KafkaProducer<>(config,
        Topics.REGISTRY_INSTANCES.keySerde().serializer(),
        Topics.REGISTRY_INSTANCES.valueSerde().serializer())) {
      for (int i = from; i <= to; i++) {
        InstanceRegistration pod = InstanceRegistration.newBuilder(
                ControlPlaneLargeViewTest.pod(i, extraLabels, now))
            .setRegisteredAt(now).setLeaseDurationMillis(Duration.ofHours(1).toMillis()).build();
        producer.send(new ProducerRecord<>(Topics.REGISTRY_INSTANCES.name(),
            "default/reviews/" + pod.getInstanceId(), pod));
      }
      producer.flush();
    }
  }

  private KafkaConsumer<String, byte[]> consumer() {
    Map<String, Object> config = kafka.clientConfig();
    config.put(ConsumerConfig.GROUP_ID_CONFIG, KafkaCluster.uniqueName("views"));
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    // Kafka's defaults but for the partition fetch: 1 MiB, as a proxy's. The first batch
    // comes whatever its size.
    config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024 * 1024);
    return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
  }
}
