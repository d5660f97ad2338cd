package dev.meshlog.proxy;

import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.proxy.subscribe.MeshTopics;
import dev.meshlog.schemas.Topics;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.KafkaExtension;
import dev.meshlog.testkit.SaslPlainListener;
import dev.meshlog.testkit.WithKafka;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A sidecar on a Kafka that needs SASL: {@code --kafka-config} for all its Kafka clients. */
@WithKafka
class ProxyKafkaConfigIT {

  private final KafkaCluster kafka;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClientAgent http = vertx.createHttpClient();
  private ProxyMain.Running proxy;

  @TempDir
  Path dir;

  ProxyKafkaConfigIT(KafkaCluster kafka) {
    this.kafka = kafka;
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensure(List.of(MeshTopics.DEFAULT.views(),
          MeshTopics.DEFAULT.status(), MeshTopics.DEFAULT.registry(), Topics.TELEMETRY_REQUESTS),
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

  private static ProxyMain.Running proxy(String... args) {
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
  void receivesItsViewAndSendsTelemetryOverSasl() throws Exception {
    SaslPlainListener sasl = KafkaExtension.saslPlain(kafka);
    sasl.addUser("sidecar", "sidecar-secret");
    Path file = SaslPlainListener.writeClientProperties(dir.resolve("client.properties"),
        "sidecar", "sidecar-secret");
    String service = KafkaCluster.uniqueName("ratings");
    int app = vertx.createHttpServer().requestHandler(req -> req.response().end("stars: 4"))
        .listen(0, "127.0.0.1").await().actualPort();
    proxy = proxy("--service", "productpage", "--version", "v1", "--app-port", "1",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--inbound-bind", "127.0.0.1", "--bootstrap-server", sasl.bootstrapServers(),
        "--kafka-config", file.toString(), "--telemetry", "on",
        "--snapshot-file", dir.resolve("productpage.views").toString());
    ServiceView view = view(service).setVersion(1)
        .setEndpoints(List.of(Endpoint.newBuilder().setInstanceId(service + "-v1")
            .setAddress("127.0.0.1").setPort(app).setLabels(Map.of("version", "v1"))
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setSubsets(List.of(subset("v1")))
        .setHttpRoutes(List.of(route("all", List.of(), to(service, "v1", 100)).build()))
        .build();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(MeshTopics.DEFAULT.views().name(),
          MeshTopics.DEFAULT.views().serializeKey(view.getHost()),
          MeshTopics.DEFAULT.views().serializeValue(view))).get();
    }
    int out = proxy.sidecar().outboundPort();

    await().atMost(Duration.ofSeconds(30)).until(() -> get(out, service + ":9080", "/r")
        .equals("200 stars: 4"));
    assertThat(sasl.hasAuthenticated("sidecar")).isTrue();
    // The telemetry producer (its own client) got the settings too: Kafka acknowledged events.
    await().atMost(Duration.ofSeconds(30)).until(() -> get(proxy.adminPort(), "localhost",
        "/stats/prometheus").matches("(?s).*meshlog_telemetry_events_sent_total [1-9].*"));
  }

  @Test
  void refusesAReservedKeyNamingItAndTheFlag() throws Exception {
    Path file = Files.writeString(dir.resolve("client.properties"),
        "isolation.level=read_uncommitted\n");

    assertThatThrownBy(() -> proxy("--service", "productpage", "--app-port", "1",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--bootstrap-server", kafka.bootstrapServers(), "--kafka-config", file.toString(),
        "--snapshot-file", dir.resolve("p.views").toString()))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--kafka-config " + file)
        .hasMessageContaining("isolation.level cannot be set here");
  }

  @Test
  void refusesAJaasConfigKafkaCannotParseWithoutStarting() throws Exception {
    Path file = Files.writeString(dir.resolve("client.properties"),
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=not a jaas config\n");

    assertThatThrownBy(() -> proxy("--service", "productpage", "--app-port", "1",
        "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
        "--bootstrap-server", kafka.bootstrapServers(), "--kafka-config", file.toString(),
        "--snapshot-file", dir.resolve("p.views").toString()))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--kafka-config " + file);
  }

  @Test
  void refusesAnUnknownKeyWithExitTwo() throws Exception {
    Path file = Files.writeString(dir.resolve("client.properties"), "sasl.mechansim=PLAIN\n");
    // The error is printed where the process prints it: its standard error.
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    java.io.PrintStream systemErr = System.err;
    int code;
    System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      code = ProxyMain.commandLine().execute("--service", "productpage", "--app-port", "1",
          "--bootstrap-server", kafka.bootstrapServers(), "--kafka-config", file.toString());
    } finally {
      System.setErr(systemErr);
    }

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("sasl.mechansim is not a Kafka client setting");
  }
}
