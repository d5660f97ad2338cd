package dev.meshlog.testkit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that gives tests a real Kafka broker: one per JVM, started on first use,
 * shared by every test class, stopped (and its data deleted) when the test run ends.
 *
 * <p>By default the broker is {@link EmbeddedKafka}. With {@code -Dmeshlog.kafka=testcontainers}
 * it is {@link TestcontainersKafka} instead; on a machine without a Docker engine the tests that
 * need it are then skipped, not failed. Tests receive it as a {@link KafkaCluster} parameter
 * (constructor, lifecycle or test method).
 *
 * <p>The embedded broker also has a {@code SASL_PLAINTEXT} listener ({@link
 * KafkaCluster#saslPlain()}) for tests of clients that authenticate; a test needing it skips
 * itself on a cluster without one ({@link #saslPlain(KafkaCluster)}).
 */
public final class KafkaExtension implements BeforeAllCallback, ParameterResolver {

  /** System property choosing the broker: {@code embedded} (default) or {@code testcontainers}. */
  public static final String BACKEND_PROPERTY = "meshlog.kafka";

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(KafkaExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    cluster(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return KafkaCluster.class.isAssignableFrom(parameter.getParameter().getType())
        && parameter.getParameter().getType().isAssignableFrom(cluster(context).getClass());
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return cluster(context);
  }

  /**
   * {@code cluster}'s SASL listener; a test calling it is skipped (not failed) on a cluster
   * without one (a container).
   */
  public static SaslPlainListener saslPlain(KafkaCluster cluster) {
    Assumptions.assumeTrue(cluster.saslPlain().isPresent(),
        cluster.kind() + " Kafka has no SASL_PLAINTEXT listener: skipped");
    return cluster.saslPlain().get();
  }

  /** The JVM's shared cluster, started on first call. */
  public static KafkaCluster cluster(ExtensionContext context) {
    String backend = System.getProperty(BACKEND_PROPERTY, "embedded");
    if ("testcontainers".equals(backend)) {
      Assumptions.assumeTrue(TestcontainersKafka.dockerAvailable(),
          "-D" + BACKEND_PROPERTY + "=testcontainers but no Docker engine is available: skipped");
      return context.getRoot().getStore(NAMESPACE)
          .getOrComputeIfAbsent("testcontainers", k -> TestcontainersKafka.start(),
              TestcontainersKafka.class);
    }
    if (!"embedded".equals(backend)) {
      throw new IllegalArgumentException("-D" + BACKEND_PROPERTY + "=" + backend
          + " (expected: embedded or testcontainers)");
    }
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent("embedded", k -> EmbeddedKafka.startTemporary(true), EmbeddedKafka.class);
  }
}
