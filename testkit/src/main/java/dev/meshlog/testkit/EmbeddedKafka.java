package dev.meshlog.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) running in this JVM.
 *
 * <p>Its data lives either in a temporary directory removed by {@link #close()} (tests) or in a
 * directory that survives restarts (the local mesh): a persistent directory is formatted once and
 * reused, so topics and records outlive the process. Listeners bind to 127.0.0.1.
 *
 * <p>Built on Kafka's own {@code KafkaRaftServer} and {@code StorageTool}, which are internal
 * APIs: upgrading Kafka may need changes here and nowhere else.
 */
public final class EmbeddedKafka implements KafkaCluster, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
  private static final String STATE_FILE = "meshlog-kafka.properties";

  private final Path dataDir;
  private final boolean temporary;
  private final int brokerPort;
  private final KafkaRaftServer server;
  private final SaslPlainListener saslPlain;

  private EmbeddedKafka(Path dataDir, boolean temporary, int brokerPort, KafkaRaftServer server,
                        SaslPlainListener saslPlain) {
    this.dataDir = dataDir;
    this.temporary = temporary;
    this.brokerPort = brokerPort;
    this.server = server;
    this.saslPlain = saslPlain;
  }

  /** Starts a broker on free ports with its data in a temporary directory. */
  public static EmbeddedKafka startTemporary() {
    return startTemporary(false);
  }

  /**
   * Starts a broker on free ports with its data in a temporary directory.
   *
   * @param saslPlain whether to add a {@code SASL_PLAINTEXT} listener ({@link SaslPlainListener},
   *     {@code PLAIN} users added by the tests) beside the PLAINTEXT one
   */
  public static EmbeddedKafka startTemporary(boolean saslPlain) {
    try {
      Path dir = Files.createTempDirectory("meshlog-kafka-");
      return start(dir, true, 0, Map.of(), saslPlain);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts a broker on a persistent data directory, formatting it the first time.
   *
   * @param dataDir where the log segments and the cluster id live
   * @param port the client port; 0 reuses the port of the last run, or picks a free one
   * @param overrides extra broker configs
   */
  public static EmbeddedKafka startPersistent(Path dataDir, int port, Map<String, String> overrides) {
    return start(dataDir, false, port, overrides, false);
  }

  /** How many times a start is tried when a port picked as free was taken before Kafka bound it. */
  private static final int START_ATTEMPTS = 5;

  /**
   * Starts a broker, again on other ports when one it picked was taken before it bound it: a port
   * is picked free by binding and closing a socket, and Kafka binds it a moment later, so another
   * process on the machine (parallel builds, other test JVMs) can take it in between. Only
   * ports picked here are picked again; a requested client port is kept (its bind failure is the
   * caller's).
   */
  private static EmbeddedKafka start(Path dataDir, boolean temporary, int requestedPort,
                                     Map<String, String> overrides, boolean saslPlain) {
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce(dataDir, temporary, requestedPort, overrides, saslPlain);
      } catch (RuntimeException e) {
        if (attempt >= START_ATTEMPTS || !isBindFailure(e)
            || (requestedPort > 0 && mentions(e, ":" + requestedPort))) {
          throw e;
        }
        LOG.warn("Kafka could not bind a port picked as free (attempt {} of {}): {}; picking others",
            attempt, START_ATTEMPTS, e.getMessage());
      }
    }
  }

  /** Whether {@code e} (or a cause) says a socket could not bind because its address was in use. */
  static boolean isBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.net.BindException) {
        return true;
      }
    }
    return mentions(e, "Address already in use");
  }

  private static boolean mentions(Throwable e, String text) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains(text)) {
        return true;
      }
    }
    return false;
  }

  private static EmbeddedKafka startOnce(Path dataDir, boolean temporary, int requestedPort,
                                         Map<String, String> overrides, boolean saslPlain) {
    try {
      Files.createDirectories(dataDir);
      Path logDir = dataDir.resolve("kraft-logs");
      Path stateFile = dataDir.resolve(STATE_FILE);
      Properties state = new Properties();
      if (Files.exists(stateFile)) {
        try (var in = Files.newInputStream(stateFile)) {
          state.load(in);
        }
      }
      String clusterId = state.getProperty("cluster.id", Uuid.randomUuid().toString());
      int brokerPort = requestedPort > 0 ? requestedPort
          : reusableOrFree(state.getProperty("broker.port"));
      int controllerPort = reusableOrFree(state.getProperty("controller.port"));
      if (controllerPort == brokerPort) {
        controllerPort = freePort();
      }

      Properties props = new Properties();
      props.put("process.roles", "broker,controller");
      props.put("node.id", "1");
      props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
      props.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort
          + ",CONTROLLER://127.0.0.1:" + controllerPort);
      props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
      props.put("controller.listener.names", "CONTROLLER");
      props.put("inter.broker.listener.name", "PLAINTEXT");
      props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      props.put("log.dirs", logDir.toString());
      props.put("num.partitions", "1");
      props.put("auto.create.topics.enable", "false");
      props.put("offsets.topic.replication.factor", "1");
      props.put("offsets.topic.num.partitions", "4");
      props.put("transaction.state.log.replication.factor", "1");
      props.put("transaction.state.log.min.isr", "1");
      props.put("transaction.state.log.num.partitions", "4");
      props.put("share.coordinator.state.topic.replication.factor", "1");
      props.put("share.coordinator.state.topic.min.isr", "1");
      props.put("group.initial.rebalance.delay.ms", "0");
      // Transactions v2 add a partition to a transaction on the produce path: while the
      // coordinator still completes the producer's previous transaction (its markers, then
      // CompleteCommit in the transaction log) the broker answers CONCURRENT_TRANSACTIONS to
      // itself and retries the produce after this backoff (Kafka: 20 ms; given up after
      // add.partitions.to.txn.retry.backoff.max.ms, 100 ms). That window lasts a few ms on this
      // broker, and a Streams app meets it whenever it sends right after a commit: a burst of
      // config commands or registrations. Loading 200 services (~940 transactions, ~245 such
      // retries) showed the 20 ms step as a bump at 25-30 ms in the transactions' produce time;
      // with 5 ms it is gone (config-service/README.md, "Broker settings").
      props.put("add.partitions.to.txn.retry.backoff.ms", "5");
      // Small segments and fast compaction checks keep a laptop's disk and tests' waits small.
      props.put("log.segment.bytes", Integer.toString(64 << 20));
      props.put("log.cleaner.backoff.ms", "5000");
      props.put("log.cleaner.dedupe.buffer.size", Integer.toString(8 << 20));
      props.put("log.cleaner.threads", "1");
      props.put("num.network.threads", "2");
      props.put("num.io.threads", "4");
      props.put("num.recovery.threads.per.data.dir", "1");
      props.put("background.threads", "4");
      props.putAll(overrides);
      int saslPort = 0;
      if (saslPlain) {
        saslPort = freePort();
        while (saslPort == brokerPort || saslPort == controllerPort) {
          saslPort = freePort();
        }
        SaslPlainListener.configure(props, saslPort);
      }

      if (!Files.exists(logDir.resolve("meta.properties"))) {
        format(dataDir, clusterId, props);
      }
      state.setProperty("cluster.id", clusterId);
      state.setProperty("broker.port", Integer.toString(brokerPort));
      state.setProperty("controller.port", Integer.toString(controllerPort));
      try (var out = Files.newOutputStream(stateFile)) {
        state.store(out, "Meshlog embedded Kafka: reused on restart");
      }

      KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
      try {
        server.startup();
      } catch (RuntimeException e) {
        // Kafka shuts a failed start down itself; this makes sure nothing of it is left bound
        // before the caller tries again.
        try {
          server.shutdown();
          server.awaitShutdown();
        } catch (RuntimeException ignored) {
          // already down
        }
        throw e;
      }
      EmbeddedKafka kafka = new EmbeddedKafka(dataDir, temporary, brokerPort, server,
          saslPlain ? new SaslPlainListener(saslPort) : null);
      kafka.awaitReady(Duration.ofSeconds(60));
      LOG.info("Kafka ready at {} (data in {})", kafka.bootstrapServers(), dataDir);
      return kafka;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start Kafka in " + dataDir, e);
    }
  }

  private static void format(Path dataDir, String clusterId, Properties props) throws IOException {
    Path config = dataDir.resolve("format.properties");
    try (var out = Files.newOutputStream(config)) {
      props.store(out, "used once to format the log directory");
    }
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    int code;
    try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
      code = StorageTool.execute(new String[] {"format", "-t", clusterId, "-c", config.toString()},
          print);
    } finally {
      Files.deleteIfExists(config);
    }
    if (code != 0) {
      throw new IOException("formatting " + dataDir + " failed: "
          + output.toString(StandardCharsets.UTF_8));
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = admin()) {
      while (true) {
        try {
          if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
            return;
          }
        } catch (ExecutionException | TimeoutException e) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("Kafka did not become ready at " + bootstrapServers(), e);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Kafka", e);
    }
  }

  private static int reusableOrFree(String previous) throws IOException {
    if (previous != null) {
      int port = Integer.parseInt(previous);
      if (isFree(port)) {
        return port;
      }
      LOG.warn("port {} used by the last run is taken now; picking another", port);
    }
    return freePort();
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  @Override
  public String bootstrapServers() {
    return "127.0.0.1:" + brokerPort;
  }

  @Override
  public Optional<SaslPlainListener> saslPlain() {
    return Optional.ofNullable(saslPlain);
  }

  @Override
  public String kind() {
    return "embedded";
  }

  /** The directory holding this broker's data. */
  public Path dataDir() {
    return dataDir;
  }

  /** Stops the broker and, for a temporary broker, deletes its data. */
  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    if (temporary) {
      deleteRecursively(dataDir);
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("could not delete {}: {}", dir, e.getMessage());
    }
  }
}
