package dev.meshlog.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.meshlog.config.api.ConfigApi;
import dev.meshlog.config.api.ParsedDocuments;
import dev.meshlog.config.api.TokenFile;
import dev.meshlog.config.controlplane.ControlPlaneApp;
import dev.meshlog.config.model.Durations;
import dev.meshlog.schemas.KafkaClientSettings;
import dev.meshlog.schemas.SchemaRegistry;
import dev.meshlog.schemas.TopicBootstrapper;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.clients.admin.Admin;
import io.vertx.core.Vertx;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code config-service}: the control plane process (command log, registry, discovery views). */
@Command(name = "config-service", mixinStandardHelpOptions = true,
    description = "Meshlog's control plane: judges config commands into events, tracks the "
        + "registry and publishes discovery views.")
public final class ConfigServiceMain implements Callable<Integer> {

  @Option(names = "--bootstrap-server", description = "Kafka bootstrap servers "
      + "(default: $MESHLOG_BOOTSTRAP, else <data-dir>/bootstrap.servers)")
  String bootstrapServers;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka client settings (a properties file: security.protocol, sasl.*, ssl.*, "
          + "client tuning) for every Kafka client of the process (default: $MESHLOG_KAFKA_CONFIG). "
          + "Unknown keys are refused; so are bootstrap.servers, serializers, group.id and the "
          + "settings exactly-once rests on")
  Path kafkaConfig;

  @Option(names = "--data-dir", defaultValue = ".meshlog-data",
      description = "Where local state lives (default: ${DEFAULT-VALUE}); Streams state goes in <data-dir>/config-service")
  Path dataDir;

  @Option(names = "--application-id", defaultValue = "meshlog-config-service",
      description = "Kafka Streams application id; instances with the same id share the work (default: ${DEFAULT-VALUE})")
  String applicationId;

  @Option(names = "--commit-interval", defaultValue = "5ms",
      description = "Exactly-once commit interval: each commit is a hop from command to view (default: ${DEFAULT-VALUE})")
  String commitInterval;

  @Option(names = "--poll-interval",
      description = "How long the control-plane thread blocks in a poll that finds no input; "
          + "commands end a poll at once, registry traffic's commits and timers wait for it "
          + "(default: half the commit interval, at most 100ms)")
  String pollInterval;

  @Option(names = "--lease-scan-interval", defaultValue = "1s",
      description = "How late a lapsed instance lease may be noticed at most: the lease tick "
          + "fires when the earliest lease is due, never sooner than this apart (default: ${DEFAULT-VALUE})")
  String leaseScanInterval;

  @Option(names = "--api-host", defaultValue = "127.0.0.1",
      description = "Address of the config HTTP API (default: ${DEFAULT-VALUE})")
  String apiHost;

  @Option(names = "--api-port", defaultValue = "8484",
      description = "Port of the config HTTP API; 0 picks a free one, -1 turns it off (default: ${DEFAULT-VALUE})")
  int apiPort;

