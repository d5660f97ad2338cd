package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.GatewayServer;
import dev.meshlog.events.discovery.GatewayTls;
import dev.meshlog.events.discovery.GatewayTlsMode;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TcpRoute;
import dev.meshlog.proxy.Gateway;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ViewTranslator;
import dev.meshlog.proxy.support.TestCertificates;
import dev.meshlog.proxy.upstream.CertificateFiles;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway's servers beyond plain HTTP, with real sockets and certificates made by a test CA:
 * HTTPS servers terminate TLS (SIMPLE, and MUTUAL asking for a client certificate) and route
 * like the HTTP port; a TCP server relays bytes along the gateway view's tcp routes, through
 * the destination's sidecar.
 */
class GatewayTlsTcpIT {

  private static final String GATEWAY_HOST = "gateway.bookinfo-gateway.default";
  private static final GatewayBinding BINDING = new GatewayBinding("bookinfo-gateway", "default");
  private static final String SITE = "bookinfo.example.com";

  @TempDir
  Path certs;

  private TestMesh mesh;
  private TestCertificates ca;
  private TestCertificates.Issued site;
  private final ConcurrentLinkedQueue<String> seenProto = new ConcurrentLinkedQueue<>();
  private Sidecar productpage;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    ca = TestCertificates.authority(certs, "test-root");
    site = ca.issue(SITE);
    productpage = mesh.serverSidecar("productpage", "v1", "zone-a", mesh.backend(req -> {
      seenProto.add(String.valueOf(req.getHeader("x-forwarded-proto")));
      TestMesh.echo("productpage-v1").handle(req);
    }));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  private ServiceView productpageView() {
    return view("productpage").setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("productpage-v1").setAddress("127.0.0.1")
            .setPort(productpage.inboundPort()).setLabels(Map.of("version", "v1"))
            .setZone("zone-a").setCluster("c1").setHealth(EndpointHealth.HEALTHY).build()))
        .setSubsets(List.of(subset("v1"))).build();
  }

  private static HttpRoute pages() {
    return route("pages", List.of(), to("productpage", "v1", 100))
        .setVirtualService("default/bookinfo").setHosts(List.of(SITE)).build();
  }

  private static GatewayServer https(int port, GatewayTlsMode mode, TestCertificates.Issued c,
                                     Path caFile) {
    return GatewayServer.newBuilder().setName("https-" + port).setPort(port)
        .setProtocol(Protocol.TLS).setHosts(List.of(SITE))
        .setTls(GatewayTls.newBuilder().setMode(mode)
            .setServerCertificate(c.certificate().toString())
            .setPrivateKey(c.privateKey().toString())
            .setCaCertificates(caFile == null ? "" : caFile.toString()).build())
        .build();
  }

  private static ServiceView.Builder gatewayView(GatewayServer... servers) {
    return ServiceView.newBuilder().setHost(GATEWAY_HOST).setService("bookinfo-gateway")
        .setNamespace("default").setVersion(1).setGeneratedAt(dev.meshlog.proxy.support.Views.T0)
        .setGatewayServers(List.of(servers));
  }

  private Gateway gateway(ServiceView... views) {
    ProxySnapshot snapshot = ProxySnapshot.of(java.util.Arrays.stream(views)
        .map(ViewTranslator::translate).toList());
    ProxyIdentity id = ProxyIdentity.of("bookinfo-gateway", "default", "", "zone-a", "c1");
    ProxyRuntime rt = new ProxyRuntime(mesh.vertx, Sidecar.newClient(mesh.vertx, 8),
        new SnapshotHolder(snapshot, id, Clock.systemUTC()), Clock.systemUTC(),
        ThreadLocalRandom::current, mesh.log, ListenerLimits.DEFAULT, "cluster.local");
    return Gateway.start(rt, BINDING, "127.0.0.1", 0).await();
  }

  /** An HTTPS client trusting only the test CA, verifying the server's name. */
  private HttpClientAgent httpsClient(TestCertificates.Issued clientCert) {
    HttpClientOptions o = new HttpClientOptions().setSsl(true).setVerifyHost(true)
        .setForceSni(true).setTrustOptions(new PemTrustOptions()
            .addCertPath(ca.caFile().toString()));
    if (clientCert != null) {
      o.setKeyCertOptions(new PemKeyCertOptions().addCertPath(clientCert.certificate()
          .toString()).addKeyPath(clientCert.privateKey().toString()));
    }
    return mesh.vertx.createHttpClient(o);
  }

  private TestMesh.Response httpsGet(HttpClientAgent client, int port, String path,
                                     String requestId) {
    return client.request(new RequestOptions().setMethod(HttpMethod.GET)
            .setServer(SocketAddress.inetSocketAddress(port, "127.0.0.1"))
            .setHost(SITE).setPort(443).setURI(path).putHeader("x-request-id", requestId))
        .compose(r -> r.send().compose(resp -> resp.body().map(b -> TestMesh.framed(
            HttpMethod.GET, resp.statusCode(), resp.headers(), b))))
        .await();
  }

  @Test
  void anHttpsClientReachesTheBackendThroughAGatewayTerminatingTls() {
    Gateway gw = gateway(productpageView(), gatewayView(
        https(443, GatewayTlsMode.SIMPLE, site, null)).setHttpRoutes(List.of(pages())).build());
    int port = gw.serverPorts().get(443);

    TestMesh.Response r = httpsGet(httpsClient(null), port, "/productpage", "tls-1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("productpage-v1");
    assertThat(r.header("x-seen-host")).isEqualTo(SITE);
    assertThat(seenProto).containsExactly("https");
    AccessLogEntry entry = mesh.log.await("gateway", "tls-1");
    assertThat(entry.route()).isEqualTo("pages");
    assertThat(entry.destinationService()).isEqualTo(host("productpage"));
  }

  @Test
  void servesAnHttpsOnlyHostNeitherInClearTextNorToClientsWhoDoNotTrustItsCa() {
    Gateway gw = gateway(productpageView(), gatewayView(
        https(443, GatewayTlsMode.SIMPLE, site, null)).setHttpRoutes(List.of(pages())).build());

    TestMesh.Response clear = mesh.get(gw.port(), SITE, "/productpage", "x-request-id", "clear");
    TestCertificates other = TestCertificates.authority(certs, "other-root");
    HttpClientAgent untrusting = mesh.vertx.createHttpClient(new HttpClientOptions().setSsl(true)
        .setTrustOptions(new PemTrustOptions().addCertPath(other.caFile().toString())));

    assertThat(clear.status()).isEqualTo(404);
    assertThat(mesh.log.await("gateway", "clear").flags()).containsExactly(ResponseFlag.NR);
    assertThatThrownBy(() -> httpsGet(untrusting, gw.serverPorts().get(443), "/", "untrusted"))
        .isNotNull();
  }

  @Test
  void aMutualServerAdmitsOnlyClientsWithACertificateFromItsCa() {
    Gateway gw = gateway(productpageView(), gatewayView(
        https(8443, GatewayTlsMode.MUTUAL, site, ca.caFile())).setHttpRoutes(List.of(pages()))
        .build());
    int port = gw.serverPorts().get(8443);
    TestCertificates.Issued client = ca.issue("client.example.com");
    TestCertificates.Issued stranger = TestCertificates.authority(certs, "stranger-root")
        .issue("stranger.example.com");

    TestMesh.Response admitted = httpsGet(httpsClient(client), port, "/productpage", "m-1");

    assertThat(admitted.status()).isEqualTo(200);
    assertThat(admitted.body()).isEqualTo("productpage-v1");
    assertThatThrownBy(() -> httpsGet(httpsClient(null), port, "/productpage", "m-2"))
        .isNotNull();
    assertThatThrownBy(() -> httpsGet(httpsClient(stranger), port, "/productpage", "m-3"))
        .isNotNull();
    assertThat(mesh.log.count(e -> "m-2".equals(e.requestId()) || "m-3".equals(e.requestId())))
        .isZero();
  }

  /** An HTTPS client trusting only {@code authority}, verifying the server's name. */
  private HttpClientAgent httpsClientTrusting(TestCertificates authority) {
    return mesh.vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(true)
        .setForceSni(true).setTrustOptions(new PemTrustOptions()
            .addCertPath(authority.caFile().toString())));
  }

  /** A gateway serving SITE on 443 from copies of {@code site}'s files, which tests replace. */
  private int gatewayServingCopies(Path cert, Path key) {
    TestCertificates.replace(cert, site.certificate());
    TestCertificates.replace(key, site.privateKey());
    Gateway gw = gateway(productpageView(), gatewayView(https(443, GatewayTlsMode.SIMPLE,
        new TestCertificates.Issued(cert, key), null)).setHttpRoutes(List.of(pages())).build());
    return gw.serverPorts().get(443);
  }

  @Test
  void aRotatedServerCertificateIsWhatTheNextHandshakeSeesWithoutAViewChange()
      throws Exception {
    Path cert = certs.resolve("served.pem");
    Path key = certs.resolve("served-key.pem");
    int port = gatewayServingCopies(cert, key);
    TestCertificates next = TestCertificates.authority(
        Files.createDirectories(certs.resolve("next")), "next-root");
    assertThatThrownBy(() -> httpsGet(httpsClientTrusting(next), port, "/productpage", "r-0"))
        .isNotNull();

    TestCertificates.Issued rotated = next.issue(SITE);
    TestCertificates.replace(cert, rotated.certificate());
    TestCertificates.replace(key, rotated.privateKey());
    CertificateFiles.proxyWide().check();

    TestMesh.Response r = httpsGet(httpsClientTrusting(next), port, "/productpage", "r-1");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("productpage-v1");
    // A client that trusts only the old CA now fails its handshake.
    assertThatThrownBy(() -> httpsGet(httpsClient(null), port, "/productpage", "r-2"))
        .isNotNull();
  }

  @Test
  void aServerCertificateChangedIntoSomethingUnreadableKeepsTheOneServed() {
    Path cert = certs.resolve("served.pem");
    Path key = certs.resolve("served-key.pem");
    int port = gatewayServingCopies(cert, key);

    TestCertificates.replace(cert, "-----BEGIN CERTIFICATE-----\nMIIB");
    CertificateFiles.proxyWide().check();

    TestMesh.Response r = httpsGet(httpsClient(null), port, "/productpage", "b-1");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("productpage-v1");
  }

  @Test
  void aTcpServerRelaysBytesAlongTheGatewaysTcpRouteThroughTheDestinationsSidecar() {
    int database = mesh.vertx.createNetServer().connectHandler(s -> s.handler(b ->
            s.write(Buffer.buffer("db:").appendBuffer(b))))
        .listen(0, "127.0.0.1").await().actualPort();
    ProxyIdentity dbId = ProxyIdentity.of("db", "default", "v1", "zone-a", "c1");
    Sidecar dbSidecar = Sidecar.start(new ProxyRuntime(mesh.vertx, Sidecar.newClient(mesh.vertx,
            8), new SnapshotHolder(ProxySnapshot.empty(), dbId, Clock.systemUTC()),
            Clock.systemUTC(), ThreadLocalRandom::current, mesh.log, ListenerLimits.DEFAULT,
            "cluster.local"),
        new Sidecar.Ports("127.0.0.1", 0, "127.0.0.1", 0, "127.0.0.1", 1, List.of(
            new PortConfig("tcp-postgres", 5432, PortConfig.Protocol.TCP, database)))).await();
    ServiceView db = view("db").setPorts(List.of(ServicePort.newBuilder().setName("tcp-postgres")
            .setNumber(5432).setProtocol(Protocol.TCP).build()))
        .setEndpoints(List.of(Endpoint.newBuilder().setInstanceId("db-1")
            .setAddress("127.0.0.1").setPort(dbSidecar.inboundPort())
            .setHealth(EndpointHealth.HEALTHY).build())).build();
    Gateway gw = gateway(db, gatewayView(GatewayServer.newBuilder().setName("tcp").setPort(31400)
            .setProtocol(Protocol.TCP).setHosts(List.of("*")).build())
        .setTcpRoutes(List.of(TcpRoute.newBuilder().setPorts(List.of(31400))
            .setDestinations(List.of(to("db", null, 100))).build()))
        .build());

    Promise<String> answer = Promise.promise();
    // Handlers are set as the connection completes, on its event loop: no event is missed.
    io.vertx.core.net.NetSocket client = mesh.vertx.createNetClient()
        .connect(gw.serverPorts().get(31400), "127.0.0.1").onSuccess(s -> {
          s.handler(b -> answer.tryComplete(b.toString()));
          s.write("SELECT 1");
        }).await();

    assertThat(answer.future().await()).isEqualTo("db:SELECT 1");
    client.close().await();
    AccessLogEntry entry = mesh.log.await(e -> "gateway".equals(e.direction())
        && "TCP".equals(e.protocol()));
    assertThat(entry.destinationService()).isEqualTo(host("db"));
  }
}
