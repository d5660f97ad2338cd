package dev.meshlog.proxy;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
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
import dev.meshlog.schemas.AvroSerde;
import dev.meshlog.schemas.FutureSchemas;
import dev.meshlog.schemas.SchemaRegistry;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A proxy of this release meeting a view written by a control plane of the next (a schema it
 * does not know, registered on {@code mesh.schemas}): it decodes the view on its subscriber's
 * thread, applies it and ACKs it.
 */
@WithKafka
class FutureViewIT {

  private final KafkaCluster kafka;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClientAgent http = vertx.createHttpClient();
  private ProxyMain.Running proxy;

  @TempDir
  Path dir;

  FutureViewIT(KafkaCluster kafka) {
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

  @Test
  void appliesAndAcksAViewOfANewerSchemaRegisteredOnKafka() throws Exception {
    proxy = start("--service", "productpage", "--version", "v1", "--app-port", "1",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve("productpage.views").toString());
    // what a newer control plane registers at its start, and then writes
    Schema future = FutureSchemas.serviceView();
    String futureKey = SchemaRegistry.key(SchemaNormalization.parsingFingerprint64(future));
    send(Topics.SCHEMAS.name(), futureKey, future.toString().getBytes(StandardCharsets.UTF_8));
    ServiceView view = view("ratings").setVersion(5)
        .setEndpoints(List.of(Endpoint.newBuilder().setInstanceId("ratings-v1")
            .setAddress("127.0.0.1").setPort(1).setLabels(Map.of("version", "v1"))
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setSubsets(List.of(subset("v1")))
        .setHttpRoutes(List.of(route("all", List.of(), to("ratings", "v1", 100)).build()))
        .build();
    send(MeshTopics.DEFAULT.views().name(), view.getHost(),
        FutureSchemas.encodeServiceView(view, "10%"));

    await().atMost(Duration.ofSeconds(30)).until(() -> readAll(MeshTopics.DEFAULT.status().name())
        .stream().map(r -> MeshTopics.DEFAULT.status().deserializeValue(r.value()))
        .anyMatch(st -> st.getService().equals("productpage") && st.getViews().stream()
            .anyMatch(a -> a.getHost().equals(host("ratings")) && a.getVersion() == 5
                && a.getAck() == AckState.ACK)));
    JsonObject dump = new JsonObject(get(proxy.adminPort(), "/config_dump").substring(4));
    assertThat(dump.getJsonObject("versions").getLong(host("ratings"))).isEqualTo(5L);
    // and it registered its own schemas, the current ServiceView's among them
    String current = SchemaRegistry.key(AvroSerde.of(ServiceView.class).fingerprint());
    await().atMost(Duration.ofSeconds(30)).until(() -> readAll(Topics.SCHEMAS.name()).stream()
        .anyMatch(r -> new String(r.key(), StandardCharsets.UTF_8).equals(current)));
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
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value))
          .get();
    }
  }

  private List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> readAll(
      String topic) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.clientConfig(),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> tps = c.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> out =
          new ArrayList<>();
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      return out;
    }
  }
}
