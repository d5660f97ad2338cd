package dev.meshlog.proxy.tcp;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TcpRoute;
import dev.meshlog.proxy.ProxyTransport;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.admin.MeshMetrics;
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
import dev.meshlog.proxy.support.RefusingPort;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TCP through two real proxies: the app connects to its sidecar's local port for
 * {@code db:5432}; the sidecar picks an endpoint and tunnels to that instance's sidecar with
 * CONNECT, which relays to the database on its own port.
 */
class TcpPassthroughIT {

  private static final int DB_PORT = 5432;

  // The transport the proxy would run (io_uring here); -Dmeshlog.test.transport=nio for NIO.
  private final Vertx vertx = ProxyTransport.vertx(new VertxOptions().setEventLoopPoolSize(2),
      ProxyTransport.choose(ProxyTransport.Kind.parse(
          System.getProperty("meshlog.test.transport", "auto"))), Duration.ZERO);
  private final ConcurrentLinkedQueue<AccessLogEntry> log = new ConcurrentLinkedQueue<>();
  private final List<String> announced = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private NetClient app;

  @BeforeEach
  void start() {
    app = vertx.createNetClient();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    vertx.close().await();
  }

  /** A database that answers every chunk with {@code name:} and the chunk. */
  private int database(String name) {
    return vertx.createNetServer().connectHandler(s -> s.handler(b ->
            s.write(Buffer.buffer(name + ":").appendBuffer(b))))
        .listen(0, "127.0.0.1").await().actualPort();
  }

  /** A database that echoes everything back, with backpressure. */
  private int echoDatabase() {
    return vertx.createNetServer().connectHandler(s -> s.pipeTo(s))
        .listen(0, "127.0.0.1").await().actualPort();
  }

  private ProxyRuntime runtime(ProxyIdentity id, ProxySnapshot snapshot) {
    return runtime(id, snapshot, entry -> { });
  }

  private ProxyRuntime runtime(ProxyIdentity id, ProxySnapshot snapshot, AccessLog more) {
    SnapshotHolder holder = new SnapshotHolder(snapshot, id, Clock.systemUTC());
    return new ProxyRuntime(vertx, Sidecar.newClient(vertx, 8), holder, Clock.systemUTC(),
        ThreadLocalRandom::current, AccessLog.all(List.of(log::add, more)),
        ListenerLimits.DEFAULT, "cluster.local");
  }

  /** The sidecar of a db instance whose database listens on {@code dbPort}. */
  private Sidecar dbSidecar(String version, int dbPort) {
    ProxyIdentity id = ProxyIdentity.of("db", "default", version, "zone-a", "c1");
    Sidecar s = Sidecar.start(runtime(id, ProxySnapshot.empty()), new Sidecar.Ports("127.0.0.1",
        0, "127.0.0.1", 0, "127.0.0.1", 1, List.of(new PortConfig("tcp-postgres", DB_PORT,
            PortConfig.Protocol.TCP, dbPort)))).await();
    closeables.add(() -> s.close().await());
    return s;
  }

  private static Endpoint endpoint(String id, int port, String version) {
    return Endpoint.newBuilder().setInstanceId(id).setAddress("127.0.0.1").setPort(port)
        .setLabels(Map.of("version", version)).setZone("zone-a").setCluster("c1")
        .setHealth(EndpointHealth.HEALTHY).build();
  }

  private static ServiceView.Builder db(Endpoint... endpoints) {
    return view("db").setEndpoints(List.of(endpoints))
        .setPorts(List.of(ServicePort.newBuilder().setName("tcp-postgres").setNumber(DB_PORT)
            .setProtocol(Protocol.TCP).build()));
  }

  private static final ProxyIdentity PRODUCTPAGE =
      ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1");

  /** The client's sidecar running {@code views}, with its TCP listeners on any free ports. */
  private TcpListeners clientListeners(ServiceView... views) {
    return clientListeners(entry -> { }, views);
  }

  /** The same, also logging to {@code more}. */
  private TcpListeners clientListeners(AccessLog more, ServiceView... views) {
    ProxyRuntime rt = runtime(PRODUCTPAGE, ProxySnapshot.of(java.util.Arrays.stream(views)
        .map(ViewTranslator::translate).toList()), more);
    TcpListeners listeners = new TcpListeners(rt, "127.0.0.1", TcpListeners.ANY_PORT,
        announced::add);
    closeables.add(listeners);
    listeners.start().await();
    return listeners;
  }

