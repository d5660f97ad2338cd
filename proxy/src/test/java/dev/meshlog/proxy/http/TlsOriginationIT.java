package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.meshlog.events.discovery.ClientTls;
import dev.meshlog.events.discovery.Destination;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.OutlierDetection;
import dev.meshlog.events.discovery.PortTrafficPolicy;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.RouteDestination;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TlsMode;
import dev.meshlog.events.discovery.TrafficPolicy;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.config.ClientTlsConfig;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ViewTranslator;
import dev.meshlog.proxy.support.TestCertificates;
import dev.meshlog.proxy.upstream.CertificateFiles;
import dev.meshlog.proxy.upstream.UpstreamTls;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DestinationRule {@code trafficPolicy.tls} SIMPLE and MUTUAL: a client sidecar originates TLS
 * to a TLS backend on loopback (the app itself, as for an external ServiceEntry host), checks
 * its certificate and name, and answers 503 UF with the reason when the handshake fails.
 */
class TlsOriginationIT {

  private static final String BOOKS = host("books");

  @TempDir
  Path certs;

  private TestMesh mesh;
  private TestCertificates ca;
  private TestCertificates.Issued booksCert;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    ca = TestCertificates.authority(certs, "test-root");
    booksCert = ca.issue(BOOKS);
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  /** A TLS backend with {@code cert}, answering with what it saw of the TLS and HTTP version. */
  private int tlsBackend(TestCertificates.Issued cert, boolean requireClientCert) {
    HttpServerOptions o = new HttpServerOptions().setSsl(true).setUseAlpn(true)
        .setKeyCertOptions(new PemKeyCertOptions().addCertPath(cert.certificate().toString())
            .addKeyPath(cert.privateKey().toString()))
        .setSni(true);
    if (requireClientCert) {
      o.setClientAuth(ClientAuth.REQUIRED)
          .setTrustOptions(new PemTrustOptions().addCertPath(ca.caFile().toString()));
    }
    HttpServer s = mesh.vertx.createHttpServer(o).requestHandler(req -> {
      String peer;
      try {
        peer = req.connection().peerCertificates().isEmpty() ? "none" : "some";
      } catch (Exception e) {
        peer = "none";
      }
      req.response().putHeader("x-seen-tls", String.valueOf(req.isSSL()))
          .putHeader("x-seen-sni", String.valueOf(req.connection().indicatedServerName()))
          .putHeader("x-seen-version", req.version().name())
          .putHeader("x-seen-client-cert", peer)
          .end("books");
    });
    return s.listen(0, "127.0.0.1").await().actualPort();
  }

  private static ClientTls.Builder tls() {
    return ClientTls.newBuilder();
  }

  /** books with one endpoint at {@code address:port}, its policy {@code mode} with {@code tls}. */
  private static ServiceView books(String address, int port, TlsMode mode, ClientTls tls,
                                   Protocol protocol) {
    ServiceView.Builder v = view("books").setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("books-1").setAddress(address).setPort(port)
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setTrafficPolicy(TrafficPolicy.newBuilder().setTlsMode(mode).setTls(tls).build());
    if (protocol != null) {
      v.setPorts(List.of(ServicePort.newBuilder().setName("web").setNumber(80)
          .setProtocol(protocol).build()));
      v.setHttpRoutes(List.of(HttpRoute.newBuilder().setName("r")
          .setDestinations(List.of(RouteDestination.newBuilder().setWeight(100)
              .setDestination(Destination.newBuilder().setHost(BOOKS).build()).build()))
          .build()));
    }
    return v.build();
  }

  private static ServiceView books(int port, TlsMode mode, ClientTls tls) {
    return books("127.0.0.1", port, mode, tls, null);
  }

