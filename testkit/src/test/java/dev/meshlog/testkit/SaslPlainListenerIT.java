package dev.meshlog.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;

@WithKafka
class SaslPlainListenerIT {

  private static Map<String, Object> config(SaslPlainListener sasl, String user, String password) {
    Map<String, Object> config = new HashMap<>();
    SaslPlainListener.clientProperties(user, password)
        .forEach((k, v) -> config.put((String) k, v));
    config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, sasl.bootstrapServers());
    return config;
  }

  @Test
  void letsInAUserTheTestAdded(KafkaCluster kafka) throws Exception {
    SaslPlainListener sasl = KafkaExtension.saslPlain(kafka);
    sasl.addUser("ana", "ana-secret");

    try (Admin admin = Admin.create(config(sasl, "ana", "ana-secret"))) {
      assertThat(admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)).hasSize(1);
    }
    assertThat(sasl.hasAuthenticated("ana")).isTrue();
  }

  @Test
  void refusesAWrongPasswordWithAnAuthenticationError(KafkaCluster kafka) {
    SaslPlainListener sasl = KafkaExtension.saslPlain(kafka);
    sasl.addUser("bob", "bob-secret");

    try (Admin admin = Admin.create(config(sasl, "bob", "wrong"))) {
      assertThatThrownBy(() -> admin.describeCluster().nodes().get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(SaslAuthenticationException.class);
    }
    assertThat(sasl.hasAuthenticated("bob")).isFalse();
  }

  @Test
  void keepsThePlaintextListenerAsItWas(KafkaCluster kafka) throws Exception {
    try (Admin admin = kafka.admin()) {
      assertThat(admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)).hasSize(1);
    }
  }
}
