package dev.meshlog.config.discovery;

import static dev.meshlog.config.discovery.Bookinfo.PRODUCTPAGE;
import static dev.meshlog.config.discovery.Bookinfo.config;
import static dev.meshlog.config.discovery.Bookinfo.instances;
import static dev.meshlog.config.discovery.Bookinfo.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import org.junit.jupiter.api.Test;

import dev.meshlog.events.discovery.GatewayServer;
import dev.meshlog.events.discovery.GatewayTlsMode;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServiceView;

class GatewayViewTest {

  private static final String GATEWAY = """
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: bookinfo-gateway, namespace: default}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 8080, name: http, protocol: HTTP}
          hosts: ["bookinfo.example.com", "ops/admin.example.com"]
      """;

  private static final String BOOKINFO_ROUTES = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: bookinfo, namespace: default}
      spec:
        hosts: ["bookinfo.example.com"]
        gateways: [bookinfo-gateway]
        http:
        - match:
          - uri: {exact: /productpage}
          - uri: {prefix: /static}
          route:
          - destination: {host: productpage, port: {number: 9080}}
      """;

  private static final String GATEWAY_HOST = "gateway.bookinfo-gateway.default";

  @Test
  void namesEveryGatewayAsAHost() {
    assertThat(Bookinfo.COMPILER.hosts(config(GATEWAY), instances())).contains(GATEWAY_HOST);
    assertThat(ViewCompiler.gatewayHost("bookinfo-gateway", "default")).isEqualTo(GATEWAY_HOST);
  }

  @Test
  void compilesTheServersOfAGateway() {
    ServiceView view = view(GATEWAY_HOST, config(GATEWAY));

    assertThat(view.getService()).isEqualTo("bookinfo-gateway");
    assertThat(view.getGatewayServers()).extracting(GatewayServer::getPort, GatewayServer::getProtocol,
            GatewayServer::getHosts)
        .containsExactly(tuple(8080, Protocol.HTTP, java.util.List.of("bookinfo.example.com", "admin.example.com")));
    assertThat(view.getSourceRevisions()).extracting(r -> r.getKind() + "/" + r.getName())
        .containsExactly("Gateway/bookinfo-gateway");
  }

  @Test
  void compilesTheTlsFilesOfAnHttpsServer() {
    ServiceView view = view(GATEWAY_HOST, config(GATEWAY.replace("hosts: [\"bookinfo.example.com\", \"ops/admin.example.com\"]", """
        hosts: ["bookinfo.example.com", "ops/admin.example.com"]
          - port: {number: 8443, name: https, protocol: HTTPS}
            hosts: ["bookinfo.example.com"]
            tls: {mode: MUTUAL, serverCertificate: /certs/server.pem, privateKey: /certs/key.pem, caCertificates: /certs/ca.pem}
        """.strip())));

    assertThat(view.getGatewayServers()).hasSize(2);
    assertThat(view.getGatewayServers().get(0).getTls()).isNull();
    GatewayServer https = view.getGatewayServers().get(1);
    assertThat(https.getProtocol()).isEqualTo(Protocol.TLS);
    assertThat(https.getTls().getMode()).isEqualTo(GatewayTlsMode.MUTUAL);
    assertThat(https.getTls().getServerCertificate()).isEqualTo("/certs/server.pem");
    assertThat(https.getTls().getPrivateKey()).isEqualTo("/certs/key.pem");
    assertThat(https.getTls().getCaCertificates()).isEqualTo("/certs/ca.pem");
  }

  @Test
  void carriesTheHttpsRedirectOfAnHttpServer() {
    ServiceView view = view(GATEWAY_HOST, config(GATEWAY.replace("hosts: [\"bookinfo.example.com\", \"ops/admin.example.com\"]", """
        hosts: ["bookinfo.example.com", "ops/admin.example.com"]
            tls: {httpsRedirect: true}
        """.strip())));

    GatewayServer http = view.getGatewayServers().get(0);
    assertThat(http.getProtocol()).isEqualTo(Protocol.HTTP);
    assertThat(http.getTls().getHttpsRedirect()).isTrue();
    assertThat(http.getTls().getMode()).isEqualTo(GatewayTlsMode.UNSPECIFIED);
  }

  @Test
  void compilesTlsRoutesBoundToTheGatewayForItsPassthroughServer() {
    ServiceView view = view(GATEWAY_HOST, config(GATEWAY.replace("hosts: [\"bookinfo.example.com\", \"ops/admin.example.com\"]", """
        hosts: ["bookinfo.example.com", "ops/admin.example.com"]
          - port: {number: 443, name: tls, protocol: TLS}
            hosts: ["*.example.com"]
            tls: {}
        """.strip()), """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: login, namespace: default}
        spec:
          hosts: ["*.example.com"]
          gateways: [bookinfo-gateway]
          tls:
          - match:
            - port: 443
              sniHosts: [login.example.com]
            - sniHosts: [other.example.com]
              gateways: [elsewhere]
            route:
            - destination: {host: productpage, port: {number: 9443}}
        """));

    GatewayServer tls = view.getGatewayServers().get(1);
    assertThat(tls.getProtocol()).isEqualTo(Protocol.TLS);
    assertThat(tls.getTls().getMode()).isEqualTo(GatewayTlsMode.PASSTHROUGH);
    assertThat(view.getTlsRoutes()).singleElement().satisfies(route -> {
      assertThat(route.getVirtualService()).isEqualTo("default/login");
      assertThat(route.getMatches()).singleElement().satisfies(m -> {
        assertThat(m.getSniHosts()).containsExactly("login.example.com");
        assertThat(m.getPort()).isEqualTo(443);
      });
      assertThat(route.getDestinations().get(0).getDestination().getHost()).isEqualTo(PRODUCTPAGE);
      assertThat(route.getDestinations().get(0).getDestination().getPort()).isEqualTo(9443);
    });
    assertThat(view(PRODUCTPAGE, config(GATEWAY)).getTlsRoutes()).isEmpty();
  }

  @Test
  void routesOfVirtualServicesBoundToTheGatewayCarryTheirHosts() {
    ServiceView view = view(GATEWAY_HOST, config(GATEWAY, BOOKINFO_ROUTES));

    assertThat(view.getHttpRoutes()).singleElement().satisfies(route -> {
      assertThat(route.getHosts()).containsExactly("bookinfo.example.com");
      assertThat(route.getVirtualService()).isEqualTo("default/bookinfo");
      assertThat(route.getMatches()).hasSize(2);
      assertThat(route.getDestinations().get(0).getDestination().getHost()).isEqualTo(PRODUCTPAGE);
    });
  }

  @Test
  void bindsVirtualServicesOfOtherNamespacesThatNameTheGatewayWithItsNamespace() {
    ServiceView view = view(GATEWAY_HOST, config(GATEWAY, BOOKINFO_ROUTES, """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: admin, namespace: ops}
        spec:
          hosts: ["admin.example.com"]
          gateways: [default/bookinfo-gateway]
          http:
          - route:
            - destination: {host: productpage.default.svc.cluster.local}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: not-bound, namespace: ops}
        spec:
          hosts: ["other.example.com"]
          gateways: [bookinfo-gateway]
          http:
          - route:
            - destination: {host: productpage.default.svc.cluster.local}
        """));

    assertThat(view.getHttpRoutes()).extracting(HttpRoute::getVirtualService)
        .containsExactly("default/bookinfo", "ops/admin");
  }

  @Test
  void leavesGatewayRoutesOutOfTheServiceView() {
    ServiceView view = view(PRODUCTPAGE, config(GATEWAY, BOOKINFO_ROUTES));

    assertThat(view.getHttpRoutes()).isEmpty();
    assertThat(view.getGatewayServers()).isEmpty();
  }

  @Test
  void dropsAGatewayVirtualServiceRoutingToAHostWithoutView() {
    ServiceView view = view(GATEWAY_HOST, config(GATEWAY, BOOKINFO_ROUTES.replace("host: productpage", "host: frontpage")));

    assertThat(view.getHttpRoutes()).isEmpty();
    assertThat(view.getProblems()).singleElement()
        .satisfies(p -> assertThat(p.getPath()).isEqualTo("spec.http[0].route[0].destination.host"));
  }
}
