package dev.meshlog.proxy.tcp;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;

import dev.meshlog.events.discovery.ClientTls;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.PortTrafficPolicy;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TlsMode;
import dev.meshlog.events.discovery.TrafficPolicy;
import dev.meshlog.proxy.ProxyTransport;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ViewTranslator;
import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.http.ListenerLimits;
import dev.meshlog.proxy.http.ProxyRuntime;
import dev.meshlog.proxy.http.ResponseFlag;
import dev.meshlog.proxy.support.TestCertificates;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DestinationRule {@code tls} SIMPLE and MUTUAL on a TCP destination: the app's plain bytes
 * reach a TLS database, which sees the sidecar's handshake (SNI, no ALPN) — directly for a
 * ServiceEntry endpoint, inside the CONNECT tunnel for a mesh endpoint — and a handshake that
 * fails closes the app's connection as a failed connect, with the reason in the access log.
 */
class TcpTlsOriginationIT {

  private static final int DB_PORT = 5432;
  private static final String DB = host("db");

  private final Vertx vertx = ProxyTransport.vertx(new VertxOptions().setEventLoopPoolSize(2),
      ProxyTransport.choose(ProxyTransport.Kind.parse(
          System.getProperty("meshlog.test.transport", "auto"))), Duration.ZERO);
  private final ConcurrentLinkedQueue<AccessLogEntry> log = new ConcurrentLinkedQueue<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  /** What each TLS database saw of a handshake: its SNI and ALPN protocol. */
  private final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
  private NetClient app;

  @TempDir
  Path certs;

  private TestCertificates ca;

  @BeforeEach
  void start() {
    app = vertx.createNetClient();
    ca = TestCertificates.authority(certs, "test-root");
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    vertx.close().await();
  }

  /**
   * A database speaking TLS with {@code cert} that answers every chunk with {@code name:} and
   * the chunk; asks for a client certificate from the test CA when {@code mutual}.
   */
  private int tlsDatabase(String name, TestCertificates.Issued cert, boolean mutual) {
    // It would agree to h2 or http/1.1, so an ALPN offer of either would show.
    NetServerOptions o = new NetServerOptions().setSsl(true).setSni(true).setUseAlpn(true)
        .setKeyCertOptions(new PemKeyCertOptions().addCertPath(cert.certificate().toString())
            .addKeyPath(cert.privateKey().toString()));
    o.getSslOptions().setApplicationLayerProtocols(List.of("h2", "http/1.1"));
    if (mutual) {
      o.setClientAuth(ClientAuth.REQUIRED)
          .setTrustOptions(new PemTrustOptions().addCertPath(ca.caFile().toString()));
    }
    return vertx.createNetServer(o).connectHandler(s -> {
      seen.add(s.indicatedServerName() + " alpn="
          + Objects.requireNonNullElse(s.applicationLayerProtocol(), ""));
      s.handler(b -> s.write(Buffer.buffer(name + ":").appendBuffer(b)));
    }).listen(0, "127.0.0.1").await().actualPort();
  }

  private ProxyRuntime runtime(ProxyIdentity id, ProxySnapshot snapshot) {
    SnapshotHolder holder = new SnapshotHolder(snapshot, id, Clock.systemUTC());
    return new ProxyRuntime(vertx, Sidecar.newClient(vertx, 8), holder, Clock.systemUTC(),
        ThreadLocalRandom::current, log::add, ListenerLimits.DEFAULT, "cluster.local");
  }

  /** The sidecar of a db instance whose database listens on {@code dbPort}. */
  private Sidecar dbSidecar(int dbPort) {
    ProxyIdentity id = ProxyIdentity.of("db", "default", "v1", "zone-a", "c1");
    Sidecar s = Sidecar.start(runtime(id, ProxySnapshot.empty()), new Sidecar.Ports("127.0.0.1",
        0, "127.0.0.1", 0, "127.0.0.1", 1, List.of(new PortConfig("tcp-postgres", DB_PORT,
            PortConfig.Protocol.TCP, dbPort)))).await();
    closeables.add(() -> s.close().await());
    return s;
  }

  private static Endpoint endpoint(String id, int port) {
    return Endpoint.newBuilder().setInstanceId(id).setAddress("127.0.0.1").setPort(port)
        .setLabels(Map.of("version", "v1")).setZone("zone-a").setCluster("c1")
        .setHealth(EndpointHealth.HEALTHY).build();
  }

  private static ServiceView.Builder db(Endpoint endpoint, TrafficPolicy policy) {
    return view("db").setEndpoints(List.of(endpoint)).setTrafficPolicy(policy)
        .setPorts(List.of(ServicePort.newBuilder().setName("tcp-postgres").setNumber(DB_PORT)
            .setProtocol(Protocol.TCP).build()));
  }

  private TrafficPolicy simple() {
    return TrafficPolicy.newBuilder().setTlsMode(TlsMode.SIMPLE).setTls(ClientTls.newBuilder()
        .setCaCertificates(ca.caFile().toString()).build()).build();
  }

  private static ServiceView.Builder externalDb(int port, TrafficPolicy policy) {
    return db(endpoint("ServiceEntry/default/db/endpoints[0]", port), policy);
  }

