package dev.meshlog.proxy;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.meshlog.events.status.ProxyKind;
import dev.meshlog.events.status.ProxyState;
import dev.meshlog.proxy.admin.AdminHandler;
import dev.meshlog.proxy.admin.MeshMetrics;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.OutboundTrafficPolicy;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.BatchingAccessLog;
import dev.meshlog.proxy.http.GatewayBinding;
import dev.meshlog.proxy.http.ListenerBindException;
import dev.meshlog.proxy.http.Listener;
import dev.meshlog.proxy.http.ListenerLimits;
import dev.meshlog.proxy.http.ProxyRuntime;
import dev.meshlog.proxy.subscribe.KafkaClients;
import dev.meshlog.proxy.subscribe.MeshTopics;
import dev.meshlog.proxy.subscribe.Registrar;
import dev.meshlog.proxy.subscribe.SnapshotStore;
import dev.meshlog.proxy.subscribe.StatusReporter;
import dev.meshlog.proxy.subscribe.ViewApplier;
import dev.meshlog.proxy.subscribe.ViewSubscriber;
import dev.meshlog.proxy.subscribe.ViewsFile;
import dev.meshlog.proxy.tcp.TcpListeners;
import dev.meshlog.proxy.tcp.TcpTarget;
import dev.meshlog.proxy.telemetry.KafkaEventSink;
import dev.meshlog.proxy.telemetry.RequestEvents;
import dev.meshlog.proxy.telemetry.TelemetryEmitter;
import dev.meshlog.schemas.EdgeKeys;
import dev.meshlog.schemas.KafkaClientSettings;
import dev.meshlog.schemas.SchemaRegistry;
import dev.meshlog.schemas.Topics;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The proxy's command line: as a sidecar it starts the outbound, inbound and admin listeners
 * (and one local listener per TCP destination), follows its views on Kafka (or serves the last
 * good snapshot on disk), registers its instance, and on shutdown drains, deregisters and stops;
 * with {@code --gateway} it runs as that ingress gateway instead. Every option can also be set
 * with an environment variable ({@code MESHLOG_SERVICE}, ...; see {@code --help}).
 */
@Command(name = "meshlog-proxy", description = "The Meshlog sidecar proxy (or ingress gateway).",
    sortOptions = false, showDefaultValues = true)
