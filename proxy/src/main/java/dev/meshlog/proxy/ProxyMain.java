package dev.meshlog.proxy;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;

import dev.meshlog.events.status.ProxyState;
import dev.meshlog.proxy.admin.AdminHandler;
import dev.meshlog.proxy.admin.MeshMetrics;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.BatchingAccessLog;
import dev.meshlog.proxy.http.Listener;
import dev.meshlog.proxy.http.ListenerLimits;
import dev.meshlog.proxy.http.ProxyRuntime;
import dev.meshlog.proxy.subscribe.MeshTopics;
import dev.meshlog.proxy.subscribe.Registrar;
import dev.meshlog.proxy.subscribe.SnapshotStore;
import dev.meshlog.proxy.subscribe.StatusReporter;
import dev.meshlog.proxy.subscribe.ViewApplier;
import dev.meshlog.proxy.subscribe.ViewSubscriber;
import dev.meshlog.proxy.subscribe.ViewsFile;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The sidecar's command line: starts the outbound, inbound and admin listeners, follows its
 * views on Kafka (or serves the last good snapshot on disk), registers its instance, and on
 * shutdown drains, deregisters and stops.
 */
@Command(name = "meshlog-proxy", description = "The Meshlog sidecar proxy.",
    sortOptions = false)
public final class ProxyMain implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyMain.class);

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
  boolean help;

  @Option(names = "--service", required = true, description = "This workload's service name.")
  String service;

  @Option(names = "--namespace", defaultValue = "default", description = "Its namespace.")
  String namespace;

  @Option(names = "--version", defaultValue = "", description = "Its version label, e.g. v1.")
  String version;

  @Option(names = "--instance-id", description = "Unique instance id (default: service-version-"
      + "inboundPort).")
  String instanceId;

  @Option(names = "--app-port", required = true, description = "The local app's port.")
  int appPort;

  @Option(names = "--app-host", defaultValue = "127.0.0.1", description = "The local app's host.")
  String appHost;

  @Option(names = "--inbound-port", defaultValue = "15006", description = "Port other proxies "
      + "call (0 = any).")
  int inboundPort;

  @Option(names = "--outbound-port", defaultValue = "15001", description = "Port the app calls "
      + "(0 = any).")
  int outboundPort;

  @Option(names = "--admin-port", defaultValue = "15000", description = "Admin API port (0 = any).")
  int adminPort;

  @Option(names = "--inbound-bind", defaultValue = "0.0.0.0", description = "Inbound address.")
  String inboundBind;

  @Option(names = "--outbound-bind", defaultValue = "127.0.0.1", description = "Outbound "
      + "address; keep it on loopback.")
  String outboundBind;

  @Option(names = "--admin-bind", defaultValue = "127.0.0.1", description = "Admin address.")
  String adminBind;

  @Option(names = "--advertise-address", defaultValue = "127.0.0.1", description = "Address "
      + "other proxies reach this instance at, as registered.")
  String advertiseAddress;

  @Option(names = "--region", defaultValue = "", description = "Region of this instance.")
  String region;

  @Option(names = "--zone", defaultValue = "", description = "Zone of this instance.")
  String zone;

  @Option(names = "--cluster", defaultValue = "", description = "Cluster of this instance.")
  String cluster;

  @Option(names = "--service-account", defaultValue = "", description = "Service account.")
  String serviceAccount;

  @Option(names = "--label", description = "Extra workload label key=value (repeatable).")
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(names = "--bootstrap-server", description = "Kafka bootstrap servers; without it the "
      + "proxy serves the snapshot on disk.")
  String bootstrapServers;

  @Option(names = "--snapshot-file", description = "Where the last good views are kept (default:"
      + " .meshlog-data/proxy/<instance-id>.views).")
  Path snapshotFile;

  @Option(names = "--views-file", description = "Views as JSON (ServiceView fields; omitted "
      + "ones take their defaults), to run without a control plane: they replace the snapshot "
      + "file's content and are loaded from it like a last good snapshot.")
  Path viewsFile;

  @Option(names = "--domain", defaultValue = "cluster.local", description = "Cluster DNS domain.")
  String domain;

  @Option(names = "--concurrency", defaultValue = "2", description = "Event loops.")
  int concurrency;

  @Option(names = "--lease", defaultValue = "30s", converter = DurationConverter.class,
      description = "Registration lease, e.g. 30s.")
  Duration lease;

  @Option(names = "--drain", defaultValue = "5s", converter = DurationConverter.class,
      description = "How long to keep serving after announcing DRAINING at shutdown.")
  Duration drain;

  @Option(names = "--retry-buffer-bytes", defaultValue = "65536", description = "Request body "
      + "kept for retries and mirrors.")
  int retryBufferBytes;

  @Option(names = "--idle-timeout", defaultValue = "5m", converter = DurationConverter.class,
      description = "Close client connections idle this long, e.g. 5m.")
  Duration idleTimeout;

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

  /** Runs the proxy until the JVM is asked to stop. */
  public static void main(String[] args) {
    int code = new CommandLine(new ProxyMain()).execute(args);
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
    private final Listener admin;
    private final ViewSubscriber subscriber;
    private final StatusReporter reporter;
    private final Registrar registrar;
    private final ViewApplier applier;
    private final KafkaProducer<byte[], byte[]> producer;
    private final java.util.concurrent.atomic.AtomicBoolean draining;
    private final BatchingAccessLog accessLog;

    Running(Vertx vertx, Sidecar sidecar, Listener admin, ViewSubscriber subscriber,
            StatusReporter reporter, Registrar registrar, ViewApplier applier,
            KafkaProducer<byte[], byte[]> producer,
            java.util.concurrent.atomic.AtomicBoolean draining, BatchingAccessLog accessLog) {
      this.draining = draining;
      this.accessLog = accessLog;
      this.vertx = vertx;
      this.sidecar = sidecar;
      this.admin = admin;
      this.subscriber = subscriber;
      this.reporter = reporter;
      this.registrar = registrar;
      this.applier = applier;
      this.producer = producer;
    }

    /** The sidecar's listeners. */
    public Sidecar sidecar() {
      return sidecar;
    }

    /** The admin listener's port. */
    public int adminPort() {
      return admin.port();
    }

    /**
     * Drains for {@code drain} ({@code /ready} answers 503 and the registry says DRAINING while
     * requests keep being served), then deregisters and stops everything.
     */
    public void stop(Duration drain) {
      draining.set(true);
      if (registrar != null) {
        registrar.drain();
        try {
          Thread.sleep(drain.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      sidecar.close().await();
      admin.close().await();
      if (subscriber != null) {
        subscriber.close();
        reporter.report(ProxyState.STOPPED, applier.acks());
        registrar.close();
        producer.close(Duration.ofSeconds(5));
      }
      vertx.close().await();
      accessLog.close();
    }
  }

  /** Starts everything and prints the ports chosen; blocks only while binding. */
  public Running start() {
    String id = instanceId != null ? instanceId
        : service + (version.isEmpty() ? "" : "-" + version) + "-"
            + (inboundPort == 0 ? Long.toHexString(ThreadLocalRandom.current().nextLong())
                : Integer.toString(inboundPort));
    ProxyIdentity identity = new ProxyIdentity(id, service, namespace, version, region, zone,
        cluster, serviceAccount, labels);
    Clock clock = Clock.systemUTC();
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(1, concurrency)));
    SnapshotHolder holder = new SnapshotHolder(ProxySnapshot.empty(), identity, clock);
    MeshMetrics metrics = new MeshMetrics();
    ListenerLimits limits = new ListenerLimits(ListenerLimits.DEFAULT.maxHeaderBytes(),
        ListenerLimits.DEFAULT.maxHeaders(), ListenerLimits.DEFAULT.maxInitialLineBytes(),
        idleTimeout, retryBufferBytes);
    BatchingAccessLog accessLog = BatchingAccessLog.toLogger();
    ProxyRuntime rt = new ProxyRuntime(vertx, Sidecar.newClient(vertx, 64), holder, clock,
        ThreadLocalRandom::current, AccessLog.all(List.of(accessLog, metrics)), limits,
        domain);

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
    ViewApplier applier = new ViewApplier(holder, identity.host(domain), namespace, clock);
    ViewSubscriber subscriber = null;
    StatusReporter reporter = null;
    KafkaProducer<byte[], byte[]> producer = null;
    if (bootstrapServers != null) {
      Map<String, Object> kafka = new HashMap<>();
      kafka.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      Map<String, Object> producerConfig = new HashMap<>(kafka);
      producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000);
      producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 5);
      producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, "meshlog-proxy-" + id);
      producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(),
          new ByteArraySerializer());
      reporter = new StatusReporter(producer, MeshTopics.DEFAULT.status(), identity, clock);
      subscriber = new ViewSubscriber(kafka, MeshTopics.DEFAULT.views(), applier, store,
          reporter);
      subscriber.start();
    } else {
      ViewSubscriber offline = new ViewSubscriber(Map.of(), MeshTopics.DEFAULT.views(), applier,
          store, null);
      // Without Kafka only the disk snapshot is served; the thread is never started.
      offline.restore();
    }
    Sidecar sidecar = Sidecar.start(rt, new Sidecar.Ports(outboundBind, outboundPort,
        inboundBind, inboundPort, appHost, appPort)).await();
    ViewSubscriber sub = subscriber;
    java.util.concurrent.atomic.AtomicBoolean draining =
        new java.util.concurrent.atomic.AtomicBoolean();
    Listener admin = Listener.start(rt, "admin", adminBind, adminPort, new AdminHandler(holder,
        metrics, () -> !draining.get()
            && (sub == null || sub.caughtUp() || sub.loadedFromDisk()), clock)).await();
    Registrar registrar = null;
    if (producer != null) {
      registrar = new Registrar(producer, MeshTopics.DEFAULT.registry(), identity,
          advertiseAddress, sidecar.inboundPort(), lease, clock);
      registrar.start();
    }
    String ports = "meshlog-proxy " + id + " outbound=" + outboundBind + ":"
        + sidecar.outboundPort() + " inbound=" + inboundBind + ":" + sidecar.inboundPort()
        + " admin=" + adminBind + ":" + admin.port();
    System.out.println(ports);
    LOG.info(ports);
    return new Running(vertx, sidecar, admin, subscriber, reporter, registrar, applier,
        producer, draining, accessLog);
  }
}