  /** The client's TCP listeners running {@code views}; the local port of db:5432. */
  private int clientListener(ServiceView... views) {
    ProxyIdentity id = ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1");
    ProxyRuntime rt = runtime(id, ProxySnapshot.of(java.util.Arrays.stream(views)
        .map(ViewTranslator::translate).toList()));
    TcpListeners listeners = new TcpListeners(rt, "127.0.0.1", TcpListeners.ANY_PORT,
        line -> { });
    closeables.add(listeners);
    listeners.start().await();
    return listeners.ports().get(new TcpTarget(DB, DB_PORT));
  }

  /** Connects, sends {@code message}, returns the first answer (or "closed") and closes. */
  private String exchange(int port, String message) {
    Promise<String> answer = Promise.promise();
    Promise<NetSocket> connected = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> app.connect(port, "127.0.0.1")
        .onSuccess(socket -> {
          socket.handler(b -> answer.tryComplete(b.toString()));
          socket.closeHandler(c -> answer.tryComplete("closed"));
          socket.write(message);
        }).onComplete(connected));
    NetSocket s = connected.future().await();
    String a = answer.future().await();
    s.close().await();
    return a;
  }

  private AccessLogEntry outboundEntry() {
    return await().atMost(Duration.ofSeconds(10)).until(() -> log.stream()
        .filter(e -> e.direction().equals("outbound")).findFirst().orElse(null),
        Objects::nonNull);
  }

  @Test
  void originatesSimpleTlsToAServiceEntryDatabaseWithTheHostAsSniAndNoAlpn() {
    int external = tlsDatabase("external", ca.issue(DB), false);
    int port = clientListener(externalDb(external, simple()).build());

    assertThat(exchange(port, "SELECT 1")).isEqualTo("external:SELECT 1");
    assertThat(seen).containsExactly(DB + " alpn=");
    assertThat(outboundEntry().upstreamTransportFailure()).isNull();
  }

  @Test
  void originatesTlsInsideTheTunnelToTheDatabaseBehindAMeshEndpoint() {
    Sidecar v1 = dbSidecar(tlsDatabase("db-v1", ca.issue(DB), false));
    int port = clientListener(db(endpoint("db-v1", v1.inboundPort()), simple()).build());

    assertThat(exchange(port, "SELECT 1")).isEqualTo("db-v1:SELECT 1");
    assertThat(exchange(port, "SELECT 2")).isEqualTo("db-v1:SELECT 2");
    assertThat(seen).containsExactly(DB + " alpn=", DB + " alpn=");
  }

  @Test
  void presentsTheClientCertificateWithMutual() {
    int external = tlsDatabase("external", ca.issue(DB), true);
    TestCertificates.Issued me = ca.issue("productpage.default.svc.cluster.local");
    int port = clientListener(externalDb(external, TrafficPolicy.newBuilder()
        .setTlsMode(TlsMode.MUTUAL).setTls(ClientTls.newBuilder()
            .setCaCertificates(ca.caFile().toString())
            .setClientCertificate(me.certificate().toString())
            .setPrivateKey(me.privateKey().toString()).build()).build()).build());

    assertThat(exchange(port, "ping")).isEqualTo("external:ping");
  }

  @Test
  void originatesThePortLevelTlsOfTheDestinationPort() {
    int external = tlsDatabase("external", ca.issue(DB), false);
    int port = clientListener(externalDb(external, TrafficPolicy.newBuilder()
        .setTlsMode(TlsMode.DISABLE)
        .setPortLevelSettings(List.of(PortTrafficPolicy.newBuilder().setPort(DB_PORT)
            .setTlsMode(TlsMode.SIMPLE).setTls(ClientTls.newBuilder()
                .setCaCertificates(ca.caFile().toString()).setSni("primary.db.example.com")
                .setSubjectAltNames(List.of(DB)).build()).build()))
        .build()).build());

    assertThat(exchange(port, "ping")).isEqualTo("external:ping");
    assertThat(seen).containsExactly("primary.db.example.com alpn=");
  }

  @Test
  void anUntrustedCertificateClosesTheConnectionAsAFailedConnectWithTheTlsReason()
      throws Exception {
    TestCertificates stranger = TestCertificates.authority(
        Files.createDirectories(certs.resolve("stranger")), "stranger-root");
    int external = tlsDatabase("external", stranger.issue(DB), false);
    int port = clientListener(externalDb(external, simple()).build());

    assertThat(exchange(port, "ping")).isEqualTo("closed");

    AccessLogEntry e = outboundEntry();
    assertThat(e.flags()).contains(ResponseFlag.UF);
    assertThat(e.attempts()).isEqualTo(OutboundTcp.MAX_CONNECT_ATTEMPTS);
    assertThat(e.upstreamTransportFailure()).startsWith("TLS_error: CERTIFICATE_VERIFY_FAILED");
    assertThat(e.line()).contains("transport_failure=\"TLS_error: CERTIFICATE_VERIFY_FAILED");
  }

  @Test
  void aPlainDatabaseBehindSimpleIsAFailedConnectNotAHang() {
    int plain = vertx.createNetServer().connectHandler(s -> s.handler(b -> s.write("plain:")))
        .listen(0, "127.0.0.1").await().actualPort();
    int port = clientListener(externalDb(plain, simple()).build());

    assertThat(exchange(port, "ping")).isEqualTo("closed");
    assertThat(outboundEntry().upstreamTransportFailure()).startsWith("TLS_error: ");
  }
}
