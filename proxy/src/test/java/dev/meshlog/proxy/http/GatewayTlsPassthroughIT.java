package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.GatewayServer;
import dev.meshlog.events.discovery.GatewayTls;
import dev.meshlog.events.discovery.GatewayTlsMode;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TlsMatch;
import dev.meshlog.events.discovery.TlsRoute;
import dev.meshlog.proxy.Gateway;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ViewTranslator;
import dev.meshlog.proxy.support.TestCertificates;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway's TLS PASSTHROUGH server in front of two TLS services, each behind its sidecar,
 * with certificates from a test CA: the SNI of a client's ClientHello picks the tls route, and
 * the client's TLS session is with the destination itself (its certificate, its bytes), never
 * terminated at the gateway; a ClientHello no route takes, or without SNI, is closed.
 */
class GatewayTlsPassthroughIT {

  private static final String GATEWAY_HOST = "gateway.edge.default";
  private static final GatewayBinding BINDING = new GatewayBinding("edge", "default");

  @TempDir
  Path certs;

  private TestMesh mesh;
  private TestCertificates ca;
  private Gateway gw;
  private ServiceView[] views;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    ca = TestCertificates.authority(certs, "test-root");
    ServiceView login = tlsService("login", "login.example.com", "login:");
    ServiceView shop = tlsService("shop", "shop.example.com", "shop:");
    // The wildcard route comes first: the exact name is still the more specific match.
    ServiceView gateway = ServiceView.newBuilder().setHost(GATEWAY_HOST).setService("edge")
        .setNamespace("default").setVersion(1).setGeneratedAt(dev.meshlog.proxy.support.Views.T0)
        .setGatewayServers(List.of(GatewayServer.newBuilder().setName("tls").setPort(443)
            .setProtocol(Protocol.TLS).setHosts(List.of("*.example.com"))
            .setTls(GatewayTls.newBuilder().setMode(GatewayTlsMode.PASSTHROUGH).build())
            .build()))
        .setTlsRoutes(List.of(
            tlsRoute("default/shop", List.of("*.example.com"), "shop"),
            tlsRoute("default/login", List.of("login.example.com"), "login")))
        .build();
    views = new ServiceView[] {login, shop, gateway};
    gw = gateway(views);
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  private static TlsRoute tlsRoute(String virtualService, List<String> sniHosts, String to) {
    return TlsRoute.newBuilder().setVirtualService(virtualService)
        .setMatches(List.of(TlsMatch.newBuilder().setSniHosts(sniHosts).setPort(443).build()))
        .setDestinations(List.of(to(to, null, 100))).build();
  }

  /**
   * A TLS server for {@code dnsName} answering each read with {@code prefix} + the bytes, behind
   * a sidecar serving it as port 8443 of {@code service}; its view.
   */
  private ServiceView tlsService(String service, String dnsName, String prefix) {
    TestCertificates.Issued cert = ca.issue(dnsName);
    int app = mesh.vertx.createNetServer(new NetServerOptions().setSsl(true)
            .setKeyCertOptions(new PemKeyCertOptions().addCertPath(cert.certificate().toString())
                .addKeyPath(cert.privateKey().toString())))
        .connectHandler(s -> s.handler(b -> s.write(Buffer.buffer(prefix).appendBuffer(b))))
        .listen(0, "127.0.0.1").await().actualPort();
    ProxyIdentity id = ProxyIdentity.of(service, "default", "v1", "zone-a", "c1");
    Sidecar sidecar = Sidecar.start(new ProxyRuntime(mesh.vertx, Sidecar.newClient(mesh.vertx,
            8), new SnapshotHolder(ProxySnapshot.empty(), id, Clock.systemUTC()),
            Clock.systemUTC(), ThreadLocalRandom::current, mesh.log, ListenerLimits.DEFAULT,
            "cluster.local"),
        new Sidecar.Ports("127.0.0.1", 0, "127.0.0.1", 0, "127.0.0.1", 1, List.of(
            new PortConfig("tls", 8443, PortConfig.Protocol.TLS, app)))).await();
    return view(service).setPorts(List.of(ServicePort.newBuilder().setName("tls")
            .setNumber(8443).setProtocol(Protocol.TLS).build()))
        .setEndpoints(List.of(Endpoint.newBuilder().setInstanceId(service + "-1")
            .setAddress("127.0.0.1").setPort(sidecar.inboundPort())
            .setHealth(EndpointHealth.HEALTHY).build())).build();
  }

  private Gateway gateway(ServiceView... views) {
    return gateway(ListenerLimits.DEFAULT, views);
  }

  private Gateway gateway(ListenerLimits limits, ServiceView... views) {
    ProxySnapshot snapshot = ProxySnapshot.of(java.util.Arrays.stream(views)
        .map(ViewTranslator::translate).toList());
    ProxyIdentity id = ProxyIdentity.of("edge", "default", "", "zone-a", "c1");
    ProxyRuntime rt = new ProxyRuntime(mesh.vertx, Sidecar.newClient(mesh.vertx, 8),
        new SnapshotHolder(snapshot, id, Clock.systemUTC()), Clock.systemUTC(),
        ThreadLocalRandom::current, mesh.log, limits, "cluster.local");
    return Gateway.start(rt, BINDING, "127.0.0.1", 0).await();
  }