  private static int localPort(TcpListeners listeners) {
    return listeners.ports().get(new TcpTarget(host("db"), DB_PORT));
  }

  /** Connects, sends {@code message}, returns the first answer (or "closed") and closes. */
  private String exchange(int port, String message) {
    Promise<String> answer = Promise.promise();
    Promise<NetSocket> connected = Promise.promise();
    // Connect from an event-loop context, so the handlers are set as the connection completes,
    // on its event loop, before it reads anything: no event is missed. (From the test's thread
    // the connection could complete, and the proxy's close be read, before onSuccess was added —
    // a missed close hung this test once in CI.)
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

  @Test
  void relaysAConnectionThroughTheDestinationsSidecarToItsDatabase() {
    Sidecar v1 = dbSidecar("v1", database("db-v1"));
    TcpListeners listeners = clientListeners(db(endpoint("db-v1", v1.inboundPort(), "v1"))
        .build());

    assertThat(exchange(localPort(listeners), "SELECT 1")).isEqualTo("db-v1:SELECT 1");
    assertThat(announced).anySatisfy(line -> assertThat(line)
        .startsWith("meshlog-proxy tcp " + host("db") + ":5432 -> 127.0.0.1:"));
    AccessLogEntry out = await().atMost(Duration.ofSeconds(10)).until(() -> log.stream()
        .filter(e -> e.direction().equals("outbound")).findFirst().orElse(null),
        java.util.Objects::nonNull);
    assertThat(out.protocol()).isEqualTo("TCP");
    assertThat(out.bytesReceived()).isEqualTo(8);
    assertThat(out.bytesSent()).isEqualTo(14);
    assertThat(out.cluster()).isEqualTo("outbound|||" + host("db"));
    await().atMost(Duration.ofSeconds(10)).until(() -> log.stream()
        .anyMatch(e -> e.direction().equals("inbound") && e.sourceWorkload()
            .equals("productpage-v1")));
  }

  @Test
  void countsAnOpenConnectionAndItsBytesInIstiosMetricsBeforeItCloses() {
    Sidecar v1 = dbSidecar("v1", database("db-v1"));
    MeshMetrics metrics = new MeshMetrics(PRODUCTPAGE, "cluster.local");
    TcpListeners listeners = clientListeners(metrics,
        db(endpoint("db-v1", v1.inboundPort(), "v1")).build());
    Promise<String> answer = Promise.promise();
    NetSocket s = app.connect(localPort(listeners), "127.0.0.1").onSuccess(socket -> {
      socket.handler(b -> answer.tryComplete(b.toString()));
      socket.write("SELECT 1");
    }).await();

    assertThat(answer.future().await()).isEqualTo("db-v1:SELECT 1");
    // Still open: Istio's dashboards see it and its bytes now, not when it closes.
    assertThat(metrics.scrape())
        .containsPattern("istio_tcp_connections_opened_total\\{[^}]*destination_service_name="
            + "\"db\"[^}]*reporter=\"source\"[^}]*} 1")
        .containsPattern("istio_tcp_received_bytes_total\\{[^}]*} 8")
        .containsPattern("istio_tcp_sent_bytes_total\\{[^}]*} 14")
        .doesNotContainPattern("istio_tcp_connections_closed_total\\{");

    s.close().await();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(metrics.scrape())
        .containsPattern("istio_tcp_connections_closed_total\\{[^}]*} 1")
        .containsPattern("istio_tcp_received_bytes_total\\{[^}]*} 8")
        .containsPattern("istio_tcp_sent_bytes_total\\{[^}]*} 14"));
  }

