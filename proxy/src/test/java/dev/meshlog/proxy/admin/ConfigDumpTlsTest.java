package dev.meshlog.proxy.admin;

import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.List;

import dev.meshlog.events.discovery.ClientTls;
import dev.meshlog.events.discovery.PortTrafficPolicy;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TlsMode;
import dev.meshlog.events.discovery.TrafficPolicy;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ViewTranslator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** What {@code /config_dump} shows of a cluster's TLS: the cluster's own, and each port's. */
class ConfigDumpTlsTest {

  private static JsonObject cluster(ServiceView view) {
    SnapshotHolder holder = new SnapshotHolder(
        ProxySnapshot.of(List.of(ViewTranslator.translate(view))),
        ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1"), Clock.systemUTC());
    JsonArray clusters = ConfigDump.trafficPolicies(holder.current());
    return clusters.getJsonObject(0);
  }

  @Test
  void showsEachPortLevelTlsNextToTheClustersOwn() {
    JsonObject c = cluster(view("edition").setHost("edition.example.com")
        .setTrafficPolicy(TrafficPolicy.newBuilder().setTlsMode(TlsMode.DISABLE)
            .setPortLevelSettings(List.of(
                PortTrafficPolicy.newBuilder().setPort(443).setTlsMode(TlsMode.SIMPLE)
                    .setTls(ClientTls.newBuilder().setSni("www.example.com")
                        .setInsecureSkipVerify(true).build()).build(),
                PortTrafficPolicy.newBuilder().setPort(8443).setTlsMode(TlsMode.ISTIO_MUTUAL)
                    .build()))
            .build())
        .build());

    assertThat(c.getJsonObject("tls").getString("mode")).isEqualTo("DISABLE");
    JsonObject ports = c.getJsonObject("portLevelTls");
    assertThat(ports.fieldNames()).containsExactlyInAnyOrder("443", "8443");
    assertThat(ports.getJsonObject("443").getString("mode")).isEqualTo("SIMPLE");
    assertThat(ports.getJsonObject("443").getString("sni")).isEqualTo("www.example.com");
    assertThat(ports.getJsonObject("443").getBoolean("insecureSkipVerify")).isTrue();
    assertThat(ports.getJsonObject("8443").getString("configuredMode"))
        .isEqualTo("ISTIO_MUTUAL");
    assertThat(ports.getJsonObject("8443").getString("mode")).isEqualTo("DISABLE");
  }

  @Test
  void showsNoPortLevelTlsForAClusterWithoutAny() {
    JsonObject c = cluster(view("books").build());

    assertThat(c.getJsonObject("portLevelTls")).isEqualTo(new JsonObject());
  }
}
