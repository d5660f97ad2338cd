package dev.meshlog.config.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import dev.meshlog.config.ConfigService;
import dev.meshlog.config.controlplane.ControlPlaneApp;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.KafkaExtension;
import dev.meshlog.testkit.SaslPlainListener;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts one real control plane ({@link ControlPlaneApp}, exactly-once, judging commands with the
 * real parser and validator and compiling views) per JVM on the shared broker, creating the mesh
 * topics first, and stops it when the run ends. One instance for every test class, so no two
 * control planes answer the same commands. Where the broker has a SASL listener the control plane
 * uses it, authenticating as {@link #USER} with {@code --kafka-config}-style client settings.
 */
public final class ControlPlaneExtension implements BeforeAllCallback {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ControlPlaneExtension.class);

  /** The SASL user the shared control plane authenticates as, where the broker has SASL. */
  public static final String USER = "control-plane";
  private static final String PASSWORD = "control-plane-secret";

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
      // Over the broker's SASL listener where it has one, as user USER: every test on this
      // control plane then also shows it works on a Kafka that needs authentication.
      String servers = kafka.bootstrapServers();
      Map<String, String> client = Map.of();
      if (kafka.saslPlain().isPresent()) {
        SaslPlainListener sasl = kafka.saslPlain().get();
        sasl.addUser(USER, PASSWORD);
        servers = sasl.bootstrapServers();
        Map<String, String> settings = new HashMap<>();
        SaslPlainListener.clientProperties(USER, PASSWORD).forEach((k, v) ->
            settings.put((String) k, (String) v));
        client = Map.copyOf(settings);
      }
      Map<String, Object> adminConfig = new HashMap<>(client);
      adminConfig.put("bootstrap.servers", servers);
      try (Admin admin = Admin.create(adminConfig)) {
        new TopicBootstrapper(admin).ensureAll();
      }
      try {
        Path stateDir = Files.createTempDirectory("meshlog-control-plane");
        ControlPlaneApp app = new ControlPlaneApp(new ControlPlaneApp.Settings(
            servers, KafkaCluster.uniqueName("config-service"), stateDir,
            Duration.ofMillis(20), Duration.ofSeconds(1)).withClientSettings(client),
            ConfigService.resourceCheck(), ConfigService.discovery());
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
