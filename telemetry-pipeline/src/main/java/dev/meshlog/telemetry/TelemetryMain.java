package dev.meshlog.telemetry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.meshlog.schemas.KafkaClientSettings;
import dev.meshlog.schemas.SchemaRegistry;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.telemetry.query.TimeRange;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code telemetry-pipeline}: the process that aggregates request telemetry and serves the graph. */
@Command(name = "telemetry-pipeline", mixinStandardHelpOptions = true,
    description = "Meshlog's telemetry pipeline: request events into per-edge metrics per window, "
        + "the service graph page, the query API and Prometheus metrics.")
public final class TelemetryMain implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--bootstrap-server", description = "Kafka bootstrap servers "
      + "(default: $MESHLOG_BOOTSTRAP, else <data-dir>/bootstrap.servers)")
  String bootstrapServers;

  @Option(names = "--data-dir", defaultValue = ".meshlog-data",
      description = "Where local state lives (default: ${DEFAULT-VALUE}); Streams state goes in <data-dir>/telemetry-pipeline")
  Path dataDir;

  @Option(names = "--application-id", defaultValue = "meshlog-telemetry",
      description = "Kafka Streams application id; instances with the same id share the work and answer queries together (default: ${DEFAULT-VALUE})")
  String applicationId;

  @Option(names = "--http-host", defaultValue = "127.0.0.1",
      description = "Address the HTTP API and graph page bind (default: ${DEFAULT-VALUE})")
  String httpHost;

  @Option(names = "--http-port", defaultValue = "8486",
      description = "Port of the HTTP API and graph page; 0 picks a free one (default: ${DEFAULT-VALUE})")
  int httpPort;

  @Option(names = "--advertised-host",
      description = "Host other instances reach this one's HTTP API at (default: --http-host)")
  String advertisedHost;

  @Option(names = "--grace", defaultValue = "30s",
      description = "How late a request event may arrive and still count in its window (default: ${DEFAULT-VALUE})")
  String grace;

  @Option(names = "--commit-interval", defaultValue = "1s",
      description = "Exactly-once commit interval while caught up: how fresh the edges topic and queries are; "
          + "while reading a backlog, every 5 s or this, whichever is longer (default: ${DEFAULT-VALUE})")
  String commitInterval;

  @Option(names = "--max-ahead", defaultValue = "1m",
      description = "How far ahead of this pipeline's clock an event's time may be; an event further "
          + "ahead (a proxy whose clock is wrong) goes to mesh.deadletter alone, the rest of its batch "
          + "counted (at most 1h; default: ${DEFAULT-VALUE})")
  String maxAhead;

  @Option(names = "--stream-threads", defaultValue = "2",
      description = "Kafka Streams threads, each running some of the input partitions (default: ${DEFAULT-VALUE})")
  int streamThreads;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka client settings (a properties file: security.protocol, sasl.*, ssl.*, "
          + "client tuning) for every Kafka client of the pipeline, Kafka Streams' own included "
          + "(default: $MESHLOG_KAFKA_CONFIG); --streams-config entries go over them. Unknown keys "
          + "are refused; so are bootstrap.servers, serializers, group.id and the settings "
          + "exactly-once rests on")
  Path kafkaConfig;

  @Option(names = "--streams-config", paramLabel = "KEY=VALUE",
      description = "A Kafka Streams or Kafka client property over the pipeline's own, repeatable: "
          + "e.g. security.protocol=SASL_SSL, consumer.fetch.max.wait.ms=50, group.protocol=streams. "
          + "Unknown keys are refused; so are those set by the flags above and processing.guarantee")
  List<String> streamsConfig = new ArrayList<>();

  public static void main(String[] args) {
    System.exit(new CommandLine(new TelemetryMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Map<String, String> overrides;
    KafkaClientSettings client;
    try {
      client = KafkaClientSettings.resolve(kafkaConfig, System.getenv(),
          StreamsOverrides.RESERVED_CLIENT_KEYS);
      if (!client.isEmpty()) {
        System.out.println("Kafka client settings from " + client.source() + ": " + client);
      }
      overrides = StreamsOverrides.merge(client, streamsConfig);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    String servers = resolveBootstrap();
    Map<String, Object> adminConfig = new java.util.HashMap<>(StreamsOverrides.adminConfig(overrides));
    adminConfig.put("bootstrap.servers", servers);
    try (Admin admin = Admin.create(adminConfig)) {
      System.out.println(new TopicBootstrapper(admin).ensureAll().summary());
      SchemaRegistry.register(client.clientConfig(servers)); // before its first record
      SchemaRegistry.install(client.clientConfig(servers));
    } catch (KafkaException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), client.refusal(e));
    } catch (IllegalStateException e) {
      // e.g. a wrong password: Kafka's message says so ("Authentication failed: ...")
      spec.commandLine().getErr().println("telemetry-pipeline: Kafka at " + servers + ": "
          + e.getMessage());
      spec.commandLine().getErr().flush();
      return 1;
    }
    TelemetryTopology.Settings defaults = TelemetryTopology.Settings.defaults(applicationId);
    TelemetryTopology.Settings topology = new TelemetryTopology.Settings(applicationId,
        TimeRange.duration("--grace", grace), defaults.retention10s(), defaults.retention1m(),
        defaults.relativeAccuracy());
    try {
      topology = topology.withMaxAhead(TimeRange.duration("--max-ahead", maxAhead));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--max-ahead: " + e.getMessage());
    }
    TelemetryService service;
    try {
      service = TelemetryService.start(new TelemetryService.Settings(servers,
          dataDir.resolve("telemetry-pipeline").toAbsolutePath(), httpHost, httpPort,
          advertisedHost == null ? httpHost : advertisedHost,
          TimeRange.duration("--commit-interval", commitInterval), topology, streamThreads, overrides),
          Clock.systemUTC());
    } catch (ConfigException e) {
      // a value Kafka refuses (e.g. from --streams-config): its message names the key and value
      System.err.println("telemetry-pipeline: " + e.getMessage());
      return 2;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      service.close();
      stopped.countDown();
    }, "telemetry-shutdown"));
    if (!service.app().awaitRunning(Duration.ofMinutes(2))) {
      System.err.println("telemetry-pipeline: the Streams app did not reach RUNNING; see the log");
      return 1;
    }
    System.out.println("telemetry-pipeline running (Kafka " + servers + ", application " + applicationId
        + ", graph http://" + httpHost + ":" + service.httpPort() + "/, API /api/v1/graph, metrics /metrics)");
    stopped.await();
    return 0;
  }

  private String resolveBootstrap() throws java.io.IOException {
    if (bootstrapServers != null && !bootstrapServers.isBlank()) {
      return bootstrapServers;
    }
    String env = System.getenv("MESHLOG_BOOTSTRAP");
    if (env != null && !env.isBlank()) {
      return env;
    }
    Path file = dataDir.resolve("bootstrap.servers");
    if (Files.exists(file)) {
      return Files.readString(file).strip();
    }
    throw new CommandLine.ParameterException(spec.commandLine(),
        "no Kafka to talk to: pass --bootstrap-server, set MESHLOG_BOOTSTRAP, or start ./meshlog kafka");
  }
}
