package dev.meshlog.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.meshlog.config.api.ReadModel;
import dev.meshlog.config.testing.ControlPlaneExtension;
import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.KafkaExtension;
import dev.meshlog.testkit.SaslPlainListener;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The control plane and its clients on a Kafka that needs SASL ({@code --kafka-config}): the
 * shared control plane ({@link ControlPlaneExtension}) runs on the broker's SASL listener.
 */
@WithControlPlane
class KafkaConfigIT {

  @TempDir
  Path dir;

  private static Map<String, Object> saslConfig(SaslPlainListener sasl, String user,
                                                String password) {
    Map<String, Object> config = new HashMap<>();
    SaslPlainListener.clientProperties(user, password).forEach((k, v) -> config.put((String) k, v));
    config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, sasl.bootstrapServers());
    return config;
  }

  private record Run(int code, String err) {}

  private Run configService(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new ConfigServiceMain());
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, err.toString());
  }

  @Test
  void theControlPlaneAuthenticatesAndPublishesViewsOverSasl(KafkaCluster kafka) throws Exception {
    SaslPlainListener sasl = KafkaExtension.saslPlain(kafka);
    sasl.addUser("ana", "ana-secret");
    String namespace = KafkaCluster.uniqueName("ns");
    Instant now = Instant.now();
    InstanceRegistration instance = InstanceRegistration.newBuilder().setInstanceId("ratings-1")
        .setNamespace(namespace).setService("ratings").setAddress("127.0.0.1").setPort(15006)
        .setLabels(Map.of("app", "ratings", "version", "v1"))
        .setState(RegistrationState.REGISTERED).setLeaseDurationMillis(60_000)
        .setRegisteredAt(now).setHeartbeatAt(now).build();

    try (ReadModel views = new ReadModel(saslConfig(sasl, "ana", "ana-secret"));
         KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
             saslConfig(sasl, "ana", "ana-secret"), new StringSerializer(),
             new ByteArraySerializer())) {
      views.start();
      producer.send(new ProducerRecord<>(Topics.REGISTRY_INSTANCES.name(),
          namespace + "/ratings/ratings-1", Topics.REGISTRY_INSTANCES.serializeValue(instance)))
          .get(30, TimeUnit.SECONDS);

      await().atMost(Duration.ofSeconds(30)).until(() -> views.views().entrySet().stream()
          .anyMatch(e -> e.getKey().contains(namespace)
              && e.getValue().getEndpoints().stream()
                  .anyMatch(ep -> ep.getInstanceId().equals("ratings-1"))));
    }
    assertThat(sasl.hasAuthenticated(ControlPlaneExtension.USER)).isTrue();
  }

  @Test
  void refusesAnApiTokenFileWithTooShortATokenAtStartNamingIt(KafkaCluster kafka)
      throws Exception {
    Path file = Files.writeString(dir.resolve("api-token"), "  short\n");

    Run run = configService("--api-token-file", file.toString(), "--bootstrap-server",
        kafka.bootstrapServers(), "--data-dir", dir.toString());

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--api-token-file " + file,
        "the token has 5 characters (expected: at least 16)");
  }

  @Test
  void refusesAnUnknownKeyAtStartWithExitTwoNamingIt(KafkaCluster kafka) throws Exception {
    Path file = Files.writeString(dir.resolve("client.properties"), "sasl.mechanisms=PLAIN\n");

    Run run = configService("--kafka-config", file.toString(), "--bootstrap-server",
        kafka.bootstrapServers(), "--data-dir", dir.toString(), "--api-port", "-1");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--kafka-config " + file, "sasl.mechanisms",
        "not a Kafka client setting");
  }

  @Test
  void refusesAReservedKeyAtStartWithExitTwoNamingItAndTheFlag(KafkaCluster kafka)
      throws Exception {
    Path file = Files.writeString(dir.resolve("client.properties"), "group.id=mine\n");

    Run run = configService("--kafka-config", file.toString(), "--bootstrap-server",
        kafka.bootstrapServers(), "--data-dir", dir.toString(), "--api-port", "-1");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("group.id cannot be set here: use --application-id");
  }

  @Test
  void aJaasConfigKafkaCannotParseIsAUsageError(KafkaCluster kafka) throws Exception {
    Path file = Files.writeString(dir.resolve("client.properties"), "security.protocol="
        + "SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=not a jaas config\n");

    Run run = configService("--kafka-config", file.toString(), "--bootstrap-server",
        kafka.bootstrapServers(), "--data-dir", dir.toString(), "--api-port", "-1");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--kafka-config " + file);
  }

  @Test
  void aWrongPasswordEndsTheStartWithAnAuthenticationError(KafkaCluster kafka) throws Exception {
    SaslPlainListener sasl = KafkaExtension.saslPlain(kafka);
    sasl.addUser("carl", "carl-secret");
    Path file = SaslPlainListener.writeClientProperties(dir.resolve("client.properties"),
        "carl", "not-carls");

    Run run = configService("--kafka-config", file.toString(), "--bootstrap-server",
        sasl.bootstrapServers(), "--data-dir", dir.toString(), "--api-port", "-1");

    assertThat(run.code()).isEqualTo(1);
    assertThat(run.err()).contains("Authentication failed").doesNotContain("not-carls");
  }
}
