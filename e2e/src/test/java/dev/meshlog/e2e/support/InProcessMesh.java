package dev.meshlog.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import dev.meshlog.config.ConfigService;
import dev.meshlog.config.controlplane.ControlPlaneApp;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.telemetry.TelemetryService;
import dev.meshlog.telemetry.TelemetryTopology;
import dev.meshlog.testkit.KafkaCluster;
import org.apache.kafka.clients.admin.Admin;

/**
 * The parts of the mesh an end-to-end test runs in its own JVM, on the shared broker: the mesh's
 * topics, the control plane and telemetry pipeline instances, each started and awaited running
 * (the proxies run as processes, {@link ProxyProcess}). The caller closes what it gets.
 */
public final class InProcessMesh {

  private InProcessMesh() {
  }

  /**
   * Creates the mesh's topics and starts a control plane (a unique application id, state under
   * {@code dir}), returned once it runs.
   */
  public static ControlPlaneApp controlPlane(KafkaCluster kafka, Path dir) throws Exception {
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    ControlPlaneApp controlPlane = new ControlPlaneApp(new ControlPlaneApp.Settings(
        kafka.bootstrapServers(), KafkaCluster.uniqueName("config-service"),
        dir.resolve("control-plane"), Duration.ofMillis(20), Duration.ofSeconds(1)),
        ConfigService.resourceCheck(), ConfigService.discovery());
    controlPlane.start();
    assertThat(controlPlane.awaitRunning(Duration.ofSeconds(60))).as("control plane running")
        .isTrue();
    return controlPlane;
  }

  /**
   * A telemetry pipeline instance of {@code topology} (instances of one application id share
   * the input), its state in {@code stateDir}, its HTTP API on a free loopback port; returned
   * once it runs.
   */
  public static TelemetryService pipeline(KafkaCluster kafka, Path stateDir,
                                          TelemetryTopology.Settings topology) throws Exception {
    TelemetryService pipeline = TelemetryService.start(new TelemetryService.Settings(
        kafka.bootstrapServers(), stateDir, "127.0.0.1", 0, "127.0.0.1", Duration.ofMillis(100),
        topology), Clock.systemUTC());
    assertThat(pipeline.app().awaitRunning(Duration.ofSeconds(60))).as("pipeline running")
        .isTrue();
    return pipeline;
  }
}
