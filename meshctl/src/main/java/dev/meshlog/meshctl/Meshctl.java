package dev.meshlog.meshctl;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.model.Durations;
import dev.meshlog.schemas.KafkaClientSettings;
import dev.meshlog.schemas.SchemaRegistry;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The {@code meshctl} command: options every subcommand shares, and how it reaches the cluster. */
@Command(name = "meshctl", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT,
    version = "meshctl 0.1.0",
    description = "Controls a Meshlog mesh: config (apply, get, delete, history, rollback), "
        + "GitOps, analysis, proxy status and the service graph, all through the mesh's Kafka topics.",
    subcommands = {ApplyCommand.class, DeleteCommand.class, GetCommand.class,
        HistoryCommand.class, RollbackCommand.class, AnalyzeCommand.class,
        ProxyStatusCommand.class, GitopsCommand.class, GraphCommand.class, TelemetryCommand.class,
        CommandLine.HelpCommand.class})
public final class Meshctl implements Runnable {

  /** Everything went as asked. */
  public static final int OK = 0;
  /** A command was rejected, a resource is invalid or missing, or analysis found errors. */
  public static final int FAILED = 1;
  /** The command line was wrong. */
  public static final int USAGE = 2;
  /** Kafka or the control plane did not answer in time. */
  public static final int UNREACHABLE = 3;

  @Spec
  CommandSpec spec;

  @Option(names = "--bootstrap-server", scope = ScopeType.INHERIT, paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers (default: $MESHLOG_BOOTSTRAP, else "
          + ".meshlog-data/bootstrap.servers in the current directory or $MESHLOG_HOME)")
  String bootstrapServer;

  @Option(names = "--kafka-config", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "Kafka client settings (a properties file, like Kafka tools' --command-config: "
          + "security.protocol, sasl.*, ssl.*, client tuning) for every command's clients "
          + "(default: $MESHLOG_KAFKA_CONFIG). Unknown keys are refused; so are bootstrap.servers "
          + "and the settings meshctl's exactly-once writes and committed reads rest on")
  Path kafkaConfigFile;

  /**
   * Kafka client keys {@code --kafka-config} may not set, with why: meshctl's writes are
   * idempotent (GitOps: transactional) and its reads see only committed events.
   */
  static final Map<String, String> RESERVED_CLIENT_KEYS = KafkaClientSettings.reserved(Map.of(
      ProducerConfig.TRANSACTIONAL_ID_CONFIG, "GitOps sync sets its own per repository and branch",
      ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "commands are written idempotently",
      ProducerConfig.ACKS_CONFIG, "commands are written with acks=all",
      ConsumerConfig.ISOLATION_LEVEL_CONFIG, "meshctl reads only committed events (read_committed)",
      ConsumerConfig.GROUP_ID_CONFIG, "meshctl reads without a consumer group",
      ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "meshctl reads without a consumer group",
      ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "meshctl reads each log from its start"));

  private KafkaClientSettings clientSettings;

  @Option(names = "--timeout", scope = ScopeType.INHERIT, paramLabel = "DURATION",
      defaultValue = "30s", converter = DurationConverter.class,
      description = "How long to wait for Kafka and the control plane (default: ${DEFAULT-VALUE})")
  Duration timeout;

  private final Environment environment;

  /** The command for {@code environment}. */
  Meshctl(Environment environment) {
    this.environment = environment;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The process environment. */
  Environment environment() {
    return environment;
  }

  /** The bootstrap servers, or a usage error naming where they were looked for. */
  String bootstrapServers() {
    // Not a ParameterException: picocli would print the whole usage after it, and nothing on
    // the command line was wrong.
    return Bootstrap.resolve(bootstrapServer, environment).orElseThrow(() ->
        new Bootstrap.NoClusterException(Bootstrap.missingMessage(environment)));
  }

  /** The bootstrap servers if configured, else a placeholder (for messages). */
  String bootstrapServer() {
    return Bootstrap.resolve(bootstrapServer, environment).orElse("(none)");
  }

  /**
   * The operator's Kafka client settings: {@code --kafka-config}, else
   * {@code $MESHLOG_KAFKA_CONFIG}; a usage error naming the file and the key if one is refused.
   */
  KafkaClientSettings clientSettings() {
    if (clientSettings == null) {
      try {
        Path file = kafkaConfigFile == null ? null
            : environment.workingDirectory().resolve(kafkaConfigFile);
        String fromEnv = environment.get(KafkaClientSettings.ENV);
        Map<String, String> env = fromEnv == null ? Map.of() : Map.of(KafkaClientSettings.ENV,
            environment.workingDirectory().resolve(fromEnv).toString());
        clientSettings = KafkaClientSettings.resolve(file, env, RESERVED_CLIENT_KEYS);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    return clientSettings;
  }

  /** Kafka client config for the cluster: the bootstrap servers and the operator's settings. */
  Map<String, Object> kafkaConfig() {
    return Map.copyOf(clientSettings().clientConfig(bootstrapServers()));
  }

  /** A new client of the cluster; the caller closes it. */
  MeshClient client() {
    SchemaRegistry.install(kafkaConfig()); // records of newer writers: their schemas on Kafka
    return new MeshClient(kafkaConfig(), timeout);
  }

  /**
   * {@link #client()} for a command that writes: this build's schemas registered first
   * ({@link #registerSchemas}), a failure reported as the client's own are (unreachable,
   * refused, bad settings).
   */
  MeshClient writer() {
    MeshClient client = client();
    try {
      registerSchemas(client);
      return client;
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /**
   * Registers this build's record schemas on {@code mesh.schemas}, so that readers of an earlier
   * release decode what this meshctl writes; on a cluster an earlier release set up (no such
   * topic) it says so on stderr and registers nothing — waiting for the topic's metadata would
   * only end in a timeout.
   *
   * @throws KafkaException as the client's own calls do (unreachable, refused)
   */
  void registerSchemas(MeshClient client) {
    if (!client.has(Topics.SCHEMAS)) {
      err().println("note: " + Topics.SCHEMAS.name() + " does not exist on this cluster (set"
          + " up by an earlier release): this meshctl's schemas are not registered");
      err().flush();
      return;
    }
    try {
      SchemaRegistry.register(kafkaConfig(), timeout);
    } catch (IllegalStateException e) {
      throw e.getCause() instanceof KafkaException kafka ? kafka : e;
    }
  }

  /** The standard output. */
  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** The error output. */
  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Parses Istio-style durations ({@code 10s}, {@code 1m30s}) for options. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return Durations.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