  /** What a TLS client trusting the test CA sees: the server's certificate and its answer. */
  private record Seen(String certificateSubject, String answer) {}

  private Seen exchange(String sni, String message) throws Exception {
    // A blocking JDK client on the test thread: the TLS session is the client's own.
    try (SSLSocket s = (SSLSocket) trustingTestCa().getSocketFactory()
        .createSocket("127.0.0.1", gw.serverPorts().get(443))) {
      s.setSoTimeout(10_000);
      SSLParameters p = s.getSSLParameters();
      p.setServerNames(List.of(new SNIHostName(sni)));
      p.setEndpointIdentificationAlgorithm("HTTPS");
      s.setSSLParameters(p);
      s.startHandshake();
      s.getOutputStream().write(message.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      byte[] buf = new byte[256];
      int n = s.getInputStream().read(buf);
      X509Certificate cert = (X509Certificate) s.getSession().getPeerCertificates()[0];
      return new Seen(cert.getSubjectX500Principal().getName(),
          new String(buf, 0, Math.max(0, n), StandardCharsets.US_ASCII));
    }
  }

  private SSLContext trustingTestCa() throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (var in = java.nio.file.Files.newInputStream(ca.caFile())) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509")
          .generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(
        TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }

  /** Opens a TLS connection with {@code sni} (null: none) and says whether it failed. */
  private boolean refused(String sni) throws Exception {
    NetClientOptions o = new NetClientOptions().setSsl(true).setTrustAll(true)
        .setHostnameVerificationAlgorithm("");
    ConnectOptions c = new ConnectOptions().setHost("127.0.0.1")
        .setPort(gw.serverPorts().get(443)).setSsl(true);
    if (sni != null) {
      c.setSniServerName(sni);
    }
    return mesh.vertx.createNetClient(o).connect(c).transform(ar -> {
      if (ar.succeeded()) {
        ar.result().close();
      }
      return io.vertx.core.Future.succeededFuture(ar.failed());
    }).await(10, TimeUnit.SECONDS);
  }

  @Test
  void routesEachSniToItsDestinationWhichTerminatesTlsWithItsOwnCertificate() throws Exception {
    Seen login = exchange("login.example.com", "hello");
    Seen shop = exchange("shop.example.com", "cart");

    assertThat(login.certificateSubject()).contains("CN=login.example.com");
    assertThat(login.answer()).isEqualTo("login:hello");
    assertThat(shop.certificateSubject()).contains("CN=shop.example.com");
    assertThat(shop.answer()).isEqualTo("shop:cart");
    AccessLogEntry entry = mesh.log.await(e -> "gateway".equals(e.direction())
        && "login.example.com".equals(e.authority()));
    assertThat(entry.destinationService()).isEqualTo(host("login"));
    assertThat(entry.protocol()).isEqualTo("TCP");
    assertThat(entry.flags()).isEmpty();
    assertThat(entry.bytesReceived()).isGreaterThan("hello".length());
  }

  @Test
  void closesAClientHelloWhoseSniNoRouteOrServerTakesAndOneWithoutSni() throws Exception {
    assertThat(refused("unknown.test")).isTrue();
    assertThat(refused(null)).isTrue();

    AccessLogEntry unknown = mesh.log.await(e -> "gateway".equals(e.direction())
        && "unknown.test".equals(e.authority()));
    assertThat(unknown.flags()).containsExactly(ResponseFlag.NR);
    assertThat(unknown.upstreamHost()).isNull();
    AccessLogEntry none = mesh.log.await(e -> "gateway".equals(e.direction())
        && (GATEWAY_HOST + ":443").equals(e.authority()));
    assertThat(none.flags()).containsExactly(ResponseFlag.NR);
    assertThat(mesh.log.count(e -> "inbound".equals(e.direction()))).isZero();
  }

  @Test
  void closesAClientWhoseClientHelloIsNotWholeWithinTheHeaderDeadline() throws Exception {
    ListenerLimits d = ListenerLimits.DEFAULT;
    Gateway strict = gateway(new ListenerLimits(d.maxHeaderBytes(), d.maxHeaders(),
        d.maxInitialLineBytes(), d.idleTimeout(), d.retryBufferBytes(),
        java.time.Duration.ofMillis(300)), views);
    for (byte[] sent : List.of(new byte[0], new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01})) {
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", strict.serverPorts().get(443))) {
        s.setSoTimeout(30_000);
        // nothing, or a record header and the first byte of a ClientHello of 512 bytes
        s.getOutputStream().write(sent);
        s.getOutputStream().flush();
        assertThat(s.getInputStream().read()).as("closed by the gateway").isEqualTo(-1);
      }
    }
    assertThat(mesh.log.count(e -> "inbound".equals(e.direction()))).isZero();
  }
}