public final class ProxyMain implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyMain.class);

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
  boolean help;

  @Option(names = "--service", defaultValue = "${env:MESHLOG_SERVICE}",
      description = "This workload's service name (env MESHLOG_SERVICE); required unless "
          + "--gateway.")
  String service;

  @Option(names = "--gateway", defaultValue = "${env:MESHLOG_GATEWAY}",
      description = "Run as the ingress gateway of this Gateway resource, bound to the view "
          + "gateway.<NAME>.<namespace> (env MESHLOG_GATEWAY).")
  String gateway;

  @Option(names = "--namespace", defaultValue = "${env:MESHLOG_NAMESPACE:-default}",
      description = "The service's (or Gateway's) namespace (env MESHLOG_NAMESPACE).")
  String namespace;

  @Option(names = "--version", defaultValue = "${env:MESHLOG_VERSION:-}",
      description = "Its version label, e.g. v1 (env MESHLOG_VERSION).")
  String version;

  @Option(names = "--instance-id", defaultValue = "${env:MESHLOG_INSTANCE_ID}",
      description = "Unique instance id (default: service-version-inboundPort; env "
          + "MESHLOG_INSTANCE_ID).")
  String instanceId;

  @Option(names = "--app-port", defaultValue = "${env:MESHLOG_APP_PORT:-0}",
      description = "The local app's HTTP port; required for a sidecar (env MESHLOG_APP_PORT).")
  int appPort;

  @Option(names = "--app-host", defaultValue = "${env:MESHLOG_APP_HOST:-127.0.0.1}",
      description = "The local app's host (env MESHLOG_APP_HOST).")
  String appHost;

  @Option(names = "--service-port", split = ",", defaultValue = "${env:MESHLOG_SERVICE_PORTS}",
      converter = PortConverter.class,
      description = "A port of the service, registered with the instance, as name:number"
          + "[:protocol] (protocol HTTP, HTTP2, GRPC, TCP or TLS; by default from the name's "
          + "prefix, Istio's convention: tcp-db:5432). Other proxies reach TCP ones through "
          + "this proxy's inbound port; the app listens on the number. Repeatable or "
          + "comma-separated (env MESHLOG_SERVICE_PORTS).")
  List<PortConfig> servicePorts = new ArrayList<>();

  @Option(names = "--inbound-port", defaultValue = "${env:MESHLOG_INBOUND_PORT:-15006}",
      description = "Port other proxies call, 0 = any (env MESHLOG_INBOUND_PORT).")
  int inboundPort;

  @Option(names = "--outbound-port", defaultValue = "${env:MESHLOG_OUTBOUND_PORT:-15001}",
      description = "Port the app calls, 0 = any (env MESHLOG_OUTBOUND_PORT).")
  int outboundPort;

  @Option(names = "--port", defaultValue = "${env:MESHLOG_PORT:-8080}",
      description = "A gateway's listening port, 0 = any (env MESHLOG_PORT).")
  int gatewayPort;

  @Option(names = "--server-listener", split = ",",
      defaultValue = "${env:MESHLOG_SERVER_LISTENERS}",
      description = "A gateway's local port for one of its HTTPS, TCP or TLS servers, as "
          + "serverPort=localPort (0 = any); by default the server's own port number, or any "
          + "free port when that is taken. Repeatable or comma-separated (env "
          + "MESHLOG_SERVER_LISTENERS).")
  Map<Integer, Integer> serverListeners = new HashMap<>();

  @Option(names = "--bind", defaultValue = "${env:MESHLOG_BIND:-0.0.0.0}",
      description = "A gateway's listening address (env MESHLOG_BIND).")
  String gatewayBind;

  @Option(names = "--admin-port", defaultValue = "${env:MESHLOG_ADMIN_PORT:-15000}",
      description = "Admin API port, 0 = any (env MESHLOG_ADMIN_PORT).")
  int adminPort;

  @Option(names = "--inbound-bind", defaultValue = "${env:MESHLOG_INBOUND_BIND:-0.0.0.0}",
      description = "Inbound address (env MESHLOG_INBOUND_BIND).")
  String inboundBind;

  @Option(names = "--outbound-bind", defaultValue = "${env:MESHLOG_OUTBOUND_BIND:-127.0.0.1}",
      description = "Outbound address, also of the TCP listeners; keep it on loopback (env "
          + "MESHLOG_OUTBOUND_BIND).")
  String outboundBind;

  @Option(names = "--tcp-listener", split = ",", defaultValue = "${env:MESHLOG_TCP_LISTENERS}",
      description = "The local port for a TCP destination, as host:port=localPort (0 = any "
          + "free port); without one a destination gets its own port number, or any free "
          + "port when that is taken. Repeatable or comma-separated (env "
          + "MESHLOG_TCP_LISTENERS).")
  Map<String, Integer> tcpListeners = new LinkedHashMap<>();

  @Option(names = "--admin-bind", defaultValue = "${env:MESHLOG_ADMIN_BIND:-127.0.0.1}",
      description = "Admin address (env MESHLOG_ADMIN_BIND).")
  String adminBind;

  @Option(names = "--advertise-address", defaultValue = "${env:MESHLOG_ADVERTISE_ADDRESS:-127.0.0.1}",
      description = "Address other proxies reach this instance at, as registered (env "
          + "MESHLOG_ADVERTISE_ADDRESS).")
  String advertiseAddress;

  @Option(names = "--region", defaultValue = "${env:MESHLOG_REGION:-}",
      description = "Region of this instance (env MESHLOG_REGION).")
  String region;

  @Option(names = "--zone", defaultValue = "${env:MESHLOG_ZONE:-}",
      description = "Zone of this instance (env MESHLOG_ZONE).")
  String zone;

  @Option(names = "--cluster", defaultValue = "${env:MESHLOG_CLUSTER:-}",
      description = "Cluster of this instance (env MESHLOG_CLUSTER).")
  String cluster;

  @Option(names = "--service-account", defaultValue = "${env:MESHLOG_SERVICE_ACCOUNT:-}",
      description = "Service account (env MESHLOG_SERVICE_ACCOUNT).")
  String serviceAccount;

  @Option(names = "--label", split = ",", defaultValue = "${env:MESHLOG_LABELS}",
      description = "Extra workload label key=value; repeatable or comma-separated (env "
          + "MESHLOG_LABELS).")
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(names = "--bootstrap-server", defaultValue = "${env:MESHLOG_BOOTSTRAP_SERVERS}",
      description = "Kafka bootstrap servers; without them the proxy serves the snapshot on "
          + "disk (env MESHLOG_BOOTSTRAP_SERVERS, else MESHLOG_BOOTSTRAP as the other "
          + "processes read it).")
  String bootstrapServers;

  /**
   * {@code --bootstrap-server} or its env var, else {@code MESHLOG_BOOTSTRAP} (the name the other
   * processes read); may be null.
   */
  private String kafkaServers() {
    if (bootstrapServers != null && !bootstrapServers.isBlank()) {
      return bootstrapServers;
    }
    String meshWide = System.getenv("MESHLOG_BOOTSTRAP");
    return meshWide == null || meshWide.isBlank() ? bootstrapServers : meshWide;
  }

  @Option(names = "--kafka-config", defaultValue = "${env:MESHLOG_KAFKA_CONFIG}",
      paramLabel = "FILE",
      description = "Kafka client settings (a properties file: security.protocol, sasl.*, ssl.*, "
          + "client tuning) for every Kafka client of the proxy: view consumer, status and "
          + "registration producer, telemetry producer (env MESHLOG_KAFKA_CONFIG). Unknown keys "
          + "are refused; so are bootstrap.servers and the settings exact views and counts rest on.")
  Path kafkaConfig;

  /**
   * Kafka client keys {@code --kafka-config} may not set, with why: the proxy reads only
   * committed views, from the start, without a group, and writes telemetry idempotently.
   */
  static final Map<String, String> RESERVED_CLIENT_KEYS = KafkaClientSettings.reserved(Map.of(
      ConsumerConfig.ISOLATION_LEVEL_CONFIG, "the proxy applies only committed views (read_committed)",
      ConsumerConfig.GROUP_ID_CONFIG, "the proxy reads its views without a consumer group",
      ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "the proxy reads its views without a consumer group",
      ProducerConfig.TRANSACTIONAL_ID_CONFIG, "the proxy's producers are not transactional",
      ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
      "request events are written idempotently, so counts stay exact",
      ProducerConfig.ACKS_CONFIG, "request events are written with acks=all"));

  /**
   * A usage error for a Kafka client the settings do not let Kafka make (e.g. a
   * {@code sasl.jaas.config} it cannot parse): the proxy does not start, and says why.
   */
  private CommandLine.ParameterException refused(KafkaClientSettings client, KafkaException e) {
    return new CommandLine.ParameterException(new CommandLine(this), client.refusal(e));
  }

  /** {@code --kafka-config} checked; a usage error (exit 2) naming the file and key if refused. */
  private KafkaClientSettings clientSettings() {
    try {
      return kafkaConfig == null ? KafkaClientSettings.none()
          : KafkaClientSettings.load(kafkaConfig, RESERVED_CLIENT_KEYS);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
  }

  @Option(names = "--snapshot-file", defaultValue = "${env:MESHLOG_SNAPSHOT_FILE}",
      description = "Where the last good views are kept (default: .meshlog-data/proxy/"
          + "<instance-id>.views; env MESHLOG_SNAPSHOT_FILE).")
  Path snapshotFile;

  @Option(names = "--views-file", defaultValue = "${env:MESHLOG_VIEWS_FILE}",
      description = "Views as JSON (ServiceView fields; omitted ones take their defaults), to "
          + "run without a control plane: they replace the snapshot file's content and are "
          + "loaded from it like a last good snapshot (env MESHLOG_VIEWS_FILE).")
  Path viewsFile;

  @Option(names = "--domain", defaultValue = "${env:MESHLOG_DOMAIN:-cluster.local}",
      description = "Cluster DNS domain (env MESHLOG_DOMAIN).")
  String domain;

  @Option(names = "--concurrency", defaultValue = "${env:MESHLOG_CONCURRENCY:-2}",
      description = "Event loops (env MESHLOG_CONCURRENCY).")
  int concurrency;

  @Option(names = "--transport", defaultValue = "${env:MESHLOG_TRANSPORT:-auto}",
      description = "Network transport: auto (Linux io_uring where it loads, else NIO), "
          + "io_uring, nio, or epoll (TCP passthrough fails on it); a native one that cannot "
          + "load falls back to NIO (env MESHLOG_TRANSPORT).")
  String transport;

  /** The shortest registration lease taken. */
  static final Duration MIN_LEASE = Duration.ofSeconds(1);

  @Option(names = "--lease", defaultValue = "${env:MESHLOG_LEASE:-30s}",
      converter = DurationConverter.class,
      description = "Registration lease, e.g. 30s (env MESHLOG_LEASE).")
  Duration lease;

  @Option(names = "--drain", defaultValue = "${env:MESHLOG_DRAIN:-5s}",
      converter = DurationConverter.class,
      description = "How long to keep serving after announcing DRAINING at shutdown (env "
          + "MESHLOG_DRAIN).")
  Duration drain;

  @Option(names = "--retry-buffer-bytes", defaultValue = "${env:MESHLOG_RETRY_BUFFER_BYTES:-65536}",
      description = "Request body kept for retries and mirrors (env "
          + "MESHLOG_RETRY_BUFFER_BYTES).")
  int retryBufferBytes;

  @Option(names = "--header-timeout", defaultValue = "${env:MESHLOG_HEADER_TIMEOUT:-10s}",
      converter = DurationConverter.class,
      description = "An HTTP/1 request's headers must all arrive within this long of its first "
          + "byte, else 408 and the connection is closed (slowloris); so must a gateway TLS "
          + "passthrough connection's ClientHello; 0s = no deadline (env "
          + "MESHLOG_HEADER_TIMEOUT).")
  Duration headerTimeout;

  @Option(names = "--outbound-traffic-policy",
      defaultValue = "${env:MESHLOG_OUTBOUND_TRAFFIC_POLICY:-REGISTRY_ONLY}",
      description = "A sidecar's mode for hosts the mesh does not know when no Sidecar resource "
          + "sets one: REGISTRY_ONLY (404 NR) or ALLOW_ANY (passed through to the host itself) "
          + "(env MESHLOG_OUTBOUND_TRAFFIC_POLICY).")
  String outboundTrafficPolicy;

  /** {@link #outboundTrafficPolicy} parsed, once {@link #start()} has read it. */
  private OutboundTrafficPolicy outboundDefault = OutboundTrafficPolicy.REGISTRY_ONLY;

  @Option(names = "--idle-timeout", defaultValue = "${env:MESHLOG_IDLE_TIMEOUT:-5m}",
      converter = DurationConverter.class,
      description = "Close client connections idle this long, e.g. 5m (env "
          + "MESHLOG_IDLE_TIMEOUT).")
  Duration idleTimeout;

  @Option(names = "--telemetry", defaultValue = "${env:MESHLOG_TELEMETRY:-auto}",
      description = "Request events on mesh.telemetry.requests: on, off, or auto = on when a "
          + "(telemetry) bootstrap server is set (env MESHLOG_TELEMETRY).")
  String telemetry;

  @Option(names = "--telemetry-bootstrap-server",
      defaultValue = "${env:MESHLOG_TELEMETRY_BOOTSTRAP_SERVERS}",
      description = "Kafka for request events, if not --bootstrap-server's; lets a proxy run on "
          + "--views-file and still emit (env MESHLOG_TELEMETRY_BOOTSTRAP_SERVERS).")
  String telemetryBootstrapServers;

  @Option(names = "--telemetry-buffer-events",
      defaultValue = "${env:MESHLOG_TELEMETRY_BUFFER_EVENTS:-10000}",
      description = "Request events that may wait for Kafka (queued or unacknowledged); beyond "
          + "that new ones are dropped and counted (env MESHLOG_TELEMETRY_BUFFER_EVENTS).")
  int telemetryBufferEvents;

  @Option(names = "--tcp-report-interval",
      defaultValue = "${env:MESHLOG_TCP_REPORT_INTERVAL:-15s}", converter = DurationConverter.class,
      description = "With telemetry on, report each open TCP connection this often (bytes since "
          + "the last report), besides when it closes, as Istio's tcp reporting duration; 0s = "
          + "only when it closes (env MESHLOG_TCP_REPORT_INTERVAL).")
  Duration tcpReportInterval;

  /** Threads of each of Vert.x's blocking pools (worker and internal). */
  static final int BLOCKING_THREADS = 2;

  private final CountDownLatch stopped = new CountDownLatch(1);

  /** Reads durations as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h} or ISO-8601. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(java.util.Locale.ROOT);
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]+)(ms|s|m|h)").matcher(v);
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
      }
      try {
        return Duration.parse(value.trim().toUpperCase(java.util.Locale.ROOT));
      } catch (java.time.format.DateTimeParseException e) {
        throw new CommandLine.TypeConversionException("duration: " + value
            + " (expected: e.g. 500ms, 30s, 5m, 1h or PT30S)");
      }
    }
  }

  /**
   * Reads a service port as {@code name:number[:protocol]}; without a protocol, the one the
   * name's prefix implies (Istio's convention), else HTTP.
   */
  static final class PortConverter implements CommandLine.ITypeConverter<PortConfig> {
    @Override
    public PortConfig convert(String value) {
      String[] parts = value.trim().split(":");
      try {
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty()) {
          throw new IllegalArgumentException();
        }
        int number = Integer.parseInt(parts[1]);
        if (number < 1 || number > 65535) {
          throw new IllegalArgumentException();
        }
        PortConfig.Protocol protocol = parts.length == 3
            ? PortConfig.Protocol.valueOf(parts[2].toUpperCase(java.util.Locale.ROOT))
            : PortConfig.Protocol.ofPortName(parts[0]);
        return new PortConfig(parts[0], number, protocol == PortConfig.Protocol.UNSPECIFIED
            ? PortConfig.Protocol.HTTP : protocol, null);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("service port: " + value
            + " (expected: name:number[:protocol], number 1..65535, protocol HTTP, HTTP2, GRPC,"
            + " TCP or TLS, e.g. tcp-db:5432 or api:8080:GRPC)");
      }
    }
  }

  /**
   * The proxy's command line: a usage error found once running (a refused {@code --kafka-config}
   * key, a bad {@code --telemetry}) is printed with the usage and exits 2, like a parse error.
   */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new ProxyMain());
    cli.setExecutionExceptionHandler((e, command, parsed) -> {
      if (e instanceof CommandLine.ParameterException p) {
        command.getErr().println(p.getMessage());
        command.usage(command.getErr());
        return 2;
      }
      ListenerBindException bind = bindFailure(e);
      if (bind != null) {
        command.getErr().println("meshlog-proxy: " + bind.getMessage()
            + flagHint(bind.listener()));
        return 1;
      }
      throw e;
    });
    return cli;
  }

  /** The listener that could not bind, if that is what stopped the start. */
  private static ListenerBindException bindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ListenerBindException b) {
        return b;
      }
    }
    return null;
  }

  /** Which flag moves {@code listener}'s port. */
  private static String flagHint(String listener) {
    return switch (listener) {
      case "outbound" -> "; choose another with --outbound-port (0: any free port)";
      case "inbound" -> "; choose another with --inbound-port (0: any free port)";
      case "admin" -> "; choose another with --admin-port (0: any free port)";
      case "gateway" -> "; choose another with --port";
      default -> "";
    };
  }

  /** Runs the proxy until the JVM is asked to stop. */
  public static void main(String[] args) {
    int code = commandLine().execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public Integer call() throws Exception {
    Running running = start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      running.stop(drain);
      stopped.countDown();
    }, "meshlog-proxy-shutdown"));
    stopped.await();
    return 0;
  }

  /** A started proxy and what to stop. */
  public static final class Running {
    private final Vertx vertx;
    private final Sidecar sidecar;
    private final Gateway gateway;
    private final TcpListeners tcp;
    private final Listener admin;
    private final ViewSubscriber subscriber;
    private final StatusReporter reporter;
    private final Registrar registrar;
    private final ViewApplier applier;
    private final KafkaProducer<byte[], byte[]> producer;
    private final AtomicBoolean draining;
    private final BatchingAccessLog accessLog;
    private final TelemetryEmitter telemetry;

    Running(Vertx vertx, Sidecar sidecar, Gateway gateway, TcpListeners tcp, Listener admin,
            ViewSubscriber subscriber, StatusReporter reporter, Registrar registrar,
            ViewApplier applier, KafkaProducer<byte[], byte[]> producer,
            AtomicBoolean draining, BatchingAccessLog accessLog, TelemetryEmitter telemetry) {
      this.accessLog = accessLog;
      this.telemetry = telemetry;
      this.vertx = vertx;
      this.sidecar = sidecar;
      this.gateway = gateway;
      this.tcp = tcp;
      this.admin = admin;
      this.subscriber = subscriber;
      this.reporter = reporter;
      this.registrar = registrar;
      this.applier = applier;
      this.producer = producer;
      this.draining = draining;
    }

    /** The sidecar's listeners; {@code null} for a gateway. */
    public Sidecar sidecar() {
      return sidecar;
    }

    /** The gateway's listener; {@code null} for a sidecar. */
    public Gateway gateway() {
      return gateway;
    }

    /** The local port of each TCP destination (a sidecar's); empty for a gateway. */
    public Map<TcpTarget, Integer> tcpPorts() {
      return tcp == null ? Map.of() : tcp.ports();
    }

    /** The admin listener's port. */
    public int adminPort() {
      return admin.port();
    }

    /** The view subscriber, or {@code null} without Kafka. */
    public ViewSubscriber subscriber() {
      return subscriber;
    }

    /**
     * Drains for {@code drain} ({@code /ready} answers 503, responses ask callers to reconnect
     * elsewhere and the registry says DRAINING while requests and TCP connections keep being
     * served), then stops the listeners, closes the TCP connections still open (each reported
     * closed before the telemetry's last flush), deregisters and stops everything.
     */
    public void stop(Duration drain) {
      draining.set(true);
      if (registrar != null) {
        registrar.drain();
      }
      if (!drain.isZero() && (registrar != null || gateway != null)) {
        try {
          Thread.sleep(drain.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (tcp != null) {
        tcp.close();
      }
      (sidecar != null ? sidecar.close() : gateway.close()).await();
      admin.close().await();
      if (subscriber != null) {
        subscriber.close();
        reporter.report(ProxyState.STOPPED, applier.acks());
        if (registrar != null) {
          registrar.close();
        }
        producer.close(Duration.ofSeconds(5));
      }
      vertx.close().await();
      if (telemetry != null) {
        telemetry.close();
      }
      accessLog.close();
    }
  }

  /** The fully qualified host of a {@code --tcp-listener} key, qualified like Kubernetes DNS. */
  private String qualify(String host) {
    String[] parts = host.split("\\.");
    if (parts.length == 1) {
      return host + "." + namespace + ".svc." + domain;
    }
    return parts.length == 2 ? host + ".svc." + domain : host;
  }

  /** The local port preferred for each TCP destination: as mapped, else its own number. */
  private java.util.function.ToIntFunction<TcpTarget> tcpPortChoice() {
    Map<TcpTarget, Integer> mapped = new HashMap<>();
    tcpListeners.forEach((key, local) -> {
      int colon = key.lastIndexOf(':');
      if (colon < 1) {
        throw new CommandLine.ParameterException(new CommandLine(this), "--tcp-listener: "
            + key + "=" + local + " (expected: host:port=localPort, e.g. db:5432=15432)");
      }
      mapped.put(new TcpTarget(qualify(key.substring(0, colon)),
          Integer.parseInt(key.substring(colon + 1))), local);
    });
    return t -> mapped.getOrDefault(t, t.port());
  }

  /** Starts everything and prints the ports chosen; blocks only while binding. */
  public Running start() {
    // Telemetry's edge keys are ns/service/version->ns/service/version: a name holding one of
    // their separators would make two edges one (the pipeline dead-letters such events).
    for (String[] flag : new String[][] {{"--service", service}, {"--gateway", gateway},
        {"--namespace", namespace}, {"--version", version}}) {
      if (flag[1] != null && EdgeKeys.holdsSeparator(flag[1])) {
        throw new CommandLine.ParameterException(new CommandLine(this), flag[0] + ": '" + flag[1]
            + "' (expected: " + EdgeKeys.EXPECTED_NAME + ")");
      }
    }
    if (lease == null || lease.compareTo(MIN_LEASE) < 0) {
      // The registrar heartbeats every third of the lease: 0s or less meant every millisecond.
      throw new CommandLine.ParameterException(new CommandLine(this), "--lease: " + lease
          + " (expected: at least " + MIN_LEASE.toSeconds() + "s; the proxy heartbeats every"
          + " third of it, and the control plane scans leases every second)");
    }
    GatewayBinding binding = gateway == null || gateway.isBlank() ? null
        : new GatewayBinding(gateway, namespace);
    if (binding == null && (service == null || service.isBlank() || appPort <= 0)) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--service and "
          + "--app-port are required for a sidecar (or MESHLOG_SERVICE and MESHLOG_APP_PORT),"
          + " unless --gateway runs the proxy as a gateway");
    }
    String name = binding != null ? binding.name() : service;
    String id = instanceId != null && !instanceId.isBlank() ? instanceId
        : binding != null ? "gateway-" + name + "-" + Long.toHexString(
            ThreadLocalRandom.current().nextLong())
        : service + (version.isEmpty() ? "" : "-" + version) + "-"
            + (inboundPort == 0 ? Long.toHexString(ThreadLocalRandom.current().nextLong())
                : Integer.toString(inboundPort));
    ProxyIdentity identity = new ProxyIdentity(id, name, namespace, version, region, zone,
        cluster, serviceAccount, labels);
    KafkaClientSettings client = clientSettings();
    String telemetryServers = telemetryServers();
    Clock clock = Clock.systemUTC();
    // io_uring or NIO, with the hook that watches a clear-text connection's first request
    // headers. The proxy runs no blocking code of its own; Vert.x's pools (20 threads each by
    // default, made on demand and kept) only load TLS material, so a few threads do.
    ProxyTransport.Kind transportKind;
    try {
      transportKind = ProxyTransport.Kind.parse(transport);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--" + e.getMessage());
    }
    try {
      outboundDefault = OutboundTrafficPolicy.parse(outboundTrafficPolicy);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--" + e.getMessage()
          .replace("outbound traffic policy", "outbound-traffic-policy"));
    }
    Vertx vertx = ProxyTransport.vertx(
        new VertxOptions().setEventLoopPoolSize(Math.max(1, concurrency))
            .setWorkerPoolSize(BLOCKING_THREADS).setInternalBlockingPoolSize(BLOCKING_THREADS),
        ProxyTransport.choose(transportKind), headerTimeout);
    SnapshotHolder holder = new SnapshotHolder(ProxySnapshot.empty(), identity, clock);
    MeshMetrics metrics = new MeshMetrics(identity, domain);
    bindLoopMetrics(holder, metrics.registry());
    ListenerLimits limits = new ListenerLimits(ListenerLimits.DEFAULT.maxHeaderBytes(),
        ListenerLimits.DEFAULT.maxHeaders(), ListenerLimits.DEFAULT.maxInitialLineBytes(),
        idleTimeout, retryBufferBytes, headerTimeout);
    BatchingAccessLog accessLog = BatchingAccessLog.toLogger();
    TelemetryEmitter emitter = null;
    try {
      if (telemetryServers != null) {
        KafkaEventSink sink = KafkaEventSink.toRequestsTopic(
            client.clientConfig(telemetryServers), "meshlog-proxy-telemetry-" + id);
        emitter = new TelemetryEmitter(new RequestEvents(identity, domain), sink,
            telemetryBufferEvents, TelemetryEmitter.DEFAULT_INTERVAL, Duration.ofSeconds(5),
            tcpReportInterval, clock)
            .bindTo(metrics.registry());
        if (!telemetryServers.equals(kafkaServers())) {
          // Events to a cluster of their own (or with no config cluster at all): their readers
          // there decode them with the schemas registered on that cluster.
          sink.registerSchemasInBackground();
        }
      }
    } catch (KafkaException e) {
      vertx.close();
      throw refused(client, e);
    }
    ProxyRuntime rt = new ProxyRuntime(vertx, Sidecar.newClient(vertx, 64), holder, clock,
        ThreadLocalRandom::current, AccessLog.all(emitter == null ? List.of(accessLog, metrics)
            : List.of(accessLog, metrics, emitter)), limits, domain);

    Path file = snapshotFile != null ? snapshotFile
        : Path.of(".meshlog-data", "proxy", id + ".views");
    SnapshotStore store = new SnapshotStore(file);
    if (viewsFile != null) {
      try {
        store.save(ViewsFile.read(viewsFile));
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("--views-file: " + e.getMessage(), e);
      }
    }
    ViewApplier applier = binding != null
        ? ViewApplier.forGateway(holder, binding.host(), namespace, clock)
        : new ViewApplier(holder, identity.host(domain), namespace, clock);
    ViewSubscriber subscriber = null;
    StatusReporter reporter = null;
    KafkaProducer<byte[], byte[]> producer = null;
    String servers = kafkaServers();
    if (servers != null && !servers.isBlank()) {
      if (!client.isEmpty()) {
        LOG.info("Kafka client settings from {}: {}", client.source(), client);
      }
      Map<String, Object> kafka = client.clientConfig(servers);
      try {
        producer = new KafkaProducer<>(KafkaClients.statusProducer(kafka, "meshlog-proxy-" + id),
            new ByteArraySerializer(), new ByteArraySerializer());
      } catch (KafkaException e) {
        if (emitter != null) {
          emitter.close();
        }
        vertx.close();
        throw refused(client, e);
      }
      // Its schemas before its first status record; views of newer schemas looked up on Kafka.
      SchemaRegistry.registerInBackground(producer);
      SchemaRegistry.install(kafka);
      reporter = new StatusReporter(producer, MeshTopics.DEFAULT.status(), identity,
          binding != null ? ProxyKind.GATEWAY : ProxyKind.SIDECAR, clock);
      subscriber = new ViewSubscriber(kafka, MeshTopics.DEFAULT.views(), applier, store,
          reporter);
      ViewSubscriber views = subscriber;
      // Ready, and sure that a host it does not know is not in the mesh, once it has read the
      // views to their end or restored its last good snapshot.
      holder.configuredWhen(() -> views.caughtUp() || views.loadedFromDisk());
      subscriber.start();
    } else {
      ViewSubscriber offline = new ViewSubscriber(Map.of(), MeshTopics.DEFAULT.views(), applier,
          store, null);
      // Without Kafka only the disk snapshot is served; the thread is never started.
      offline.restore();
    }
    try {
      return listen(rt, vertx, binding, identity, id, holder, metrics, clock, applier, subscriber,
          reporter, producer, accessLog, emitter);
    } catch (RuntimeException e) {
      // A listener that cannot bind stops the start: release what already runs, so that a
      // process exits at once and a caller in the same JVM keeps no thread or socket of it.
      if (subscriber != null) {
        subscriber.close();
      }
      if (emitter != null) {
        emitter.close();
      }
      if (producer != null) {
        producer.close(Duration.ZERO);
      }
      vertx.close().await();
      throw e;
    }
  }

  private Running listen(ProxyRuntime rt, Vertx vertx, GatewayBinding binding,
                         ProxyIdentity identity, String id, SnapshotHolder holder,
                         MeshMetrics metrics, Clock clock, ViewApplier applier,
                         ViewSubscriber subscriber, StatusReporter reporter,
                         KafkaProducer<byte[], byte[]> producer, BatchingAccessLog accessLog,
                         TelemetryEmitter emitter) {
    Sidecar sidecar = null;
    Gateway gw = null;
    TcpListeners tcp = null;
    if (binding != null) {
      gw = Gateway.start(rt, binding, gatewayBind, gatewayPort,
          serverPort -> serverListeners.getOrDefault(serverPort, serverPort), line -> {
            System.out.println(line);
            LOG.info(line);
          }).await();
    } else {
      sidecar = Sidecar.start(rt, new Sidecar.Ports(outboundBind, outboundPort, inboundBind,
          inboundPort, appHost, appPort, servicePorts), outboundDefault).await();
      tcp = new TcpListeners(rt, outboundBind, tcpPortChoice(), line -> {
        System.out.println(line);
        LOG.info(line);
      });
      tcp.start().await();
    }
    TcpListeners tcpListenersStarted = tcp;
    // Set at shutdown: /ready answers 503 and responses ask callers to reconnect elsewhere.
    AtomicBoolean draining = rt.drain();
    Sidecar sc = sidecar;
    Gateway g = gw;
    Listener admin = Listener.start(rt, "admin", adminBind, adminPort, new AdminHandler(holder,
        metrics, () -> !draining.get() && holder.configured(), clock,
        () -> listeners(sc, g, tcpListenersStarted))).await();
    Registrar registrar = null;
    if (producer != null && binding == null) {
      registrar = new Registrar(producer, MeshTopics.DEFAULT.registry(), identity,
          advertiseAddress, sidecar.inboundPort(), servicePorts, lease, clock);
      registrar.start();
    }
    String ports = binding != null
        ? "meshlog-gateway " + id + " gateway=" + binding.host() + " port=" + gatewayBind + ":"
            + gw.port() + " admin=" + adminBind + ":" + admin.port()
        : "meshlog-proxy " + id + " outbound=" + outboundBind + ":" + sidecar.outboundPort()
            + " inbound=" + inboundBind + ":" + sidecar.inboundPort() + " admin=" + adminBind
            + ":" + admin.port();
    System.out.println(ports);
    LOG.info(ports);
    return new Running(vertx, sidecar, gw, tcp, admin, subscriber, reporter, registrar, applier,
        producer, draining, accessLog, emitter);
  }

  /**
   * The Kafka request events go to, or {@code null} when telemetry is off: {@code --telemetry
   * off}, or {@code auto} without a Kafka to send to. Checked before anything starts.
   */
  private String telemetryServers() {
    String mode = telemetry == null ? "auto" : telemetry.trim().toLowerCase(java.util.Locale.ROOT);
    String servers = telemetryBootstrapServers != null && !telemetryBootstrapServers.isBlank()
        ? telemetryBootstrapServers : kafkaServers();
    boolean haveKafka = servers != null && !servers.isBlank();
    boolean on = switch (mode) {
      case "on" -> {
        if (!haveKafka) {
          throw new CommandLine.ParameterException(new CommandLine(this), "--telemetry on "
              + "needs a Kafka: --bootstrap-server or --telemetry-bootstrap-server");
        }
        yield true;
      }
      case "off" -> false;
      case "auto" -> haveKafka;
      default -> throw new CommandLine.ParameterException(new CommandLine(this), "--telemetry: "
          + telemetry + " (expected: on, off or auto)");
    };
    if (!on) {
      LOG.info("telemetry off: no request events");
      return null;
    }
    if (telemetryBufferEvents < 1) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--telemetry-buffer-events: " + telemetryBufferEvents + " (expected: at least 1)");
    }
    if (tcpReportInterval.isNegative()) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--tcp-report-interval: " + tcpReportInterval + " (expected: 0s or more)");
    }
    LOG.info("telemetry on: request events to {} on {}, buffer {} events",
        Topics.TELEMETRY_REQUESTS.name(), servers, telemetryBufferEvents);
    return servers;
  }
  /** What {@code /listeners} shows: the proxy's ports and each TCP destination's local port. */
  private JsonObject listeners(Sidecar sidecar, Gateway gateway, TcpListeners tcp) {
    JsonObject out = new JsonObject();
    if (sidecar != null) {
      out.put("outbound", outboundBind + ":" + sidecar.outboundPort())
          .put("inbound", inboundBind + ":" + sidecar.inboundPort());
    }
    if (gateway != null) {
      out.put("gateway", gateway.binding().host()).put("port", gatewayBind + ":"
          + gateway.port());
      JsonArray servers = new JsonArray();
      gateway.serverPorts().forEach((server, local) -> servers.add(new JsonObject()
          .put("server", server).put("local", gatewayBind + ":" + local)));
      out.put("servers", servers);
    }
    JsonArray tcpPorts = new JsonArray();
    if (tcp != null) {
      tcp.ports().forEach((target, local) -> tcpPorts.add(new JsonObject()
          .put("destination", target.toString()).put("local", outboundBind + ":" + local)));
    }
    return out.put("tcp", tcpPorts);
  }

  /**
   * {@code meshlog_request_loop_endpoints} (endpoints of the config in force left out as request
   * loops, see {@link dev.meshlog.proxy.cluster.LoopGuard}) and
   * {@code meshlog_request_loop_endpoints_left_out_total} (each snapshot built counts its own).
   */
  static void bindLoopMetrics(SnapshotHolder holder,
                              io.micrometer.core.instrument.MeterRegistry registry) {
    io.micrometer.core.instrument.Gauge.builder("meshlog.request.loop.endpoints", holder,
            h -> h.current().loops().size())
        .description("Endpoints of the config in force left out because each is this proxy's"
            + " own outbound or gateway listener (a request loop)")
        .register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder(
            "meshlog.request.loop.endpoints.left.out", holder, SnapshotHolder::loopsLeftOut)
        .description("Request-loop endpoints left out, counted once per snapshot built")
        .register(registry);
  }
}
