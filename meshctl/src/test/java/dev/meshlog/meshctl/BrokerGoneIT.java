package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.meshlog.testkit.EmbeddedKafka;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * meshctl against a broker that goes away while a command waits for its answer: a message and a
 * non-zero exit within its timeout, not a hang. A broker of its own (no control plane, so the
 * command is sent and never answered), stopped mid-command.
 */
class BrokerGoneIT {

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void anApplyWhoseBrokerGoesAwayEndsWithinItsTimeoutSayingWhat() throws Exception {
    Files.writeString(dir.resolve("vs.yaml"), """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews}
        """);
    EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
    try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers",
        kafka.bootstrapServers()))) {
      new dev.meshlog.schemas.TopicBootstrapper(admin).ensureAll();
    }
    Environment env = new Environment(Map.of("MESHLOG_BOOTSTRAP", kafka.bootstrapServers()), dir,
        java.time.Clock.systemUTC(), "ana");
    CompletableFuture<Run> apply = CompletableFuture.supplyAsync(
        () -> Run.meshctl(env, "--timeout", "10s", "apply", "-f", "vs.yaml"));
    // Let it reach the broker (its topics are made, its command sent), then take the broker away.
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> apply.isDone() || commandSent(kafka));
    long stoppedAt = System.nanoTime();
    kafka.close();

    Run run = apply.get(60, TimeUnit.SECONDS);
    long tookSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - stoppedAt);
    assertThat(run.code()).as(run.err()).isEqualTo(Meshctl.UNREACHABLE);
    assertThat(run.err()).contains("no answer from the control plane within 10s for 1 command(s): "
        + "VirtualService/default/reviews (APPLY").doesNotContain("--kafka-config");
    assertThat(tookSeconds).as("its --timeout, not the Kafka clients' minutes").isLessThan(30);
  }

  /** Whether the command is on its topic (a control plane would answer it now; none runs). */
  private static boolean commandSent(EmbeddedKafka kafka) {
    try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers",
        kafka.bootstrapServers()))) {
      var partitions = admin.describeTopics(java.util.List.of(
          dev.meshlog.schemas.Topics.CONFIG_COMMANDS.name())).allTopicNames().get(5, TimeUnit.SECONDS)
          .get(dev.meshlog.schemas.Topics.CONFIG_COMMANDS.name()).partitions();
      Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest =
          new java.util.HashMap<>();
      partitions.forEach(p -> latest.put(new org.apache.kafka.common.TopicPartition(
          dev.meshlog.schemas.Topics.CONFIG_COMMANDS.name(), p.partition()),
          org.apache.kafka.clients.admin.OffsetSpec.latest()));
      return admin.listOffsets(latest).all().get(5, TimeUnit.SECONDS).values().stream()
          .anyMatch(info -> info.offset() > 0);
    } catch (Exception e) {
      return false;
    }
  }
}
