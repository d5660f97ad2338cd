package dev.meshlog.proxy;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.proxy.subscribe.MeshTopics;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Two proxies started from their command line, configured through Kafka, seen through admin. */
@WithKafka
class ProxyMainIT {

  private final KafkaCluster kafka;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClientAgent http = vertx.createHttpClient();
  private ProxyMain.Running productpage;
  private ProxyMain.Running reviews;

  @TempDir
  Path dir;

  ProxyMainIT(KafkaCluster kafka) throws Exception {
    this.kafka = kafka;
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensure(List.of(MeshTopics.DEFAULT.views(),
          MeshTopics.DEFAULT.status(), MeshTopics.DEFAULT.registry()), (short) 1);
    }
  }

  @AfterEach
  void stop() {
    if (productpage != null) {
      productpage.stop(Duration.ZERO);
    }
    if (reviews != null) {
      reviews.stop(Duration.ZERO);
    }
    vertx.close().await();
  }

  private ProxyMain.Running proxy(String... args) {
    ProxyMain main = new ProxyMain();
    new CommandLine(main).parseArgs(args);
    return main.start();
  }

  private String get(int port, String host, String path) {
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
            .setPort(port).setURI(path).putHeader("host", host))
        .compose(r -> r.send().compose(resp -> resp.body()
            .map(b -> resp.statusCode() + " " + b)))
        .await();
  }

  @Test
  void servesARequestOnceItsViewArrivesAndReportsItThroughTheAdminApi() throws Exception {
    int app = vertx.createHttpServer().requestHandler(req -> req.response().end("stars: 5"))
        .listen(0, "127.0.0.1").await().actualPort();
    reviews = proxy("--service", "reviews", "--version", "v1", "--app-port",
        Integer.toString(app), "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--zone", "zone-a", "--cluster", "c1",
        "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve("reviews.views").toString());
    productpage = proxy("--service", "productpage", "--version", "v1", "--app-port", "1",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--zone", "zone-a", "--cluster", "c1",
        "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve("productpage.views").toString());
    ServiceView view = view("reviews").setVersion(1)
        .setEndpoints(List.of(Endpoint.newBuilder().setInstanceId("reviews-v1")
            .setAddress("127.0.0.1").setPort(reviews.sidecar().inboundPort())
            .setLabels(Map.of("version", "v1")).setZone("zone-a").setCluster("c1")
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setSubsets(List.of(subset("v1")))
        .setHttpRoutes(List.of(route("all", List.of(), to("reviews", "v1", 100)).build()))
        .build();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(MeshTopics.DEFAULT.views().name(),
          MeshTopics.DEFAULT.views().serializeKey(view.getHost()),
          MeshTopics.DEFAULT.views().serializeValue(view))).get();
    }
    int out = productpage.sidecar().outboundPort();
    int admin = productpage.adminPort();

    await().atMost(Duration.ofSeconds(30)).until(() -> get(out, "reviews:9080", "/r/1")
        .equals("200 stars: 5"));

    assertThat(get(admin, "localhost", "/ready")).startsWith("200");
    JsonObject dump = new JsonObject(get(admin, "localhost", "/config_dump").substring(4));
    assertThat(dump.getJsonObject("versions").getLong(host("reviews"))).isEqualTo(1L);
    JsonObject clusters = new JsonObject(get(admin, "localhost", "/clusters").substring(4));
    assertThat(clusters.encode()).contains("\"address\":\"127.0.0.1:"
        + reviews.sidecar().inboundPort() + "\"").contains("\"ejected\":false");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(get(admin, "localhost", "/stats/prometheus"))
            .containsPattern("istio_requests_total\\{[^}]*destination_service=\"" + host("reviews")
                .replace(".", "\\.") + "\"[^}]*response_code=\"200\"[^}]*} [1-9]")
            .contains("istio_request_duration_milliseconds_bucket{")
            .contains("source_workload=\"productpage-v1\""));
    assertThat(get(reviews.adminPort(), "localhost", "/stats/prometheus"))
        .contains("reporter=\"destination\"");
  }

  @Test
  void servesTheViewsOfAViewsFileWithoutAControlPlane() throws Exception {
    int app = vertx.createHttpServer().requestHandler(req -> req.response().end("stars: 4"))
        .listen(0, "127.0.0.1").await().actualPort();
    Path views = dir.resolve("views.json");
    java.nio.file.Files.writeString(views, """
        [{"host": "reviews.default.svc.cluster.local", "version": 7, "generatedAt": 0,
          "endpoints": [{"instanceId": "r1", "address": "127.0.0.1", "port": %d,
                         "health": "HEALTHY"}]}]
        """.formatted(app));
    productpage = proxy("--service", "productpage", "--app-port", "1", "--inbound-port", "0",
        "--outbound-port", "0", "--admin-port", "0", "--inbound-bind", "127.0.0.1",
        "--views-file", views.toString(), "--snapshot-file", dir.resolve("pp.views").toString());

    assertThat(get(productpage.sidecar().outboundPort(), "reviews:9080", "/r/1"))
        .isEqualTo("200 stars: 4");
    assertThat(get(productpage.adminPort(), "localhost", "/ready")).startsWith("200");
    assertThat(new dev.meshlog.proxy.subscribe.SnapshotStore(dir.resolve("pp.views")).load())
        .extracting(ServiceView::getVersion).containsExactly(7L);
  }
}
