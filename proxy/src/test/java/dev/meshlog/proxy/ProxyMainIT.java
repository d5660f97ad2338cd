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
import dev.meshlog.events.discovery.GatewayServer;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ProxyKind;
import dev.meshlog.proxy.subscribe.MeshTopics;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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

  private <V> void publish(dev.meshlog.schemas.Topic<String, V> topic, String key, V value)
      throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic.name(), topic.serializeKey(key),
          topic.serializeValue(value))).get();
    }
  }

  /** Every record on {@code topic} now, decoded. */
  private <V> List<V> readAll(dev.meshlog.schemas.Topic<String, V> topic) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.clientConfig(),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> tps = c.partitionsFor(topic.name()).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      List<V> out = new java.util.ArrayList<>();
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        c.poll(Duration.ofMillis(200)).forEach(r -> out.add(topic.deserializeValue(r.value())));
      }
      return out;
    }
  }

  private static ServiceView.Builder instanceView(String service, int inboundPort) {
    return view(service).setVersion(1).setEndpoints(List.of(Endpoint.newBuilder()
        .setInstanceId(service + "-v1").setAddress("127.0.0.1").setPort(inboundPort)
        .setLabels(Map.of("version", "v1")).setZone("zone-a").setCluster("c1")
        .setHealth(EndpointHealth.HEALTHY).build()));
  }

  @Test
  void runsAsAGatewayBoundToItsViewAndAcksItAsAGateway() throws Exception {
    int app = vertx.createHttpServer().requestHandler(req -> req.response()
        .end("product page for " + req.getHeader("host"))).listen(0, "127.0.0.1").await()
        .actualPort();
    productpage = proxy("--service", "storefront", "--version", "v1", "--app-port",
        Integer.toString(app), "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve("storefront.views").toString());
    reviews = proxy("--gateway", "shop-gateway", "--namespace", "default", "--port", "0",
        "--bind", "127.0.0.1", "--admin-port", "0",
        "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve("gateway.views").toString());
    ServiceView storefront = instanceView("storefront", productpage.sidecar().inboundPort())
        .build();
    ServiceView gatewayView = ServiceView.newBuilder().setHost("gateway.shop-gateway.default")
        .setService("shop-gateway").setNamespace("default").setVersion(4)
        .setGeneratedAt(dev.meshlog.proxy.support.Views.T0)
        .setGatewayServers(List.of(GatewayServer.newBuilder().setPort(80)
            .setProtocol(Protocol.HTTP).setHosts(List.of("shop.example.com")).build()))
        .setHttpRoutes(List.of(route("shop", List.of(), to("storefront", null, 100))
            .setHosts(List.of("shop.example.com")).build()))
        .build();
    publish(MeshTopics.DEFAULT.views(), storefront.getHost(), storefront);
    publish(MeshTopics.DEFAULT.views(), gatewayView.getHost(), gatewayView);
    int port = reviews.gateway().port();

    await().atMost(Duration.ofSeconds(30)).until(() -> get(port, "shop.example.com", "/")
        .equals("200 product page for shop.example.com"));

    assertThat(get(port, "other.example.com", "/")).startsWith("404");
    await().atMost(Duration.ofSeconds(20)).until(() -> readAll(MeshTopics.DEFAULT.status())
        .stream().anyMatch(st -> st.getKind() == ProxyKind.GATEWAY
            && st.getService().equals("shop-gateway") && st.getViews().stream().anyMatch(a ->
                a.getHost().equals("gateway.shop-gateway.default") && a.getVersion() == 4
                    && a.getAck() == AckState.ACK)));
    assertThat(readAll(MeshTopics.DEFAULT.registry()))
        .noneMatch(r -> r.getService().equals("shop-gateway"))
        .anyMatch(r -> r.getService().equals("storefront"));
    JsonObject listeners = new JsonObject(get(reviews.adminPort(), "localhost", "/listeners")
        .substring(4));
    assertThat(listeners.getString("gateway")).isEqualTo("gateway.shop-gateway.default");
  }

  @Test
  void givesEachTcpDestinationALocalPortAndRegistersItsOwnTcpPorts() throws Exception {
    int db = vertx.createNetServer().connectHandler(s -> s.handler(b -> s.write(
        io.vertx.core.buffer.Buffer.buffer("db:").appendBuffer(b)))).listen(0, "127.0.0.1")
        .await().actualPort();
    reviews = proxy("--service", "inventory-db", "--version", "v1", "--app-port", "1",
        "--service-port", "tcp-postgres:" + db, "--inbound-port", "0", "--outbound-port", "0",
        "--admin-port", "0", "--inbound-bind", "127.0.0.1",
        "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve("db.views").toString());
    productpage = proxy("--service", "inventory", "--version", "v1", "--app-port", "1",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--tcp-listener", "inventory-db:" + db + "=0",
        "--bootstrap-server", kafka.bootstrapServers(),
        "--snapshot-file", dir.resolve("inventory.views").toString());
    ServiceView dbView = instanceView("inventory-db", reviews.sidecar().inboundPort())
        .setPorts(List.of(ServicePort.newBuilder().setName("tcp-postgres").setNumber(db)
            .setProtocol(Protocol.TCP).build())).build();
    publish(MeshTopics.DEFAULT.views(), dbView.getHost(), dbView);
    dev.meshlog.proxy.tcp.TcpTarget target = new dev.meshlog.proxy.tcp.TcpTarget(
        host("inventory-db"), db);

    Integer local = await().atMost(Duration.ofSeconds(30)).until(
        () -> productpage.tcpPorts().get(target), java.util.Objects::nonNull);
    io.vertx.core.Promise<String> answer = io.vertx.core.Promise.promise();
    vertx.createNetClient().connect(local, "127.0.0.1").onSuccess(socket -> {
      socket.handler(b -> answer.tryComplete(b.toString()));
      socket.closeHandler(v -> answer.tryComplete("closed"));
      socket.write("SELECT 1");
    }).await();

    assertThat(answer.future().await()).isEqualTo("db:SELECT 1");
    assertThat(local).isNotEqualTo(db);
    assertThat(get(productpage.adminPort(), "localhost", "/listeners"))
        .contains("\"destination\" : \"" + target + "\"")
        .contains("\"local\" : \"127.0.0.1:" + local + "\"");
    await().atMost(Duration.ofSeconds(20)).until(() -> readAll(MeshTopics.DEFAULT.registry())
        .stream().anyMatch(r -> r.getService().equals("inventory-db") && r.getPorts().stream()
            .anyMatch(p -> p.getName().equals("tcp-postgres") && p.getNumber() == db
                && p.getProtocol() == dev.meshlog.events.registry.Protocol.TCP)));
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

    // Ready once the subscriber has read to where the topic ended: just after the first view.
    await().atMost(Duration.ofSeconds(10)).until(() -> get(admin, "localhost", "/ready")
        .startsWith("200"));
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

  @Test
  void configDumpShowsEachClustersTrafficPolicyAsTheProxyRunsIt() throws Exception {
    Path views = dir.resolve("views.json");
    java.nio.file.Files.writeString(views, """
        [{"host": "reviews.default.svc.cluster.local", "version": 3, "generatedAt": 0,
          "endpoints": [{"instanceId": "r1", "address": "127.0.0.1", "port": 1,
                         "health": "HEALTHY", "labels": {"version": "v2"}}],
          "trafficPolicy": {
            "loadBalancer": {"simple": "LEAST_REQUEST",
                             "failoverPriorities": ["topology.istio.io/network"]},
            "connectionPool": {"maxConnections": 7, "connectTimeoutMillis": 250,
                               "maxRequestsPerConnection": 100},
            "outlierDetection": {"consecutive5xxErrors": 3, "baseEjectionTimeMillis": 15000,
                                 "maxEjectionPercent": 50},
            "tlsMode": "ISTIO_MUTUAL"},
          "subsets": [{"name": "v2", "labels": {"version": "v2"},
            "trafficPolicy": {"loadBalancer": {"simple": "UNSPECIFIED",
                "consistentHash": {"httpHeaderName": "X-User"}, "localityEnabled": false},
              "connectionPool": {"idleTimeoutMillis": 2500}}}]}]
        """);
    productpage = proxy("--service", "productpage", "--app-port", "1", "--inbound-port", "0",
        "--outbound-port", "0", "--admin-port", "0", "--inbound-bind", "127.0.0.1",
        "--views-file", views.toString(), "--snapshot-file", dir.resolve("pp.views").toString());

    String got = get(productpage.adminPort(), "localhost", "/config_dump");
    assertThat(got).startsWith("200 ");
    JsonObject dump = new JsonObject(got.substring(4));
    Map<String, JsonObject> clusters = new java.util.HashMap<>();
    dump.getJsonArray("clusters").forEach(c -> clusters.put(((JsonObject) c).getString("name"),
        (JsonObject) c));
    JsonObject host = clusters.get("outbound|||reviews.default.svc.cluster.local");
    JsonObject v2 = clusters.get("outbound||v2|reviews.default.svc.cluster.local");

    assertThat(host.getString("host")).isEqualTo("reviews.default.svc.cluster.local");
    assertThat(host.getValue("subset")).isNull();
    JsonObject lb = host.getJsonObject("loadBalancer");
    assertThat(lb.getString("policy")).isEqualTo("LEAST_REQUEST");
    assertThat(lb.getJsonObject("locality")).isEqualTo(new JsonObject().put("enabled", true)
        .put("failoverPriorities", new JsonArray().add("topology.istio.io/network")));
    JsonObject pool = host.getJsonObject("connectionPool");
    assertThat(pool.getInteger("maxConnections")).isEqualTo(7);
    assertThat(pool.getValue("maxPendingRequests")).isNull(); // no limit
    assertThat(pool.getLong("connectTimeoutMillis")).isEqualTo(250L);
    assertThat(pool.getLong("idleTimeoutMillis")).isEqualTo(60_000L); // the proxy's default
    assertThat(pool.getInteger("maxRequestsPerConnection")).isEqualTo(100);
    assertThat(host.getJsonObject("outlierDetection")).isEqualTo(new JsonObject()
        .put("enabled", true).put("consecutive5xxErrors", 3).put("consecutiveGatewayErrors", 0)
        .put("intervalMillis", 10_000L).put("baseEjectionTimeMillis", 15_000L)
        .put("maxEjectionPercent", 50).put("minHealthPercent", 0));
    assertThat(host.getJsonObject("tls")).isEqualTo(new JsonObject()
        .put("configuredMode", "ISTIO_MUTUAL").put("mode", "DISABLE"));

    assertThat(v2.getString("subset")).isEqualTo("v2");
    assertThat(v2.getJsonObject("labels")).isEqualTo(new JsonObject().put("version", "v2"));
    assertThat(v2.getJsonObject("loadBalancer")).isEqualTo(new JsonObject()
        .put("policy", "RING_HASH").put("hashKey", new JsonObject().put("httpHeaderName", "x-user"))
        .put("minimumRingSize", 1024L)
        .put("locality", new JsonObject().put("enabled", false)
            .put("failoverPriorities", new JsonArray())));
    // the subset's own pool, not merged field by field: Istio's subset policy replaces each
    // setting (connectionPool) whole
    assertThat(v2.getJsonObject("connectionPool").getValue("maxConnections")).isNull();
    assertThat(v2.getJsonObject("connectionPool").getLong("idleTimeoutMillis")).isEqualTo(2500L);
    assertThat(v2.getJsonObject("outlierDetection").getBoolean("enabled")).isTrue();
    assertThat(v2.getJsonObject("tls").getString("configuredMode")).isEqualTo("ISTIO_MUTUAL");
    assertThat(v2.getInteger("endpoints")).isEqualTo(1);
  }
}
