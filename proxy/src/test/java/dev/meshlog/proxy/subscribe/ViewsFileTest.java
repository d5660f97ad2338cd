package dev.meshlog.proxy.subscribe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.ServiceView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ViewsFileTest {

  @TempDir
  Path dir;

  private Path write(String json) throws IOException {
    Path f = dir.resolve("views.json");
    Files.writeString(f, json);
    return f;
  }

  @Test
  void readsAViewWithOmittedFieldsAtTheirDefaults() throws IOException {
    Path f = write("""
        [{"host": "reviews.default.svc.cluster.local", "version": 3, "generatedAt": 1000,
          "endpoints": [{"instanceId": "r1", "address": "127.0.0.1", "port": 9080,
                         "health": "HEALTHY"}],
          "httpRoutes": [{"name": "all", "timeoutMillis": 500,
                          "destinations": [{"destination":
                              {"host": "reviews.default.svc.cluster.local"}}]}]}]
        """);

    List<ServiceView> views = ViewsFile.read(f);

    assertThat(views).hasSize(1);
    ServiceView v = views.get(0);
    assertThat(v.getNamespace()).isEqualTo("default");
    assertThat(v.getGeneratedAt()).isEqualTo(Instant.ofEpochMilli(1000));
    assertThat(v.getEndpoints().get(0).getHealth()).isEqualTo(EndpointHealth.HEALTHY);
    assertThat(v.getEndpoints().get(0).getWeight()).isEqualTo(1);
    assertThat(v.getHttpRoutes().get(0).getTimeoutMillis()).isEqualTo(500L);
    assertThat(v.getHttpRoutes().get(0).getDestinations().get(0).getWeight()).isEqualTo(100);
    assertThat(v.getTrafficPolicy()).isNull();
  }

  @Test
  void rejectsAnUnknownFieldNamingItsPath() throws IOException {
    Path f = write("""
        [{"host": "a", "version": 1, "generatedAt": 0, "endpoints": [{"adress": "x"}]}]
        """);

    assertThatThrownBy(() -> ViewsFile.read(f)).isInstanceOf(IOException.class)
        .hasMessageContaining("[0].endpoints[0].adress: unknown field of Endpoint");
  }

  @Test
  void rejectsAMissingRequiredField() throws IOException {
    Path f = write("[{\"host\": \"a\", \"generatedAt\": 0}]");

    assertThatThrownBy(() -> ViewsFile.read(f)).hasMessageContaining("[0].version: required");
  }

  @Test
  void rejectsAnEnumSymbolItDoesNotKnow() throws IOException {
    Path f = write("""
        [{"host": "a", "version": 1, "generatedAt": 0,
          "endpoints": [{"instanceId": "i", "address": "x", "port": 1, "health": "FINE"}]}]
        """);

    assertThatThrownBy(() -> ViewsFile.read(f))
        .hasMessageContaining("[0].endpoints[0].health: expected one of [UNSPECIFIED, HEALTHY");
  }
}