  /**
   * A database on a plain blocking socket (Vert.x cannot half-close): it reads the request up
   * to the client's FIN, and only then answers and closes.
   */
  private int databaseAnsweringAfterEndOfRequest() throws java.io.IOException {
    java.net.ServerSocket server = new java.net.ServerSocket(0, 50,
        java.net.InetAddress.getLoopbackAddress());
    closeables.add(server);
    Thread t = new Thread(() -> {
      try (java.net.Socket s = server.accept()) {
        byte[] request = s.getInputStream().readAllBytes();
        s.getOutputStream().write(("db read " + request.length + " bytes: "
            + new String(request, java.nio.charset.StandardCharsets.UTF_8))
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      } catch (java.io.IOException e) {
        // the test fails on the client side
      }
    }, "half-close-db");
    t.setDaemon(true);
    t.start();
    return server.getLocalPort();
  }

  /** A database that greets, shuts down its output at once, and reports what it reads after. */
  private int databaseGreetingThenListening(Promise<String> heard) throws java.io.IOException {
    java.net.ServerSocket server = new java.net.ServerSocket(0, 50,
        java.net.InetAddress.getLoopbackAddress());
    closeables.add(server);
    Thread t = new Thread(() -> {
      try (java.net.Socket s = server.accept()) {
        s.getOutputStream().write("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        s.shutdownOutput();
        heard.tryComplete(new String(s.getInputStream().readAllBytes(),
            java.nio.charset.StandardCharsets.UTF_8));
      } catch (java.io.IOException e) {
        heard.tryFail(e);
      }
    }, "half-close-db");
    t.setDaemon(true);
    t.start();
    return server.getLocalPort();
  }

  @Test
  void aClientThatShutsDownItsOutputStillReadsTheWholeReply() throws Exception {
    Sidecar v1 = dbSidecar("v1", databaseAnsweringAfterEndOfRequest());
    TcpListeners listeners = clientListeners(db(endpoint("db-v1", v1.inboundPort(), "v1"))
        .build());

    String reply;
    try (java.net.Socket client = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(),
        localPort(listeners))) {
      client.setSoTimeout(10_000);
      client.getOutputStream().write("SELECT 1".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      client.shutdownOutput();
      reply = new String(client.getInputStream().readAllBytes(),
          java.nio.charset.StandardCharsets.UTF_8);
    }

    assertThat(reply).isEqualTo("db read 8 bytes: SELECT 1");
    AccessLogEntry out = await().atMost(Duration.ofSeconds(10)).until(() -> log.stream()
        .filter(e -> e.direction().equals("outbound")).findFirst().orElse(null),
        java.util.Objects::nonNull);
    assertThat(out.bytesReceived()).isEqualTo(8);
    assertThat(out.bytesSent()).isEqualTo(25);
    assertThat(out.flags()).isEmpty();
  }

  @Test
  void aServerThatShutsDownItsOutputStillReadsWhatTheClientSendsAfter() throws Exception {
    Promise<String> heard = Promise.promise();
    Sidecar v1 = dbSidecar("v1", databaseGreetingThenListening(heard));
    TcpListeners listeners = clientListeners(db(endpoint("db-v1", v1.inboundPort(), "v1"))
        .build());

    String greeting;
    try (java.net.Socket client = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(),
        localPort(listeners))) {
      client.setSoTimeout(10_000);
      greeting = new String(client.getInputStream().readAllBytes(),
          java.nio.charset.StandardCharsets.UTF_8);
      client.getOutputStream().write("bye".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      client.shutdownOutput();
    }

    assertThat(greeting).isEqualTo("hello");
    assertThat(heard.future().await()).isEqualTo("bye");
  }

  @Test
  void splitsConnectionsByTheTcpRouteWeights() {
    Sidecar v1 = dbSidecar("v1", database("db-v1"));
    Sidecar v2 = dbSidecar("v2", database("db-v2"));
    TcpListeners listeners = clientListeners(db(endpoint("db-v1", v1.inboundPort(), "v1"),
            endpoint("db-v2", v2.inboundPort(), "v2"))
        .setSubsets(List.of(subset("v1"), subset("v2")))
        .setTcpRoutes(List.of(TcpRoute.newBuilder().setPorts(List.of(DB_PORT))
            .setDestinations(List.of(to("db", "v1", 80), to("db", "v2", 20))).build()))
        .build());

    Map<String, Integer> served = new TreeMap<>();
    for (int i = 0; i < 10; i++) {
      served.merge(exchange(localPort(listeners), "q").split(":")[0], 1, Integer::sum);
    }

    assertThat(served).containsExactlyInAnyOrderEntriesOf(Map.of("db-v1", 8, "db-v2", 2));
  }

  @Test
  void balancesConnectionsOverTheEndpointsWithoutARoute() {
    Sidecar a = dbSidecar("v1", database("db-a"));
    Sidecar b = dbSidecar("v1", database("db-b"));
    TcpListeners listeners = clientListeners(db(endpoint("db-a", a.inboundPort(), "v1"),
        endpoint("db-b", b.inboundPort(), "v1")).build());

    List<String> served = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      served.add(exchange(localPort(listeners), "q").split(":")[0]);
    }

    assertThat(served).containsExactlyInAnyOrder("db-a", "db-a", "db-b", "db-b");
  }

  @Test
  void connectsStraightToAServiceEntryEndpoint() {
    int external = database("external");
    TcpListeners listeners = clientListeners(db(endpoint(
        "ServiceEntry/default/db/endpoints[0]", external, "v1")).build());

    assertThat(exchange(localPort(listeners), "ping")).isEqualTo("external:ping");
  }

  @Test
  void triesAnotherEndpointWhenOneRefusesTheConnection() {
    Sidecar live = dbSidecar("v1", database("db-live"));
    TcpListeners listeners = clientListeners(db(endpoint("db-dead", closedPort(), "v1"),
        endpoint("db-live", live.inboundPort(), "v1")).build());

    for (int i = 0; i < 4; i++) {
      assertThat(exchange(localPort(listeners), "q")).isEqualTo("db-live:q");
    }
  }

  /**
   * A loopback port that refuses connections, held until the test ends so that no listener
   * started afterwards (a sidecar's own) can be given it.
   */
  private int closedPort() {
    RefusingPort refusing = new RefusingPort();
    closeables.add(refusing);
    return refusing.port();
  }

  @Test
  void carriesMegabytesBothWaysWithBackpressure() {
    Sidecar v1 = dbSidecar("v1", echoDatabase());
    TcpListeners listeners = clientListeners(db(endpoint("db-v1", v1.inboundPort(), "v1"))
        .build());
    byte[] payload = new byte[8 * 1024 * 1024];
    ThreadLocalRandom.current().nextBytes(payload);

    Buffer received = Buffer.buffer(payload.length);
    Promise<Void> all = Promise.promise();
    NetSocket s = app.connect(localPort(listeners), "127.0.0.1").onSuccess(socket -> {
      socket.handler(b -> {
        received.appendBuffer(b);
        if (received.length() >= payload.length) {
          all.tryComplete();
        }
      });
      socket.closeHandler(v -> all.tryFail("closed after " + received.length() + " bytes"));
      socket.write(Buffer.buffer(payload));
    }).await();
    all.future().await();
    s.close().await();

    assertThat(received.getBytes()).isEqualTo(payload);
  }

  @Test
  void refusesATunnelToAPortThatIsNotATcpPortOfTheService() {
    Sidecar v1 = dbSidecar("v1", database("db-v1"));
    HttpClientAgent http = vertx.createHttpClient();

    int status = http.request(new RequestOptions().setMethod(HttpMethod.CONNECT)
            .setHost("127.0.0.1").setPort(v1.inboundPort()).setURI(host("db") + ":22"))
        .compose(r -> {
          r.exceptionHandler(t -> { });
          return r.connect();
        }).map(r -> r.statusCode()).await();

    assertThat(status).isEqualTo(403);
  }

  @Test
  void closesTheListenerWhenTheServiceNoLongerHasTheTcpPort() {
    Sidecar v1 = dbSidecar("v1", database("db-v1"));
    ServiceView withPort = db(endpoint("db-v1", v1.inboundPort(), "v1")).build();
    TcpListeners listeners = clientListeners(withPort);
    int port = localPort(listeners);

    ServiceView withoutPort = ServiceView.newBuilder(withPort).setVersion(2)
        .setPorts(List.of()).build();
    listeners.sync(ProxySnapshot.of(ViewTranslator.translate(withoutPort))).await();

    assertThat(listeners.ports()).isEmpty();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> app.connect(port, "127.0.0.1")
        .await()).hasMessageContaining("refused");
  }

  @Test
  void answersNoHealthyUpstreamByClosingTheConnection() {
    TcpListeners listeners = clientListeners(db().build());

    assertThat(exchange(localPort(listeners), "q")).isEqualTo("closed");
    AccessLogEntry e = await().atMost(Duration.ofSeconds(10)).until(() -> log.stream()
        .findFirst().orElse(null), java.util.Objects::nonNull);
    assertThat(e.flags()).containsExactly(ResponseFlag.UH);
  }
}
