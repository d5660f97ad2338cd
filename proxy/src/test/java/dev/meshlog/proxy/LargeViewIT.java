package dev.meshlog.proxy;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.status.AckState;
import dev.meshlog.proxy.subscribe.MeshTopics;
import dev.meshlog.proxy.subscribe.SnapshotStore;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A view of 50,000 endpoints (≈5 MB, five times what one record took before the views topic's
 * limit was raised) reaches a proxy through its own consumer settings (1 MiB per partition,
 * 4 MiB per fetch: the first batch comes whatever its size), is applied and ACKed by a proxy
 * whose heap takes it (the test JVM's), and is saved as the last good snapshot.
 */
@WithKafka
class LargeViewIT {

  private static final int ENDPOINTS = 50_000;

  private final KafkaCluster kafka;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClientAgent http = vertx.createHttpClient();
  private ProxyMain.Running proxy;

  @TempDir
  Path dir;

  LargeViewIT(KafkaCluster kafka) {
    this.kafka = kafka;
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensure(List.of(MeshTopics.DEFAULT.views(),
          MeshTopics.DEFAULT.status(), MeshTopics.DEFAULT.registry(), Topics.SCHEMAS),
          (short) 1);
    }
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    vertx.close().await();
  }

  /** What the control plane compiles for a service of {@code count} pods. */
  static ServiceView largeView(String service, long version, int count) {
    List<Endpoint> endpoints = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      endpoints.add(Endpoint.newBuilder().setInstanceId(service + "-" + i)
          .setAddress("10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255))
          .setPort(9080).setLabels(Map.of("app", service, "version", "v1",
              "pod-template-hash", "7d4b9c8f6d"))
          .setZone("zone-" + (i % 3)).setRegion("region-1")
          .setHealth(EndpointHealth.HEALTHY).build());
    }
    return view(service).setVersion(version).setEndpoints(endpoints).build();
  }

  @Test
  void appliesAndAcksAViewOfFiftyThousandEndpoints() throws Exception {
    Path snapshot = dir.resolve("productpage.views");
    proxy = start("--service", "productpage", "--version", "v1", "--app-port", "1",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", snapshot.toString());
    ServiceView view = largeView("ratings", 3, ENDPOINTS);
    byte[] value = MeshTopics.DEFAULT.views().serializeValue(view);
    assertThat(value.length).as("bytes of the view").isBetween(4_000_000, Topics.MAX_VIEW_BYTES);
    send(MeshTopics.DEFAULT.views().name(), view.getHost(), value);

    await().atMost(Duration.ofSeconds(60)).until(() -> readAll(MeshTopics.DEFAULT.status().name())
        .stream().map(r -> MeshTopics.DEFAULT.status().deserializeValue(r.value()))
        .anyMatch(st -> st.getService().equals("productpage") && st.getViews().stream()
            .anyMatch(a -> a.getHost().equals(host("ratings")) && a.getVersion() == 3
                && a.getAck() == AckState.ACK)));
    JsonObject dump = new JsonObject(get(proxy.adminPort(), "/config_dump").substring(4));
    assertThat(dump.getJsonObject("versions").getLong(host("ratings"))).isEqualTo(3L);
    assertThat(dump.getJsonObject("services").getJsonObject(host("ratings"))
        .getJsonArray("endpoints")).hasSize(ENDPOINTS);
    await().atMost(Duration.ofSeconds(30)).until(() -> new SnapshotStore(snapshot).load()
        .stream().anyMatch(v -> v.getHost().equals(host("ratings")) && v.getVersion() == 3
            && v.getEndpoints().size() == ENDPOINTS));
  }

  private static ProxyMain.Running start(String... args) {
    ProxyMain main = new ProxyMain();
    new CommandLine(main).parseArgs(args);
    return main.start();
  }

  private String get(int port, String path) {
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
            .setPort(port).setURI(path).putHeader("host", "localhost"))
        .compose(r -> r.send().compose(resp -> resp.body()
            .map(b -> resp.statusCode() + " " + b)))
        .await();
  }

  private void send(String topic, String key, byte[] value) throws Exception {
    Map<String, Object> config = kafka.clientConfig();
    config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.VIEWS_MAX_MESSAGE_BYTES);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config,
        new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value))
          .get();
    }
  }

  private List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.clientConfig(),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> tps = c.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      return out;
    }
  }
}
