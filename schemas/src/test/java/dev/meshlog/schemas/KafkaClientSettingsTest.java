package dev.meshlog.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientSettingsTest {

  private static final Map<String, String> RESERVED =
      KafkaClientSettings.reserved(Map.of("group.id", "use --application-id"));

  @TempDir
  Path dir;

  private Path file(String text) throws IOException {
    Path f = dir.resolve("client.properties");
    Files.writeString(f, text);
    return f;
  }

  @Test
  void loadsSecuritySettingsFromAPropertiesFile() throws IOException {
    KafkaClientSettings settings = KafkaClientSettings.load(file("""
        # a comment
        security.protocol=SASL_PLAINTEXT
        sasl.mechanism = PLAIN
        sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\
          username="ana" password="s3cret";
        """), RESERVED);

    assertThat(settings.asMap()).containsEntry("security.protocol", "SASL_PLAINTEXT")
        .containsEntry("sasl.mechanism", "PLAIN")
        .containsEntry("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule"
            + " required username=\"ana\" password=\"s3cret\";");
    assertThat(settings.clientConfig("h:9092")).containsEntry("bootstrap.servers", "h:9092")
        .containsEntry("security.protocol", "SASL_PLAINTEXT");
  }

  @Test
  void hidesPasswordsInItsText() throws IOException {
    KafkaClientSettings settings = KafkaClientSettings.load(file("""
        sasl.jaas.config=x required password="s3cret";
        ssl.truststore.password=changeit
        ssl.truststore.location=/etc/ts.p12
        """), RESERVED);

    assertThat(settings.toString()).doesNotContain("s3cret").doesNotContain("changeit")
        .contains("sasl.jaas.config=[hidden]", "ssl.truststore.location=/etc/ts.p12");
  }

  @Test
  void refusesAnUnknownKeyNamingItAndTheFile() throws IOException {
    Path f = file("security.protocl=SASL_SSL\n");

    assertThatThrownBy(() -> KafkaClientSettings.load(f, RESERVED))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--kafka-config " + f)
        .hasMessageContaining("security.protocl is not a Kafka client setting");
  }

  @Test
  void refusesAReservedKeyWithTheFlagToUse() throws IOException {
    Path f = file("bootstrap.servers=elsewhere:9092\n");

    assertThatThrownBy(() -> KafkaClientSettings.load(f, RESERVED))
        .hasMessageContaining("bootstrap.servers cannot be set here: use --bootstrap-server");
    assertThatThrownBy(() -> KafkaClientSettings.load(file("group.id=mine\n"), RESERVED))
        .hasMessageContaining("group.id cannot be set here: use --application-id");
    assertThatThrownBy(() -> KafkaClientSettings.load(file("value.serializer=x.Y\n"), RESERVED))
        .hasMessageContaining("value.serializer cannot be set here");
  }

  @Test
  void refusesAValueKafkaWouldRefuseNamingTheKey() throws IOException {
    Path f = file("security.protocol=SASL_TLS\n");

    assertThatThrownBy(() -> KafkaClientSettings.load(f, RESERVED))
        .hasMessageContaining("--kafka-config " + f)
        .hasMessageContaining("security.protocol");
    assertThatThrownBy(() -> KafkaClientSettings.load(file("request.timeout.ms=soon\n"),
        RESERVED)).hasMessageContaining("request.timeout.ms");
  }

  @Test
  void namesAMissingFile() {
    Path missing = dir.resolve("nope.properties");

    assertThatThrownBy(() -> KafkaClientSettings.load(missing, RESERVED))
        .hasMessageContaining("--kafka-config " + missing + ": cannot read it");
  }

  @Test
  void takesTheFileFromTheEnvironmentWhenTheFlagIsAbsent() throws IOException {
    Path f = file("security.protocol=SSL\n");

    assertThat(KafkaClientSettings.resolve(null, Map.of(KafkaClientSettings.ENV, f.toString()),
        RESERVED).asMap()).containsEntry("security.protocol", "SSL");
    Path bad = file("group.id=g\n");
    assertThatThrownBy(() -> KafkaClientSettings.resolve(null,
        Map.of(KafkaClientSettings.ENV, bad.toString()), RESERVED))
        .hasMessageStartingWith("$MESHLOG_KAFKA_CONFIG " + bad + ": group.id");
    assertThat(KafkaClientSettings.resolve(null, Map.of(), RESERVED).isEmpty()).isTrue();
  }

  @Test
  void theFlagWinsOverTheEnvironment() throws IOException {
    Path f = file("security.protocol=SSL\n");

    assertThat(KafkaClientSettings.resolve(f, Map.of(KafkaClientSettings.ENV,
        dir.resolve("absent").toString()), RESERVED).asMap())
        .containsEntry("security.protocol", "SSL");
  }

  @Test
  void overridesGoOverTheFileAndAreCheckedLikeIt() throws IOException {
    KafkaClientSettings settings = KafkaClientSettings.load(file("security.protocol=SSL\n"),
        RESERVED).withOverrides(List.of("security.protocol=SASL_SSL", "linger.ms=3"),
        "--client-config", RESERVED);

    assertThat(settings.asMap()).containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("linger.ms", "3");
    assertThatThrownBy(() -> KafkaClientSettings.none().withOverrides(List.of("group.id=g"),
        "--client-config", RESERVED)).hasMessageContaining("--client-config: group.id");
    assertThatThrownBy(() -> KafkaClientSettings.parseEntries(List.of("sasl.jaas.config"),
        "--client-config")).hasMessageContaining("expected KEY=VALUE");
  }

  @Test
  void aClientKafkaRefusesIsAUsageErrorNamingTheSettingsSource() throws IOException {
    Path f = file("sasl.jaas.config=not a login module\n");
    KafkaClientSettings settings = KafkaClientSettings.load(f, RESERVED);

    // Kafka refuses the client at construction, with the reason as the cause
    org.apache.kafka.common.KafkaException refused = new org.apache.kafka.common.KafkaException(
        "Failed to create new KafkaAdminClient",
        new IllegalArgumentException("Login module not specified in JAAS config"));
    assertThat(settings.refusal(refused))
        .isEqualTo(settings.source() + ": Login module not specified in JAAS config");
    assertThat(KafkaClientSettings.none().refusal(
        new org.apache.kafka.common.KafkaException("no cause")))
        .isEqualTo("Kafka client: no cause");
  }
}
