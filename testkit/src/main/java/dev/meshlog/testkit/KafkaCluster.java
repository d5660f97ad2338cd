package dev.meshlog.testkit;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;

/** A running Kafka cluster that tests and tools can connect to. */
public interface KafkaCluster {

  /** The {@code bootstrap.servers} value for clients, e.g. {@code 127.0.0.1:41234}. */
  String bootstrapServers();

  /** Where the cluster comes from: {@code embedded} or {@code testcontainers}. */
  String kind();

  /**
   * The cluster's {@code SASL_PLAINTEXT} listener with the {@code PLAIN} mechanism, if it has
   * one: {@link KafkaExtension}'s embedded broker has, a container has not.
   */
  default Optional<SaslPlainListener> saslPlain() {
    return Optional.empty();
  }

  /** Base client config: the bootstrap servers. */
  default Map<String, Object> clientConfig() {
    Map<String, Object> config = new HashMap<>();
    config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    return config;
  }

  /** A new admin client; the caller closes it. */
  default Admin admin() {
    return Admin.create(clientConfig());
  }

  /**
   * A name no other test in this JVM uses, for topics, consumer groups and Streams application
   * ids, so tests can share one broker without seeing each other's data.
   */
  static String uniqueName(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
