package dev.meshlog.testkit;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Kafka in a container (the official {@code apache/kafka} image), for machines with a Docker
 * engine. Selected with {@code -Dmeshlog.kafka=testcontainers}.
 */
public final class TestcontainersKafka implements KafkaCluster, AutoCloseable {

  /** The image, matching the Kafka version Meshlog is built with. */
  public static final String IMAGE = "apache/kafka:4.3.1";

  private final KafkaContainer container;

  private TestcontainersKafka(KafkaContainer container) {
    this.container = container;
  }

  /** Whether a Docker engine answers on this machine. */
  public static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Starts the container; call only when {@link #dockerAvailable()}. */
  public static TestcontainersKafka start() {
    KafkaContainer container = new KafkaContainer(DockerImageName.parse(IMAGE));
    container.start();
    return new TestcontainersKafka(container);
  }

  @Override
  public String bootstrapServers() {
    return container.getBootstrapServers();
  }

  @Override
  public String kind() {
    return "testcontainers";
  }

  @Override
  public void close() {
    container.stop();
  }
}
