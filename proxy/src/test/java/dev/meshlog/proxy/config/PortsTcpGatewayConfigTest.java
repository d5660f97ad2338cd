package dev.meshlog.proxy.config;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import dev.meshlog.events.discovery.GatewayServer;
import dev.meshlog.events.discovery.GatewayTls;
import dev.meshlog.events.discovery.GatewayTlsMode;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TcpRoute;
import org.junit.jupiter.api.Test;

class PortsTcpGatewayConfigTest {

  private static ServiceView.Builder db() {
    return view("db").setSubsets(List.of(subset("v1"), subset("v2")))
        .setPorts(List.of(ServicePort.newBuilder().setName("tcp-pg").setNumber(5432)
                .setProtocol(Protocol.TCP).setTargetPort(15432).build(),
            ServicePort.newBuilder().setName("grpc").setNumber(9090)
                .setProtocol(Protocol.GRPC).build()));
  }

  @Test
  void translatesPortProtocolsAndTcpRoutes() {
    ServiceConfig s = ViewTranslator.translate(db().setTcpRoutes(List.of(TcpRoute.newBuilder()
        .setPorts(List.of(5432)).setDestinations(List.of(to("db", "v1", 70), to("db", "v2", 30)))
        .build())).build());

    assertThat(s.opaquePorts()).extracting(PortConfig::number, PortConfig::workloadPort)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(5432, 15432));
    assertThat(s.protocolOf(9090).http2()).isTrue();
    assertThat(s.protocolOf(80)).isEqualTo(PortConfig.Protocol.UNSPECIFIED);
    assertThat(s.tcpRoute(5432).destinations()).hasSize(2);
    assertThat(s.tcpRoute(6000).destinations()).extracting(DestinationConfig::host)
        .containsExactly(host("db"));
  }

  @Test
  void refusesATcpRouteWhoseWeightsDoNotAddUpOrWhoseSubsetIsUnknown() {
    ServiceConfig s = ViewTranslator.translate(db().setTcpRoutes(List.of(TcpRoute.newBuilder()
        .setDestinations(List.of(to("db", "v1", 70), to("db", "v9", 20))).build())).build());

    assertThatThrownBy(() -> ProxySnapshot.of(s))
        .hasMessageContaining("tcpRoutes[0].destinations: weights sum to 90 (expected: 100)")
        .hasMessageContaining("tcpRoutes[0].destinations[1].subset: v9 not defined");
  }

  @Test
  void readsGatewayServersAndMatchesTheirHostPatterns() {
    ServiceConfig gw = ViewTranslator.translate(ServiceView.newBuilder(view("gw").build())
        .setHost("gateway.gw.default").setGatewayServers(List.of(GatewayServer.newBuilder()
            .setPort(80).setProtocol(Protocol.HTTP)
            .setHosts(List.of("shop.example.com", "*.shop.test")).build())).build());

    GatewayServerConfig server = gw.gatewayServers().get(0);
    assertThat(gw.gateway()).isTrue();
    assertThat(server.serves("shop.example.com")).isTrue();
    assertThat(server.serves("eu.shop.test")).isTrue();
    assertThat(server.serves("shop.test")).isFalse();
    assertThat(server.serves("evil.example.com")).isFalse();
  }

  private static ServiceView.Builder gatewayWith(GatewayServer... servers) {
    return ServiceView.newBuilder(view("gw").build()).setHost("gateway.gw.default")
        .setGatewayServers(List.of(servers));
  }

  @Test
  void readsTheTlsSettingsOfAnHttpsServer() {
    ServiceConfig gw = ViewTranslator.translate(gatewayWith(
        GatewayServer.newBuilder().setPort(80).setProtocol(Protocol.HTTP)
            .setHosts(List.of("*")).build(),
        GatewayServer.newBuilder().setPort(443).setProtocol(Protocol.TLS)
            .setHosts(List.of("shop.example.com")).setTls(GatewayTls.newBuilder()
                .setMode(GatewayTlsMode.MUTUAL).setServerCertificate("/c.pem")
                .setPrivateKey("/k.pem").setCaCertificates("/ca.pem").build()).build(),
        GatewayServer.newBuilder().setPort(31400).setProtocol(Protocol.TCP)
            .setHosts(List.of("*")).build()).build());

    GatewayServerConfig plain = gw.gatewayServers().get(0);
    GatewayServerConfig https = gw.gatewayServers().get(1);
    GatewayServerConfig tcp = gw.gatewayServers().get(2);
    assertThat(plain.plainHttp()).isTrue();
    assertThat(plain.https()).isFalse();
    assertThat(https.https()).isTrue();
    assertThat(https.plainHttp()).isFalse();
    assertThat(https.tls()).isEqualTo(new GatewayServerConfig.Tls(
        GatewayServerConfig.TlsMode.MUTUAL, "/c.pem", "/k.pem", "/ca.pem"));
    assertThat(tcp.tcp()).isTrue();
    assertThat(tcp.plainHttp()).isFalse();
  }

  @Test
  void refusesATerminatingServerWithoutItsFiles() {
    ServiceConfig gw = ViewTranslator.translate(gatewayWith(GatewayServer.newBuilder()
        .setPort(443).setProtocol(Protocol.TLS).setHosts(List.of("*"))
        .setTls(GatewayTls.newBuilder().setMode(GatewayTlsMode.MUTUAL)
            .setServerCertificate("/c.pem").build()).build()).build());

    assertThatThrownBy(() -> ProxySnapshot.of(gw))
        .hasMessageContaining("gatewayServers[0].tls.privateKey: empty (expected: a PEM file's path)")
        .hasMessageContaining("gatewayServers[0].tls.caCertificates: empty");
  }

  @Test
  void infersAPortProtocolFromItsNameAsIstioDoes() {
    assertThat(PortConfig.Protocol.ofPortName("tcp-postgres")).isEqualTo(PortConfig.Protocol.TCP);
    assertThat(PortConfig.Protocol.ofPortName("grpc-api")).isEqualTo(PortConfig.Protocol.GRPC);
    assertThat(PortConfig.Protocol.ofPortName("http2")).isEqualTo(PortConfig.Protocol.HTTP2);
    assertThat(PortConfig.Protocol.ofPortName("redis")).isEqualTo(PortConfig.Protocol.TCP);
    assertThat(PortConfig.Protocol.ofPortName("metrics"))
        .isEqualTo(PortConfig.Protocol.UNSPECIFIED);
  }
}
