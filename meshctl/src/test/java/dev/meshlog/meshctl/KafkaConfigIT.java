package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.KafkaExtension;
import dev.meshlog.testkit.SaslPlainListener;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * meshctl on a Kafka that needs SASL: the broker's SASL listener, the real control plane (which
 * itself runs over SASL), {@code --kafka-config} files in the working directory.
 */
@WithControlPlane
class KafkaConfigIT {

  @TempDir
  Path dir;

  private SaslPlainListener sasl;
  private String ns;

  @BeforeEach
  void setUp(KafkaCluster kafka) {
    sasl = KafkaExtension.saslPlain(kafka);
    sasl.addUser("ana", "ana-secret");
    ns = KafkaCluster.uniqueName("ns");
  }

  private Run meshctl(Map<String, String> extraEnv, String... args) {
    Map<String, String> variables = new HashMap<>(extraEnv);
    variables.put("MESHLOG_BOOTSTRAP", sasl.bootstrapServers());
    variables.put("XDG_CACHE_HOME", dir.resolve("cache").toString());
    return Run.meshctl(new Environment(variables, dir, java.time.Clock.systemUTC(), "ana"), args);
  }

  private Run meshctl(String... args) {
    return meshctl(Map.of(), args);
  }

  private String reviews() {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
          namespace: %s
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews}
        """.formatted(ns);
  }

  private Path reviewsFile() throws IOException {
    return Files.writeString(dir.resolve("reviews.yaml"), reviews());
  }

  private Path clientProperties(String password) throws IOException {
    return SaslPlainListener.writeClientProperties(dir.resolve("client.properties"), "ana",
        password);
  }

  @Test
  void appliesOverSaslWithAKafkaConfigFile() throws Exception {
    reviewsFile();
    clientProperties("ana-secret");

    Run apply = meshctl("apply", "-f", "reviews.yaml", "--kafka-config", "client.properties");

    assertThat(apply.code()).as(apply.out() + apply.err()).isZero();
    assertThat(apply.out()).contains("virtualservice.networking.istio.io/reviews created");
    assertThat(sasl.hasAuthenticated("ana")).isTrue();
  }

  @Test
  void takesTheFileFromTheEnvironment() throws Exception {
    reviewsFile();
    clientProperties("ana-secret");

    Run apply = meshctl(Map.of("MESHLOG_KAFKA_CONFIG", "client.properties"),
        "apply", "-f", "reviews.yaml");
    Run get = meshctl(Map.of("MESHLOG_KAFKA_CONFIG", "client.properties"),
        "get", "vs", "reviews", "-n", ns);

    assertThat(apply.code()).as(apply.err()).isZero();
    assertThat(get.code()).as(get.err()).isZero();
    assertThat(get.out()).contains("reviews");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void withoutTheFileFailsWithinItsTimeoutPointingAtTheFlag() throws Exception {
    reviewsFile();

    Run apply = meshctl("--timeout", "3s", "apply", "-f", "reviews.yaml");

    assertThat(apply.code()).as(apply.err()).isEqualTo(Meshctl.UNREACHABLE);
    assertThat(apply.err()).contains("--kafka-config");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aWrongPasswordIsAnAuthenticationErrorNotAHang() throws Exception {
    reviewsFile();
    clientProperties("not-anas");

    Run apply = meshctl("apply", "-f", "reviews.yaml", "--kafka-config", "client.properties");

    assertThat(apply.code()).isEqualTo(Meshctl.UNREACHABLE);
    assertThat(apply.err()).contains("Authentication failed").doesNotContain("not-anas");
  }

  @Test
  void refusesAnUnknownKeyWithAUsageErrorNamingIt() throws Exception {
    reviewsFile();
    Files.writeString(dir.resolve("client.properties"), "security.protocl=SASL_PLAINTEXT\n");

    Run apply = meshctl("apply", "-f", "reviews.yaml", "--kafka-config", "client.properties");

    assertThat(apply.code()).isEqualTo(Meshctl.USAGE);
    assertThat(apply.err()).contains("--kafka-config", "security.protocl",
        "not a Kafka client setting");
  }

  @Test
  void refusesAReservedKeyWithAUsageErrorNamingItAndTheFlag() throws Exception {
    reviewsFile();
    Files.writeString(dir.resolve("client.properties"), "bootstrap.servers=elsewhere:9092\n");

    Run apply = meshctl("apply", "-f", "reviews.yaml", "--kafka-config", "client.properties");

    assertThat(apply.code()).isEqualTo(Meshctl.USAGE);
    assertThat(apply.err()).contains("bootstrap.servers cannot be set here: use --bootstrap-server");
  }

  @Test
  void refusesAValueKafkaWouldRefuseWithAUsageError() throws Exception {
    reviewsFile();
    Files.writeString(dir.resolve("client.properties"), "security.protocol=SASL_TLS\n");

    Run apply = meshctl("apply", "-f", "reviews.yaml", "--kafka-config", "client.properties");

    assertThat(apply.code()).isEqualTo(Meshctl.USAGE);
    assertThat(apply.err()).contains("--kafka-config", "security.protocol");
  }

  @Test
  void gitopsSyncsOverSasl() throws Exception {
    clientProperties("ana-secret");
    Path repo = dir.resolve("repo");
    try (Git git = Git.init().setDirectory(repo.toFile()).setInitialBranch("main").call()) {
      Files.createDirectories(repo.resolve("mesh"));
      Files.writeString(repo.resolve("mesh/reviews.yaml"), reviews());
      git.add().addFilepattern(".").call();
      git.commit().setMessage("add reviews").setSign(false)
          .setAuthor("ana", "ana@example.com").setCommitter("ana", "ana@example.com").call();

      Run sync = meshctl("gitops", "sync", "--repo", "repo", "--path", "mesh",
          "--kafka-config", "client.properties");

      assertThat(sync.code()).as(sync.out() + sync.err()).isZero();
      assertThat(sync.out()).contains("virtualservice.networking.istio.io/reviews created");
    }
  }
}