  @Test
  void originatesSimpleTlsWithTheHostAsSniTrustingCaCertificates() {
    int app = tlsBackend(booksCert, false);
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).build()));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/", "x-request-id", "t-1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("books");
    assertThat(r.header("x-seen-tls")).isEqualTo("true");
    assertThat(r.header("x-seen-sni")).isEqualTo(BOOKS);
    assertThat(r.header("x-seen-version")).isEqualTo("HTTP_1_1");
    assertThat(mesh.log.await("outbound", "t-1").upstreamTransportFailure()).isNull();
  }

  @Test
  void sendsTheConfiguredSniAndChecksTheConfiguredSubjectAltNames() {
    int app = tlsBackend(ca.issue("api.example.com"), false);
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).setSni("api.example.com")
            .setSubjectAltNames(List.of("other.example.com", "api.example.com")).build()));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("x-seen-sni")).isEqualTo("api.example.com");
  }

  @Test
  void refusesACertificateAnotherCaSignedWith503UfAndSaysWhy() {
    int app = tlsBackend(TestCertificates.authority(certs, "stranger-root").issue(BOOKS), false);
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).build()));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/", "x-request-id", "t-2");

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).startsWith(ProxyExchange.RESET_BEFORE_HEADERS
        + "connection failure, transport failure reason: TLS_error: CERTIFICATE_VERIFY_FAILED");
    AccessLogEntry e = mesh.log.await("outbound", "t-2");
    assertThat(e.flags()).contains(ResponseFlag.UF);
    assertThat(e.upstreamTransportFailure()).startsWith("TLS_error: CERTIFICATE_VERIFY_FAILED");
    assertThat(e.line()).contains("transport_failure=\"TLS_error: CERTIFICATE_VERIFY_FAILED");
  }

  @Test
  void refusesACertificateForAnotherName() {
    int app = tlsBackend(ca.issue("other.example.com"), false);
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).build()));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/", "x-request-id", "t-3");

    assertThat(r.status()).isEqualTo(503);
    assertThat(mesh.log.await("outbound", "t-3").upstreamTransportFailure())
        .contains("other.example.com").contains(BOOKS);
  }

  @Test
  void aServerThatDoesNotSpeakTlsIs503UfNotAHang() {
    int plain = mesh.namedBackend("plain");
    Sidecar client = mesh.clientSidecar(books(plain, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).build()));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/", "x-request-id", "t-4");

    assertThat(r.status()).isEqualTo(503);
    AccessLogEntry e = mesh.log.await("outbound", "t-4");
    assertThat(e.flags()).contains(ResponseFlag.UF);
    assertThat(e.upstreamTransportFailure()).startsWith("TLS_error: ");
  }

  @Test
  void presentsTheClientCertificateWithMutual() {
    int app = tlsBackend(booksCert, true);
    TestCertificates.Issued me = ca.issue("productpage.default.svc.cluster.local");
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.MUTUAL,
        tls().setCaCertificates(ca.caFile().toString())
            .setClientCertificate(me.certificate().toString())
            .setPrivateKey(me.privateKey().toString()).build()));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("x-seen-client-cert")).isEqualTo("some");
  }

  @Test
  void aBackendRequiringAClientCertificateRefusesSimple() {
    int app = tlsBackend(booksCert, true);
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).build()));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/", "x-request-id", "t-5");

    // TLS 1.3: the server's refusal of the missing certificate comes after the client's
    // handshake ended, as an alert on the first read: the connection closes before a response.
    assertThat(r.status()).isEqualTo(503);
    assertThat(mesh.log.await("outbound", "t-5").flags())
        .containsAnyOf(ResponseFlag.UF, ResponseFlag.UC);
  }

  @Test
  void followsTheViewSwitchingTlsOnAndOffAtRunTime() {
    int app = tlsBackend(booksCert, false);
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.DISABLE, null));
    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(503);

    client.holder().apply(ProxySnapshot.of(ViewTranslator.translate(books(app, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).build()))));
    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(200);

    client.holder().apply(ProxySnapshot.of(ViewTranslator.translate(books(app,
        TlsMode.ISTIO_MUTUAL, null))));
    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(503);
  }

  @Test
  void originatesTlsToAnEndpointNamedByHostName() {
    // A DNS ServiceEntry's endpoint: the request goes through Vert.x's client, TLS included.
    int app = tlsBackend(booksCert, false);
    Sidecar client = mesh.clientSidecar(books("localhost", app, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).build(), null));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/", "x-request-id", "t-6");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("x-seen-sni")).isEqualTo(BOOKS);
  }

  @Test
  void refusesAnUntrustedCertificateOnVertxClientPathToo() {
    int app = tlsBackend(TestCertificates.authority(certs, "stranger-root").issue(BOOKS), false);
    Sidecar client = mesh.clientSidecar(books("localhost", app, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).build(), null));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/", "x-request-id", "t-7");

    assertThat(r.status()).isEqualTo(503);
    AccessLogEntry e = mesh.log.await("outbound", "t-7");
    assertThat(e.flags()).contains(ResponseFlag.UF);
    assertThat(e.upstreamTransportFailure()).startsWith("TLS_error: CERTIFICATE_VERIFY_FAILED");
  }

  @Test
  void speaksHttp2OverTlsToAPortDeclaredHttp2() {
    int app = tlsBackend(booksCert, false);
    Sidecar client = mesh.clientSidecar(books("127.0.0.1", app, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).build(), Protocol.HTTP2));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("x-seen-tls")).isEqualTo("true");
    assertThat(r.header("x-seen-version")).isEqualTo(HttpVersion.HTTP_2.name());
    assertThat(r.header("x-seen-sni")).isEqualTo(BOOKS);
  }

  @Test
  void insecureSkipVerifyAcceptsAnyCertificate() {
    int app = tlsBackend(TestCertificates.authority(certs, "stranger-root")
        .issue("other.example.com"), false);
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.SIMPLE,
        tls().setInsecureSkipVerify(true).build()));

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("x-seen-tls")).isEqualTo("true");
  }

  @Test
  void outlierDetectionEjectsTheEndpointWhoseHandshakeFails() {
    int good = tlsBackend(booksCert, false);
    int bad = tlsBackend(TestCertificates.authority(certs, "stranger-root").issue(BOOKS), false);
    ServiceView v = view("books").setEndpoints(List.of(
            Endpoint.newBuilder().setInstanceId("books-good").setAddress("127.0.0.1")
                .setPort(good).setHealth(EndpointHealth.HEALTHY).build(),
            Endpoint.newBuilder().setInstanceId("books-bad").setAddress("127.0.0.1")
                .setPort(bad).setHealth(EndpointHealth.HEALTHY).build()))
        .setTrafficPolicy(TrafficPolicy.newBuilder().setTlsMode(TlsMode.SIMPLE)
            .setTls(tls().setCaCertificates(ca.caFile().toString()).build())
            .setOutlierDetection(OutlierDetection.newBuilder().setConsecutiveGatewayErrors(1)
                .setBaseEjectionTimeMillis(600_000).setMaxEjectionPercent(100).build())
            .build())
        .build();
    Sidecar client = mesh.clientSidecar(v);

    for (int i = 0; i < 10; i++) {
      // Istio's default retry policy retries a connect failure: every request succeeds.
      assertThat(mesh.get(client.outboundPort(), "books", "/", "x-request-id", "od-" + i)
          .status()).isEqualTo(200);
    }

    // Round robin would send every other first try to the bad endpoint; ejected after its
    // first failed handshake, it gets no more.
    long retried = 0;
    for (int i = 0; i < 10; i++) {
      if (mesh.log.await("outbound", "od-" + i).attempts() > 1) {
        retried++;
      }
    }
    assertThat(retried).isLessThanOrEqualTo(1);
  }

  @Test
  void aMirrorToAHostWithSimpleTlsOriginatesIt() {
    java.util.Queue<Boolean> mirrored = new java.util.concurrent.ConcurrentLinkedQueue<>();
    HttpServer shadow = mesh.vertx.createHttpServer(new HttpServerOptions().setSsl(true)
        .setKeyCertOptions(new PemKeyCertOptions()
            .addCertPath(ca.issue(host("shadow")).certificate().toString())
            .addKeyPath(certs.resolve(host("shadow") + "-key.pem").toString())))
        .requestHandler(req -> {
          mirrored.add(req.isSSL());
          req.response().end();
        });
    int shadowPort = shadow.listen(0, "127.0.0.1").await().actualPort();
    int app = mesh.namedBackend("books");
    ServiceView books = view("books").setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("books-1").setAddress("127.0.0.1").setPort(app)
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setHttpRoutes(List.of(HttpRoute.newBuilder().setName("r")
            .setDestinations(List.of(RouteDestination.newBuilder().setWeight(100)
                .setDestination(Destination.newBuilder().setHost(BOOKS).build()).build()))
            .setMirror(Destination.newBuilder().setHost(host("shadow")).build())
            .setMirrorPercentage(100.0).build()))
        .build();
    ServiceView shadowView = view("shadow").setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("shadow-1").setAddress("127.0.0.1").setPort(shadowPort)
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setTrafficPolicy(TrafficPolicy.newBuilder().setTlsMode(TlsMode.SIMPLE)
            .setTls(tls().setCaCertificates(ca.caFile().toString()).build()).build())
        .build();
    Sidecar client = mesh.clientSidecar(books, shadowView);

    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(200);

    TestMesh.eventually(() -> assertThat(mirrored).containsExactly(true));
  }

  @Test
  void aMirrorToAPortWithPortLevelTlsOriginatesItToThatPortsTargetPort() {
    java.util.Queue<String> mirrored = new java.util.concurrent.ConcurrentLinkedQueue<>();
    String shadowHost = "shadow.example.com";
    TestCertificates.Issued cert = ca.issue(shadowHost);
    int tlsPort = mesh.vertx.createHttpServer(new HttpServerOptions().setSsl(true).setSni(true)
            .setKeyCertOptions(new PemKeyCertOptions().addCertPath(cert.certificate().toString())
                .addKeyPath(cert.privateKey().toString())))
        .requestHandler(req -> {
          mirrored.add("tls " + req.connection().indicatedServerName());
          req.response().end();
        }).listen(0, "127.0.0.1").await().actualPort();
    int plainPort = mesh.backend(req -> {
      mirrored.add("plain");
      req.response().end();
    });
    int app = mesh.namedBackend("books");
    ServiceView books = view("books").setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("books-1").setAddress("127.0.0.1").setPort(app)
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setHttpRoutes(List.of(HttpRoute.newBuilder().setName("r")
            .setDestinations(List.of(RouteDestination.newBuilder().setWeight(100)
                .setDestination(Destination.newBuilder().setHost(BOOKS).build()).build()))
            .setMirror(Destination.newBuilder().setHost(shadowHost).setPort(443).build())
            .setMirrorPercentage(100.0).build()))
        .build();
    // Istio's egress entry again: the endpoint serves 80 on plainPort and 443 on tlsPort, and
    // only 443 has tls, at port level.
    ServiceView shadow = view("shadow").setHost(shadowHost)
        .setPorts(List.of(
            ServicePort.newBuilder().setName("http-port").setNumber(80)
                .setProtocol(Protocol.HTTP).setTargetPort(plainPort).build(),
            ServicePort.newBuilder().setName("https-port").setNumber(443)
                .setProtocol(Protocol.TLS).setTargetPort(tlsPort).build()))
        .setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("ServiceEntry/default/shadow/endpoints[0]")
            .setAddress("127.0.0.1").setPort(plainPort).setHealth(EndpointHealth.HEALTHY)
            .build()))
        .setTrafficPolicy(TrafficPolicy.newBuilder()
            .setPortLevelSettings(List.of(PortTrafficPolicy.newBuilder().setPort(443)
                .setTlsMode(TlsMode.SIMPLE)
                .setTls(tls().setCaCertificates(ca.caFile().toString()).build()).build()))
            .build())
        .build();
    Sidecar client = mesh.clientSidecar(books, shadow);

    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(200);

    TestMesh.eventually(() -> assertThat(mirrored).containsExactly("tls " + shadowHost));
  }

  @Test
  void aWebSocketToAHostWithSimpleTlsIsTunnelledOverTls() {
    HttpServer echo = mesh.vertx.createHttpServer(new HttpServerOptions().setSsl(true)
            .setKeyCertOptions(new PemKeyCertOptions()
                .addCertPath(booksCert.certificate().toString())
                .addKeyPath(booksCert.privateKey().toString())))
        .webSocketHandler(ws -> ws.textMessageHandler(m -> ws.writeTextMessage("echo " + m
            + " tls=" + ws.isSsl())));
    int app = echo.listen(0, "127.0.0.1").await().actualPort();
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.SIMPLE,
        tls().setCaCertificates(ca.caFile().toString()).build()));
    io.vertx.core.http.WebSocketClient ws = mesh.vertx.createWebSocketClient();

    io.vertx.core.http.WebSocket socket = ws.connect(
        new io.vertx.core.http.WebSocketConnectOptions().setHost("127.0.0.1")
            .setPort(client.outboundPort()).setURI("/chat").addHeader("host", "books"))
        .await();
    io.vertx.core.Promise<String> reply = io.vertx.core.Promise.promise();
    socket.textMessageHandler(reply::tryComplete);
    socket.writeTextMessage("one");

    assertThat(reply.future().await()).isEqualTo("echo one tls=true");
    socket.close().await();
  }

  @Test
  void aWebSocketToAnUntrustedTlsEndpointIs503WithTheReason() {
    HttpServer echo = mesh.vertx.createHttpServer(new HttpServerOptions().setSsl(true)
            .setKeyCertOptions(new PemKeyCertOptions()
                .addCertPath(booksCert.certificate().toString())
                .addKeyPath(booksCert.privateKey().toString())))
        .webSocketHandler(ws -> ws.writeTextMessage("hello"));
    int app = echo.listen(0, "127.0.0.1").await().actualPort();
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.SIMPLE, tls()
        .setCaCertificates(TestCertificates.authority(certs, "stranger-root").caFile().toString())
        .build()));
    io.vertx.core.http.WebSocketClient ws = mesh.vertx.createWebSocketClient();

    Throwable refused = ws.connect(new io.vertx.core.http.WebSocketConnectOptions()
            .setHost("127.0.0.1").setPort(client.outboundPort()).setURI("/chat")
            .addHeader("host", "books").addHeader("x-request-id", "ws-1"))
        .map(w -> (Throwable) null).otherwise(t -> t).await();

    assertThat(refused).isInstanceOf(io.vertx.core.http.UpgradeRejectedException.class);
    assertThat(((io.vertx.core.http.UpgradeRejectedException) refused).getStatus())
        .isEqualTo(503);
    AccessLogEntry e = mesh.log.await("outbound", "ws-1");
    assertThat(e.flags()).contains(ResponseFlag.UF);
    assertThat(e.upstreamTransportFailure()).startsWith("TLS_error: CERTIFICATE_VERIFY_FAILED");
  }

  /**
   * Istio's "Egress TLS origination" task: a ServiceEntry host with ports 80 (HTTP) and 443
   * (HTTPS), a VirtualService sending port 80 to 443, and a DestinationRule whose
   * {@code portLevelSettings} originate SIMPLE TLS on 443 only. Each port is a loopback port
   * here (the entry's endpoint serves 80 on {@code plain}, 443 on {@code tlsPort}); 8080 is
   * another HTTP port, without port-level tls.
   */
  private static ServiceView egressEntry(int plain, int tlsPort, String caFile) {
    String host = "edition.example.com";
    Destination.Builder to = Destination.newBuilder().setHost(host);
    return view("edition").setHost(host)
        .setPorts(List.of(
            ServicePort.newBuilder().setName("http-port").setNumber(80)
                .setProtocol(Protocol.HTTP).setTargetPort(plain).build(),
            ServicePort.newBuilder().setName("https-port").setNumber(443)
                .setProtocol(Protocol.TLS).setTargetPort(tlsPort).build(),
            ServicePort.newBuilder().setName("http-alt").setNumber(8080)
                .setProtocol(Protocol.HTTP).setTargetPort(plain).build()))
        .setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("ServiceEntry/default/edition/endpoints[0]")
            .setAddress("127.0.0.1").setPort(plain).setHealth(EndpointHealth.HEALTHY).build()))
        .setTrafficPolicy(TrafficPolicy.newBuilder()
            .setPortLevelSettings(List.of(PortTrafficPolicy.newBuilder().setPort(443)
                .setTlsMode(TlsMode.SIMPLE).setTls(tls().setCaCertificates(caFile).build())
                .build()))
            .build())
        .setHttpRoutes(List.of(
            HttpRoute.newBuilder().setName("to-443")
                .setMatches(List.of(HttpMatch.newBuilder().setPort(80).build()))
                .setDestinations(List.of(RouteDestination.newBuilder().setWeight(100)
                    .setDestination(to.setPort(443).build()).build()))
                .build(),
            HttpRoute.newBuilder().setName("rest")
                .setDestinations(List.of(RouteDestination.newBuilder().setWeight(100)
                    .setDestination(Destination.newBuilder().setHost(host).build()).build()))
                .build()))
        .build();
  }

  @Test
  void originatesPortLevelTlsForThePlainCallIstiosEgressTaskRoutesTo443() {
    int tlsPort = tlsBackend(ca.issue("edition.example.com"), false);
    int plain = mesh.namedBackend("plain");
    Sidecar client = mesh.clientSidecar(egressEntry(plain, tlsPort, ca.caFile().toString()));

    TestMesh.Response r = mesh.get(client.outboundPort(), "edition.example.com", "/",
        "x-request-id", "pl-1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("books");
    assertThat(r.header("x-seen-tls")).isEqualTo("true");
    assertThat(r.header("x-seen-sni")).isEqualTo("edition.example.com");
    assertThat(mesh.log.await("outbound", "pl-1").upstreamTransportFailure()).isNull();
  }

  @Test
  void aRequestToAPortWithoutPortLevelTlsStaysPlain() {
    int tlsPort = tlsBackend(ca.issue("edition.example.com"), false);
    int plain = mesh.namedBackend("plain");
    Sidecar client = mesh.clientSidecar(egressEntry(plain, tlsPort, ca.caFile().toString()));

    TestMesh.Response r = mesh.get(client.outboundPort(), "edition.example.com:8080", "/");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("x-served-by")).isEqualTo("plain");
  }

  /**
   * A TLS backend serving {@code cert} that closes each connection after its answer, so every
   * request makes a new handshake.
   */
  private HttpServer closingTlsBackend(TestCertificates.Issued cert) {
    return closingTlsBackend(cert, false);
  }

  private HttpServer closingTlsBackend(TestCertificates.Issued cert, boolean requireClientCert) {
    HttpServerOptions o = new HttpServerOptions().setSsl(true).setKeyCertOptions(pem(cert));
    if (requireClientCert) {
      o.setClientAuth(ClientAuth.REQUIRED)
          .setTrustOptions(new PemTrustOptions().addCertPath(ca.caFile().toString()));
    }
    HttpServer s = mesh.vertx.createHttpServer(o).requestHandler(req -> req.response()
        .putHeader("connection", "close").end("books"));
    s.listen(0, "127.0.0.1").await();
    return s;
  }

  private static PemKeyCertOptions pem(TestCertificates.Issued cert) {
    return new PemKeyCertOptions().addCertPath(cert.certificate().toString())
        .addKeyPath(cert.privateKey().toString());
  }

  private static void serve(HttpServer server, TestCertificates.Issued cert) {
    server.updateSSLOptions(new ServerSSLOptions().setKeyCertOptions(pem(cert)), true).await();
  }

  private TestCertificates nextAuthority() throws Exception {
    return TestCertificates.authority(Files.createDirectories(certs.resolve("next")), "next-root");
  }

  @Test
  void followsARotatedServerCertificateAndCaFileWithoutAViewChange() throws Exception {
    Path trust = certs.resolve("trust.pem");
    TestCertificates.replace(trust, ca.caFile());
    HttpServer backend = closingTlsBackend(booksCert);
    Sidecar client = mesh.clientSidecar(books(backend.actualPort(), TlsMode.SIMPLE,
        tls().setCaCertificates(trust.toString()).build()));
    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(200);

    TestCertificates next = nextAuthority();
    serve(backend, next.issue(BOOKS));
    // The next handshake meets the new certificate, which the old CA file does not trust.
    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(503);

    TestCertificates.replace(trust, next.caFile());
    CertificateFiles.proxyWide().check();

    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/", "x-request-id", "rot-1");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("books");
  }

  @Test
  void aCaFileChangedIntoSomethingUnreadableKeepsThePreviousOneAndSaysWhy() throws Exception {
    Path trust = certs.resolve("trust.pem");
    TestCertificates.replace(trust, ca.caFile());
    HttpServer backend = closingTlsBackend(booksCert);
    Sidecar client = mesh.clientSidecar(books(backend.actualPort(), TlsMode.SIMPLE,
        tls().setCaCertificates(trust.toString()).build()));
    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(200);
    ClientTlsConfig config = new ClientTlsConfig("", trust.toString(), List.of(), "", "", false);

    // Half written: a certificate's first line and nothing more.
    TestCertificates.replace(trust, "-----BEGIN CERTIFICATE-----\nMIIB");
    CertificateFiles.proxyWide().check();

    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(200);
    assertThat(UpstreamTls.loaded(config).filesError())
        .startsWith("caCertificates: " + trust + ": ");

    // The next change that loads is taken.
    TestCertificates next = nextAuthority();
    serve(backend, next.issue(BOOKS));
    TestCertificates.replace(trust, next.caFile());
    CertificateFiles.proxyWide().check();

    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(200);
    assertThat(UpstreamTls.loaded(config).filesError()).isNull();
  }

  @Test
  void presentsARotatedClientCertificateWithoutAViewChange() throws Exception {
    int app = closingTlsBackend(booksCert, true).actualPort();
    TestCertificates.Issued first = ca.issue("productpage.default.svc.cluster.local");
    Path cert = certs.resolve("client.pem");
    Path key = certs.resolve("client-key.pem");
    TestCertificates.replace(cert, first.certificate());
    TestCertificates.replace(key, first.privateKey());
    Sidecar client = mesh.clientSidecar(books(app, TlsMode.MUTUAL,
        tls().setCaCertificates(ca.caFile().toString()).setClientCertificate(cert.toString())
            .setPrivateKey(key.toString()).build()));
    assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(200);

    // A certificate another CA signed, replaced before its key: the check in between sees a
    // pair that does not match and keeps the previous one.
    TestCertificates.Issued stranger =
        nextAuthority().issue("productpage.default.svc.cluster.local");
    TestCertificates.replace(cert, stranger.certificate());
    CertificateFiles.proxyWide().check();
    ClientTlsConfig config = new ClientTlsConfig("", ca.caFile().toString(), List.of(),
        cert.toString(), key.toString(), false);
    assertThat(UpstreamTls.loaded(config).filesError())
        .startsWith("privateKey: " + key + ": not the key of " + cert);
    assertThat(mesh.get(client.outboundPort(), "books", "/", "x-request-id", "mut-1").status())
        .isEqualTo(200);

    TestCertificates.replace(key, stranger.privateKey());
    CertificateFiles.proxyWide().check();

    // New connections present the stranger's certificate, which the backend refuses.
    assertThat(UpstreamTls.loaded(config).filesError()).isNull();
    assertThat(mesh.get(client.outboundPort(), "books", "/", "x-request-id", "mut-2").status())
        .isEqualTo(503);
  }
}