  @Option(names = "--api-token-file", paramLabel = "FILE",
      description = "The bearer tokens the HTTP API asks every request but /healthz for "
          + "(Authorization: Bearer TOKEN; each at least 16 characters). Either one token (the "
          + "file is the token; it may do everything, and commands record X-Meshlog-Actor), or "
          + "one line per user as Kubernetes' --token-auth-file: token,user,uid,\"roles\" with "
          + "roles read (GET routes) or write (apply, delete, rollback too); the user is the "
          + "actor recorded. Read again every 5s: a revoked token stops working. "
          + "Default: $MESHLOG_API_TOKEN_FILE, else none: an open API, as for a local run")
  Path apiTokenFile;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ConfigServiceMain()).execute(args));
  }

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    TokenFile apiTokens = apiTokens(apiTokenFile, System.getenv());
    KafkaClientSettings client = clientSettings(kafkaConfig, System.getenv());
    String servers = resolveBootstrap(bootstrapServers, dataDir);
    if (!client.isEmpty()) {
      System.out.println("Kafka client settings from " + client.source() + ": " + client);
    }
    try (Admin admin = Admin.create(client.clientConfig(servers))) {
      System.out.println(new TopicBootstrapper(admin).ensureAll().summary());
      SchemaRegistry.register(client.clientConfig(servers)); // before its first record
      SchemaRegistry.install(client.clientConfig(servers));
    } catch (KafkaException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), client.refusal(e));
    } catch (IllegalStateException e) {
      // e.g. a wrong password: Kafka's message says so ("Authentication failed: ...")
      spec.commandLine().getErr().println("config-service: Kafka at " + servers + ": "
          + e.getMessage());
      spec.commandLine().getErr().flush();
      return 1;
    }
    ControlPlaneApp app;
    try {
      app = new ControlPlaneApp(new ControlPlaneApp.Settings(servers, applicationId,
          dataDir.resolve("config-service").toAbsolutePath(), Durations.parse(commitInterval),
          Durations.parse(leaseScanInterval), pollInterval == null ? null : Durations.parse(pollInterval))
          .withClientSettings(client.asMap()),
          ConfigService.resourceCheck(), ConfigService.discovery());
    } catch (ConfigException e) {
      // a value Kafka refuses (e.g. from --kafka-config): its message names the key and value
      spec.commandLine().getErr().println("config-service: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 2;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Vertx vertx = apiPort >= 0 ? Vertx.vertx() : null;
    ConfigApi[] api = new ConfigApi[1];
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (api[0] != null) {
        api[0].close();
      }
      if (vertx != null) {
        vertx.close();
      }
      app.close();
      stopped.countDown();
    }, "config-service-shutdown"));
    app.start();
    if (!app.awaitRunning(Duration.ofMinutes(2))) {
      System.err.println("config-service: the control plane did not reach RUNNING; see the log");
      return 1;
    }
    String apiText = "";
    if (vertx != null) {
      api[0] = ConfigApi.start(vertx, new ConfigApi.Settings(servers, apiHost, apiPort,
          Duration.ofSeconds(30), client.asMap(), apiTokens), new ParsedDocuments(),
          Clock.systemUTC());
      apiText = ", HTTP API http://" + apiHost + ":" + api[0].port() + "/api/v1/"
          + (apiTokens == null ? " (open: no --api-token-file)"
              : " (bearer token asked; " + apiTokens.get().summary() + ")");
    }
    System.out.println("config-service running (Kafka " + servers + ", application " + applicationId
        + apiText + ")");
    stopped.await();
    return 0;
  }

  /**
   * {@code --kafka-config}, else {@code $MESHLOG_KAFKA_CONFIG}, checked against the control
   * plane's reserved keys; a usage error (exit 2) naming the file and the key otherwise.
   */
  KafkaClientSettings clientSettings(Path flag, Map<String, String> env) {
    try {
      return KafkaClientSettings.resolve(flag, env, ControlPlaneApp.RESERVED_CLIENT_KEYS);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /**
   * The API's bearer tokens: from {@code --api-token-file}, else the file
   * {@code MESHLOG_API_TOKEN_FILE} names, else none ({@code null}). A file that cannot be read
   * or is malformed stops the start (exit 2) with the reason, the file and the line.
   */
  TokenFile apiTokens(Path flag, Map<String, String> env) {
    Path file = flag;
    String name = "--api-token-file";
    if (file == null && env.get("MESHLOG_API_TOKEN_FILE") != null
        && !env.get("MESHLOG_API_TOKEN_FILE").isBlank()) {
      file = Path.of(env.get("MESHLOG_API_TOKEN_FILE").strip());
      name = "MESHLOG_API_TOKEN_FILE";
    }
    if (file == null) {
      return null;
    }
    try {
      return TokenFile.load(file, name + " " + file);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** {@code --bootstrap-server}, else {@code $MESHLOG_BOOTSTRAP}, else the local run's file. */
  static String resolveBootstrap(String flag, Path dataDir) throws java.io.IOException {
    if (flag != null && !flag.isBlank()) {
      return flag;
    }
    String env = System.getenv("MESHLOG_BOOTSTRAP");
    if (env != null && !env.isBlank()) {
      return env;
    }
    Path file = dataDir.resolve("bootstrap.servers");
    if (Files.exists(file)) {
      return Files.readString(file).strip();
    }
    throw new CommandLine.ParameterException(new CommandLine(new ConfigServiceMain()),
        "no Kafka to talk to: pass --bootstrap-server, set MESHLOG_BOOTSTRAP, or start ./meshlog kafka");
  }
}
