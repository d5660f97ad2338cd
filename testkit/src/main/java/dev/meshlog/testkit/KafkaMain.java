package dev.meshlog.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import dev.meshlog.schemas.SchemaRegistry;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import kafka.server.KafkaConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.utils.AppInfoParser;

/**
 * {@code ./meshlog kafka}: runs the embedded broker in the foreground on a persistent data
 * directory, creates the mesh's topics, prints the bootstrap address and runs until interrupted.
 */
public final class KafkaMain {

  private KafkaMain() {}

  public static void main(String[] args) throws Exception {
    if (System.getProperty("log4j2.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "classpath:log4j2-kafka.xml");
    }
    // Our shutdown hook stops Kafka, which logs while stopping: Log4j must outlive it.
    System.setProperty("log4j2.shutdownHookEnabled", "false");
    Path dataDir = Path.of(".meshlog-data");
    int port = 0;
    Map<String, String> overrides = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--data-dir" -> dataDir = Path.of(value(args, ++i, "--data-dir"));
        case "--port" -> port = parsePort(value(args, ++i, "--port"));
        case "--config" -> {
          try {
            Map.Entry<String, String> setting = setting(value(args, ++i, "--config"));
            overrides.put(setting.getKey(), setting.getValue());
          } catch (IllegalArgumentException e) {
            System.err.println("meshlog kafka: " + e.getMessage() + "\n" + usage());
            System.exit(2);
          }
        }
        case "-h", "--help" -> {
          System.out.println(usage());
          return;
        }
        default -> {
          System.err.println("meshlog kafka: unknown argument " + args[i] + "\n" + usage());
          System.exit(2);
        }
      }
    }
    Path kafkaDir = dataDir.resolve("kafka").toAbsolutePath();
    EmbeddedKafka kafka = EmbeddedKafka.startPersistent(kafkaDir, port, overrides);
    try (Admin admin = kafka.admin()) {
      TopicBootstrapper.Report report = new TopicBootstrapper(admin).ensureAll();
      System.out.println(report.summary());
    }
    System.out.println("schemas: " + SchemaRegistry.register(kafka.clientConfig())
        + " registered on " + Topics.SCHEMAS.name());
    Path bootstrapFile = dataDir.resolve("bootstrap.servers");
    // Written beside it and renamed, so a reader polling for the file never reads it empty.
    Path written = dataDir.resolve("bootstrap.servers.tmp");
    Files.writeString(written, kafka.bootstrapServers() + "\n");
    Files.move(written, bootstrapFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("stopping Kafka ...");
      kafka.close();
      try {
        Files.deleteIfExists(bootstrapFile);
      } catch (java.io.IOException ignored) {
        // the file is a hint; a stale one is checked by readers
      }
      System.out.println("Kafka stopped");
      stopped.countDown();
    }, "kafka-shutdown"));
    System.out.println("Kafka is running. bootstrap.servers=" + kafka.bootstrapServers());
    System.out.println("data: " + kafkaDir + "  (Ctrl-C to stop; data is kept)");
    stopped.await();
  }

  /** One {@code --config KEY=VALUE}: a broker setting over testkit's own. */
  static Map.Entry<String, String> setting(String text) {
    int eq = text.indexOf('=');
    if (eq <= 0 || text.substring(0, eq).isBlank()) {
      throw new IllegalArgumentException("--config " + text
          + " (expected: KEY=VALUE, a broker setting such as num.io.threads=2)");
    }
    String key = text.substring(0, eq).trim();
    if (!isBrokerSetting(key)) {
      throw new IllegalArgumentException("--config " + text + ": " + key
          + " is not a setting of this Kafka broker (" + AppInfoParser.getVersion()
          + "); a misspelt setting would be ignored, so it is refused (expected: a broker"
          + " setting such as num.io.threads=2, or listener.name.<listener>.<setting>)");
    }
    return Map.entry(key, text.substring(eq + 1).trim());
  }

  /**
   * Whether the broker knows {@code key}: one of its documented settings, or a per-listener
   * override ({@code listener.name.<listener>.<setting>}), which the broker reads by prefix.
   */
  static boolean isBrokerSetting(String key) {
    return KafkaConfig.configDef().names().contains(key) || key.startsWith("listener.name.");
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      System.err.println("meshlog kafka: " + flag + " needs a value\n" + usage());
      System.exit(2);
    }
    return args[i];
  }

  private static int parsePort(String value) {
    try {
      int port = Integer.parseInt(value);
      if (port >= 0 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    System.err.println("meshlog kafka: --port " + value + " (expected: 0..65535)");
    System.exit(2);
    return -1;
  }

  private static String usage() {
    return """
        usage: meshlog kafka [--data-dir DIR] [--port N] [--config KEY=VALUE]...
          --data-dir DIR      where Kafka keeps its data (default .meshlog-data); reused on restart
          --port N            client port (default: the last run's, else a free one)
          --config KEY=VALUE  a broker setting over testkit's own (repeatable; for A/B runs)""";
  }
}
