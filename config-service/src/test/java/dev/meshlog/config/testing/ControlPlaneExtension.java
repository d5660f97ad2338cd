package dev.meshlog.config.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import dev.meshlog.config.ConfigService;
import dev.meshlog.config.controlplane.ControlPlaneApp;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.KafkaExtension;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts one real control plane ({@link ControlPlaneApp}, exactly-once, judging commands with the
 * real parser and validator and compiling views) per JVM on the shared broker, creating the mesh
 * topics first, and stops it when the run ends. One instance for every test class, so no two
 * control planes answer the same commands.
 */
public final class ControlPlaneExtension implements BeforeAllCallback {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ControlPlaneExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    KafkaCluster kafka = KafkaExtension.cluster(context);
    context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent("control-plane",
        k -> Running.start(kafka), Running.class);
  }

  /** The running app and its state directory; closed by JUnit at the end of the run. */
  static final class Running implements ExtensionContext.Store.CloseableResource, AutoCloseable {
    private final ControlPlaneApp app;
    private final Path stateDir;

    private Running(ControlPlaneApp app, Path stateDir) {
      this.app = app;
      this.stateDir = stateDir;
    }

    static Running start(KafkaCluster kafka) {
      try (Admin admin = kafka.admin()) {
        new TopicBootstrapper(admin).ensureAll();
      }
      try {
        Path stateDir = Files.createTempDirectory("meshlog-control-plane");
        ControlPlaneApp app = new ControlPlaneApp(new ControlPlaneApp.Settings(
            kafka.bootstrapServers(), KafkaCluster.uniqueName("config-service"), stateDir,
            Duration.ofMillis(20), Duration.ofSeconds(1)), ConfigService.resourceCheck(),
            ConfigService.discovery());
        app.start();
        if (!app.awaitRunning(Duration.ofSeconds(60))) {
          app.close();
          throw new IllegalStateException("control plane did not reach RUNNING in 60 s");
        }
        return new Running(app, stateDir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() throws IOException {
      app.close();
      try (Stream<Path> files = Files.walk(stateDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
