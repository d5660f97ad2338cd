package dev.meshlog.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

/** Runs only where a Docker engine exists; elsewhere it is skipped, not failed. */
class TestcontainersKafkaIT {

  @Test
  void startsKafkaInAContainerWhenDockerIsAvailable() throws Exception {
    assumeTrue(TestcontainersKafka.dockerAvailable(), "no Docker engine on this machine");
    try (TestcontainersKafka kafka = TestcontainersKafka.start(); Admin admin = kafka.admin()) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    }
  }
}
