package dev.meshlog.proxy.tcp;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.GatewayServer;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TcpRoute;
import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.proxy.Gateway;
import dev.meshlog.proxy.ProxyTransport;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.admin.MeshMetrics;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ViewTranslator;
import dev.meshlog.proxy.http.AccessLog;
import dev.meshlog.proxy.http.GatewayBinding;
import dev.meshlog.proxy.http.ListenerLimits;
import dev.meshlog.proxy.http.ProxyRuntime;
import dev.meshlog.proxy.support.MutableClock;
import dev.meshlog.proxy.support.RefusingPort;
import dev.meshlog.proxy.support.Views;
import dev.meshlog.proxy.telemetry.EventSink;
import dev.meshlog.proxy.telemetry.RequestEvents;
import dev.meshlog.proxy.telemetry.TelemetryEmitter;
import dev.meshlog.schemas.Topics;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TCP connections as telemetry events, through two real proxies on loopback: the client's
 * sidecar reports each connection as its SOURCE, the database's sidecar (the tunnel's end) as
 * its DESTINATION, each to an in-memory sink through the proxy's own emitter, on a clock the
 * test moves.
 */
class TcpTelemetryIT {

  private static final int DB_PORT = 5432;
  private static final Duration REPORT_EVERY = Duration.ofSeconds(15);
  private static final ProxyIdentity PRODUCTPAGE =
      ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1");
  private static final ProxyIdentity GATEWAY =
      ProxyIdentity.of("bookinfo-gateway", "default", "", "zone-a", "c1");

  private final Vertx vertx = ProxyTransport.vertx(new VertxOptions().setEventLoopPoolSize(2),
      ProxyTransport.choose(ProxyTransport.Kind.parse(
          System.getProperty("meshlog.test.transport", "auto"))), Duration.ZERO);
  private final MutableClock clock = new MutableClock();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  /** What the client's sidecar emitted, and the database's. */
  private final Sink client = new Sink();
  private final Sink server = new Sink();
  private final MeshMetrics clientMetrics = new MeshMetrics(PRODUCTPAGE, "cluster.local");
  private NetClient app;
  /** The emitter {@link #runtime} made last. */
  private TelemetryEmitter lastEmitter;
  /** The database's sidecar's emitter, as {@link #dbSidecar} made it. */
  private TelemetryEmitter serverEmitter;

  /** Keeps the events of every record, acknowledged at once. */
  static final class Sink implements EventSink {
    final List<RequestEvent> events = new CopyOnWriteArrayList<>();
    final Set<String> keys = new CopyOnWriteArraySet<>();

    @Override
    public void send(byte[] key, byte[] value, Outcome outcome) {
      keys.add(new String(key, StandardCharsets.UTF_8));
      events.addAll(Topics.TELEMETRY_REQUESTS.deserializeValue(value).getEvents());
      outcome.completed(null);
    }

    @Override
    public void close(Duration timeout) {
    }

    /** Waits until there are {@code n} TCP reports; returns them. */
    List<RequestEvent> await(int n) {
      return org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(
          () -> events.stream().filter(e -> e.getTcp() != null).toList(), l -> l.size() >= n);
    }
  }

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

  private ProxyRuntime runtime(ProxyIdentity id, ProxySnapshot snapshot, Sink sink,
                               AccessLog... more) {
    TelemetryEmitter emitter = new TelemetryEmitter(new RequestEvents(id, "cluster.local"), sink,
        1_000, Duration.ofMillis(20), Duration.ofSeconds(2), REPORT_EVERY, clock);
    closeables.add(emitter);
    lastEmitter = emitter;
    List<AccessLog> logs = new ArrayList<>(List.of(more));
    logs.add(emitter);
    return new ProxyRuntime(vertx, Sidecar.newClient(vertx, 8),
        new SnapshotHolder(snapshot, id, clock), clock, ThreadLocalRandom::current,
        AccessLog.all(logs), ListenerLimits.DEFAULT, "cluster.local");
  }

  /** A database that answers every chunk with {@code name:} and the chunk. */
  private int database(String name) {
    return vertx.createNetServer().connectHandler(s -> s.handler(b ->
            s.write(Buffer.buffer(name + ":").appendBuffer(b))))
        .listen(0, "127.0.0.1").await().actualPort();
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

  /** The sidecar of db v1 whose database listens on {@code dbPort}. */
  private Sidecar dbSidecar(int dbPort) {
    ProxyIdentity id = ProxyIdentity.of("db", "default", "v1", "zone-b", "c1");
    Sidecar s = Sidecar.start(runtime(id, ProxySnapshot.empty(), server),
        new Sidecar.Ports("127.0.0.1", 0, "127.0.0.1", 0, "127.0.0.1", 1, List.of(
            new PortConfig("tcp-postgres", DB_PORT, PortConfig.Protocol.TCP, dbPort)))).await();
    serverEmitter = lastEmitter;
    closeables.add(() -> s.close().await());
    return s;
  }

  private static ServiceView db(int... ports) {
    List<Endpoint> endpoints = new ArrayList<>();
    for (int p : ports) {
      endpoints.add(Endpoint.newBuilder().setInstanceId("db-" + p).setAddress("127.0.0.1")
          .setPort(p).setLabels(Map.of("version", "v1")).setZone("zone-b").setCluster("c1")
          .setHealth(EndpointHealth.HEALTHY).build());
    }
    return view("db").setEndpoints(endpoints).setPorts(List.of(ServicePort.newBuilder()
        .setName("tcp-postgres").setNumber(DB_PORT).setProtocol(Protocol.TCP).build())).build();
  }

  /** The client's local port for db:5432. */
  private int clientPort(ServiceView db) {
    return clientSidecar(db).port();
  }

  /**
   * The client's sidecar as {@code ProxyMain} runs one: its HTTP listeners and its TCP
   * listeners on one runtime, with its emitter.
   */
  private record ClientSidecar(Sidecar sidecar, TcpListeners listeners,
                               TelemetryEmitter emitter) {

    int port() {
      return listeners.ports().get(new TcpTarget(host("db"), DB_PORT));
    }

    /** Stops it as {@code ProxyMain} does once its drain time is over. */
    void stop() {
      listeners.close();
      sidecar.close().await();
      emitter.close();
    }
  }

  private ClientSidecar clientSidecar(ServiceView db) {
    ProxyRuntime rt = runtime(PRODUCTPAGE, ProxySnapshot.of(List.of(
        ViewTranslator.translate(db))), client, clientMetrics);
    TelemetryEmitter emitter = lastEmitter;
    Sidecar sidecar = Sidecar.start(rt, Sidecar.Ports.loopback(0, 0, 1)).await();
    closeables.add(() -> sidecar.close().await());
    TcpListeners listeners = new TcpListeners(rt, "127.0.0.1", TcpListeners.ANY_PORT, l -> { });
    closeables.add(listeners);
    listeners.start().await();
    return new ClientSidecar(sidecar, listeners, emitter);
  }

  /** An open connection of the app, with what it has read so far. */
  private final class Connection {
    final StringBuffer read = new StringBuffer();
    final Promise<Void> closed = Promise.promise();
    final NetSocket socket;

    Connection(int port) {
      socket = app.connect(port, "127.0.0.1").onSuccess(s -> {
        s.handler(b -> read.append(b.toString()));
        s.closeHandler(v -> closed.tryComplete());
      }).await();
    }

    /** Sends {@code message}, waits until the answer's {@code answer} has been read. */
    void exchange(String message, String answer) {
      int before = read.length();
      socket.write(message).await();
      await().atMost(Duration.ofSeconds(10))
          .until(() -> read.length() - before >= answer.length());
      assertThat(read.substring(before)).isEqualTo(answer);
    }
  }

  @Test
  void aConnectionThroughTwoSidecarsIsReportedBySourceAndDestinationWithTheBytesOfEachWay() {
    Sidecar db = dbSidecar(database("db-v1"));
    Connection c = new Connection(clientPort(db(db.inboundPort())));
    c.exchange("SELECT 1", "db-v1:SELECT 1");
    c.socket.close().await();

    RequestEvent source = client.await(1).get(0);
    RequestEvent destination = server.await(1).get(0);
    assertThat(source.getReporter()).isEqualTo(Reporter.SOURCE);
    assertThat(destination.getReporter()).isEqualTo(Reporter.DESTINATION);
    for (RequestEvent e : List.of(source, destination)) {
      assertThat(e.getProtocol()).isEqualTo("tcp");
      assertThat(e.getRequestBytes()).as("bytes from the client").isEqualTo(8);
      assertThat(e.getResponseBytes()).as("bytes back to it").isEqualTo(14);
      assertThat(e.getResponseCode()).isZero();
      assertThat(e.getResponseFlags()).isEmpty();
      assertThat(e.getTcp().getOpened()).isTrue();
      assertThat(e.getTcp().getClosed()).isTrue();
      assertThat(e.getStartTime()).isEqualTo(clock.instant());
      // both sides name the same edge, with its workloads complete
      assertThat(e.getSource().getWorkload()).isEqualTo("productpage-v1");
      assertThat(e.getSource().getService()).isEqualTo("productpage");
      assertThat(e.getSource().getNamespace()).isEqualTo("default");
      assertThat(e.getSource().getZone()).isEqualTo("zone-a");
      assertThat(e.getDestination().getWorkload()).isEqualTo("db-v1");
      assertThat(e.getDestination().getService()).isEqualTo("db");
      assertThat(e.getDestination().getVersion()).isEqualTo("v1");
      assertThat(e.getDestination().getZone()).isEqualTo("zone-b");
      assertThat(e.getAuthority()).isEqualTo(host("db") + ":" + DB_PORT);
    }
    // the same bytes as the istio_tcp_* counters of the same side
    assertThat(clientMetrics.scrape())
        .containsPattern("istio_tcp_received_bytes_total\\{[^}]*} 8")
        .containsPattern("istio_tcp_sent_bytes_total\\{[^}]*} 14");
  }

  @Test
  void aLongConnectionIsReportedEveryIntervalWithDeltasThatSumToWhatPassed() {
    Sidecar db = dbSidecar(database("db"));
    Connection c = new Connection(clientPort(db(db.inboundPort())));
    c.exchange("a", "db:a");
    clock.advance(REPORT_EVERY);
    client.await(1);
    server.await(1);
    c.exchange("bbbb", "db:bbbb");
    c.exchange("cc", "db:cc");
    clock.advance(REPORT_EVERY);
    client.await(2);
    server.await(2);
    c.exchange("ddddddd", "db:ddddddd");
    c.socket.close().await();

    for (Sink side : List.of(client, server)) {
      List<RequestEvent> reports = side.await(3);
      assertThat(reports).hasSize(3);
      assertThat(reports).extracting(RequestEvent::getRequestBytes).containsExactly(1L, 6L, 7L);
      assertThat(reports).extracting(RequestEvent::getResponseBytes)
          .containsExactly(4L, 12L, 10L);
      assertThat(reports).extracting(e -> e.getTcp().getOpened())
          .containsExactly(true, false, false);
      assertThat(reports).extracting(e -> e.getTcp().getClosed())
          .containsExactly(false, false, true);
      assertThat(reports).extracting(RequestEvent::getDurationMicros)
          .startsWith(15_000_000L, 30_000_000L);
      assertThat(reports.get(2).getDurationMicros()).isGreaterThanOrEqualTo(30_000_000L);
      assertThat(reports).extracting(RequestEvent::getStartTime)
          .containsOnly(reports.get(0).getStartTime());
    }
  }

  @Test
  void aRefusedConnectIsOneReportWithUf() {
    Connection c = new Connection(clientPort(db(closedPort())));
    await().atMost(Duration.ofSeconds(10)).until(() -> c.closed.future().isComplete());

    RequestEvent e = client.await(1).get(0);
    assertThat(e.getResponseFlags()).containsExactly("UF");
    assertThat(e.getTcp().getOpened()).isTrue();
    assertThat(e.getTcp().getClosed()).isTrue();
    assertThat(e.getRetries()).isEqualTo(OutboundTcp.MAX_CONNECT_ATTEMPTS - 1);
    assertThat(e.getRequestBytes()).isZero();
    assertThat(e.getDestination().getService()).isEqualTo("db");
  }

  @Test
  void aDatabaseThatRefusesIsReportedWithUfByBothSidecars() {
    Sidecar db = dbSidecar(closedPort());
    Connection c = new Connection(clientPort(db(db.inboundPort())));
    await().atMost(Duration.ofSeconds(10)).until(() -> c.closed.future().isComplete());

    // the client's sidecar tried the tunnel three times, each refused by the database's sidecar
    RequestEvent source = client.await(1).get(0);
    assertThat(source.getResponseFlags()).containsExactly("UF");
    List<RequestEvent> destination = server.await(OutboundTcp.MAX_CONNECT_ATTEMPTS);
    assertThat(destination).allSatisfy(e -> {
      assertThat(e.getReporter()).isEqualTo(Reporter.DESTINATION);
      assertThat(e.getResponseFlags()).containsExactly("UF");
      assertThat(e.getSource().getWorkload()).isEqualTo("productpage-v1");
      assertThat(e.getTcp().getOpened()).isTrue();
      assertThat(e.getTcp().getClosed()).isTrue();
    });
  }

  @Test
  void aConnectionOpenWhenTheClientSidecarStopsIsReportedClosedWithTheBytesSinceItsLastReport() {
    Sidecar db = dbSidecar(database("db"));
    ClientSidecar sidecar = clientSidecar(db(db.inboundPort()));
    Connection c = new Connection(sidecar.port());
    c.exchange("a", "db:a");
    clock.advance(REPORT_EVERY);
    client.await(1);
    server.await(1);
    c.exchange("bbbb", "db:bbbb");

    sidecar.stop();

    // delivered by the stopping emitter's last flush: already in the sink
    List<RequestEvent> reports = client.events.stream().filter(e -> e.getTcp() != null).toList();
    assertThat(reports).extracting(RequestEvent::getRequestBytes).containsExactly(1L, 4L);
    assertThat(reports).extracting(RequestEvent::getResponseBytes).containsExactly(4L, 7L);
    assertThat(reports).extracting(e -> e.getTcp().getOpened()).containsExactly(true, false);
    assertThat(reports).extracting(e -> e.getTcp().getClosed()).containsExactly(false, true);
    assertThat(reports.get(1).getResponseFlags()).isEmpty();
    assertThat(reports.get(1).getReporter()).isEqualTo(Reporter.SOURCE);
    assertThat(reports.get(1).getDroppedBefore()).isZero();
    assertThat(sidecar.emitter().dropped()).isZero();
    assertThat(clientMetrics.scrape())
        .containsPattern("istio_tcp_connections_closed_total\\{[^}]*} 1");
    // the app saw its connection end, and the database's sidecar the tunnel
    await().atMost(Duration.ofSeconds(10)).until(() -> c.closed.future().isComplete());
    List<RequestEvent> destination = server.await(2);
    closedAfter(destination, List.of(1L, 4L), List.of(4L, 7L));
  }

  @Test
  void aConnectionOpenWhenTheDatabaseSidecarStopsIsReportedClosedByBothSidecars() {
    Sidecar db = dbSidecar(database("db"));
    TelemetryEmitter dbEmitter = serverEmitter;
    Connection c = new Connection(clientPort(db(db.inboundPort())));
    c.exchange("a", "db:a");
    clock.advance(REPORT_EVERY);
    client.await(1);
    server.await(1);
    c.exchange("cc", "db:cc");

    db.close().await();
    dbEmitter.close();

    List<RequestEvent> reports = server.events.stream().filter(e -> e.getTcp() != null).toList();
    assertThat(reports).extracting(RequestEvent::getReporter).containsOnly(Reporter.DESTINATION);
    closedAfter(reports, List.of(1L, 2L), List.of(4L, 5L));
    assertThat(reports.get(1).getSource().getWorkload()).isEqualTo("productpage-v1");
    assertThat(dbEmitter.dropped()).isZero();
    await().atMost(Duration.ofSeconds(10)).until(() -> c.closed.future().isComplete());
    List<RequestEvent> source = client.await(2);
    closedAfter(source, List.of(1L, 2L), List.of(4L, 5L));
  }

  @Test
  void aStoppedSidecarWithNoOpenConnectionStopsAtOnce() {
    ClientSidecar sidecar = clientSidecar(db(closedPort()));

    sidecar.stop();

    assertThat(client.events).isEmpty();
    assertThat(sidecar.emitter().dropped()).isZero();
  }

  @Test
  void endingTheConnectionsGivesUpAfterItsBoundWhenTheEventLoopsAreStuck() throws Exception {
    Sidecar db = dbSidecar(database("db"));
    ClientSidecar sidecar = clientSidecar(db(db.inboundPort()));
    Connection c = new Connection(sidecar.port());
    c.exchange("a", "db:a");
    TcpConnections connections = sidecar.sidecar().runtime().tcpConnections();
    assertThat(connections.open()).isEqualTo(1);
    List<io.netty.util.concurrent.EventExecutor> loops = new ArrayList<>();
    ((io.vertx.core.internal.VertxInternal) vertx).nettyEventLoopGroup().forEach(loops::add);
    CountDownLatch stuck = new CountDownLatch(1);
    CountDownLatch allStuck = new CountDownLatch(loops.size());
    loops.forEach(loop -> loop.execute(() -> {
      allStuck.countDown();
      try {
        stuck.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    try {
      assertThat(allStuck.await(10, TimeUnit.SECONDS)).isTrue();

      // completes although no event loop could close anything
      connections.endAll(Duration.ofMillis(200)).toCompletionStage().toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      assertThat(connections.open()).isEqualTo(1);
    } finally {
      stuck.countDown();
    }
    // the close it asked for runs once the loop is free
    await().atMost(Duration.ofSeconds(10)).until(() -> connections.open() == 0);
    assertThat(client.await(1)).singleElement().satisfies(e -> {
      assertThat(e.getTcp().getClosed()).isTrue();
      assertThat(e.getRequestBytes()).isEqualTo(1);
    });
  }

  @Test
  void aConnectionThatOpensAfterItsSidecarBeganClosingIsClosedAndReportedAsItStarts() {
    // an endpoint that holds the tunnel's CONNECT unanswered until the test answers it
    Promise<NetSocket> held = Promise.promise();
    int endpoint = vertx.createNetServer().connectHandler(s -> s.handler(b -> held.tryComplete(s)))
        .listen(0, "127.0.0.1").await().actualPort();
    ClientSidecar sidecar = clientSidecar(db(endpoint));
    Connection c = new Connection(sidecar.port());
    NetSocket tunnel = held.future().await();
    TcpConnections connections = sidecar.sidecar().runtime().tcpConnections();
    connections.endAll().await();

    tunnel.write("HTTP/1.1 200 OK\r\n\r\n").await();

    await().atMost(Duration.ofSeconds(10)).until(() -> c.closed.future().isComplete());
    assertThat(client.await(1)).singleElement().satisfies(e -> {
      assertThat(e.getTcp().getOpened()).isTrue();
      assertThat(e.getTcp().getClosed()).isTrue();
      assertThat(e.getResponseFlags()).isEmpty();
      assertThat(e.getRequestBytes()).isZero();
    });
    assertThat(connections.open()).isZero();
  }

  /** The ingress gateway {@code default/bookinfo-gateway} with a TCP server on 31400 to db. */
  private Gateway gateway(ServiceView db, Sink sink, MeshMetrics metrics) {
    ServiceView gatewayView = ServiceView.newBuilder()
        .setHost("gateway.bookinfo-gateway.default").setService("bookinfo-gateway")
        .setNamespace("default").setVersion(1).setGeneratedAt(Views.T0)
        .setGatewayServers(List.of(GatewayServer.newBuilder().setName("tcp").setPort(31400)
            .setProtocol(Protocol.TCP).setHosts(List.of("*")).build()))
        .setTcpRoutes(List.of(TcpRoute.newBuilder().setPorts(List.of(31400))
            .setDestinations(List.of(Views.to("db", null, 100))).build()))
        .build();
    ProxyRuntime rt = runtime(GATEWAY, ProxySnapshot.of(List.of(ViewTranslator.translate(db),
        ViewTranslator.translate(gatewayView))), sink, metrics);
    Gateway gw = Gateway.start(rt, new GatewayBinding("bookinfo-gateway", "default"),
        "127.0.0.1", 0).await();
    closeables.add(() -> gw.close().await());
    return gw;
  }

  @Test
  void aConnectionThroughAGatewaysTcpServerIsReportedByTheGatewayAndTheDestinationsSidecar() {
    Sidecar db = dbSidecar(database("db-v1"));
    Sink gatewaySink = new Sink();
    MeshMetrics gatewayMetrics = new MeshMetrics(GATEWAY, "cluster.local");
    Gateway gw = gateway(db(db.inboundPort()), gatewaySink, gatewayMetrics);
    Connection c = new Connection(gw.serverPorts().get(31400));
    c.exchange("SELECT 1", "db-v1:SELECT 1");
    clock.advance(REPORT_EVERY);
    gatewaySink.await(1);
    server.await(1);
    c.exchange("SELECT 22", "db-v1:SELECT 22");
    c.socket.close().await();

    List<RequestEvent> atGateway = gatewaySink.await(2);
    List<RequestEvent> atDestination = server.await(2);
    assertThat(atGateway).extracting(RequestEvent::getReporter).containsOnly(Reporter.GATEWAY);
    assertThat(atDestination).extracting(RequestEvent::getReporter)
        .containsOnly(Reporter.DESTINATION);
    // the connection's authority: the gateway's own host and server port, then the tunnel's
    assertThat(atGateway).extracting(RequestEvent::getAuthority)
        .containsOnly("gateway.bookinfo-gateway.default:31400");
    assertThat(atDestination).extracting(RequestEvent::getAuthority)
        .containsOnly(host("db") + ":" + DB_PORT);
    for (List<RequestEvent> side : List.of(atGateway, atDestination)) {
      assertThat(side).hasSize(2);
      assertThat(side).extracting(RequestEvent::getRequestBytes).containsExactly(8L, 9L);
      assertThat(side).extracting(RequestEvent::getResponseBytes).containsExactly(14L, 15L);
      assertThat(side).extracting(e -> e.getTcp().getOpened()).containsExactly(true, false);
      assertThat(side).extracting(e -> e.getTcp().getClosed()).containsExactly(false, true);
      assertThat(side).allSatisfy(e -> {
        assertThat(e.getProtocol()).isEqualTo("tcp");
        assertThat(e.getResponseFlags()).isEmpty();
        assertThat(e.getResponseCode()).isZero();
        // both sides name the same edge: from the gateway's workload to the database's
        assertThat(e.getSource().getWorkload()).isEqualTo("bookinfo-gateway");
        assertThat(e.getSource().getService()).isEqualTo("bookinfo-gateway");
        assertThat(e.getSource().getNamespace()).isEqualTo("default");
        assertThat(e.getSource().getZone()).isEqualTo("zone-a");
        assertThat(e.getDestination().getWorkload()).isEqualTo("db-v1");
        assertThat(e.getDestination().getService()).isEqualTo("db");
        assertThat(e.getDestination().getVersion()).isEqualTo("v1");
        assertThat(e.getDestination().getZone()).isEqualTo("zone-b");
      });
    }
    assertThat(gatewaySink.keys).containsExactly("default/bookinfo-gateway->default/db");
    assertThat(server.keys).containsExactly("default/bookinfo-gateway->default/db");
    assertThat(gatewayMetrics.scrape())
        .containsPattern("istio_tcp_received_bytes_total\\{[^}]*} 17")
        .containsPattern("istio_tcp_sent_bytes_total\\{[^}]*} 29")
        .containsPattern("istio_tcp_connections_closed_total\\{[^}]*} 1");
  }

  @Test
  void aConnectionOpenWhenTheGatewayStopsIsReportedClosedByTheGateway() {
    Sidecar db = dbSidecar(database("db"));
    Sink gatewaySink = new Sink();
    Gateway gw = gateway(db(db.inboundPort()), gatewaySink,
        new MeshMetrics(GATEWAY, "cluster.local"));
    TelemetryEmitter gatewayEmitter = lastEmitter;
    Connection c = new Connection(gw.serverPorts().get(31400));
    c.exchange("a", "db:a");

    gw.close().await();
    gatewayEmitter.close();

    List<RequestEvent> reports = gatewaySink.events.stream().filter(e -> e.getTcp() != null)
        .toList();
    assertThat(reports).singleElement().satisfies(e -> {
      assertThat(e.getReporter()).isEqualTo(Reporter.GATEWAY);
      assertThat(e.getRequestBytes()).isEqualTo(1);
      assertThat(e.getResponseBytes()).isEqualTo(4);
      assertThat(e.getTcp().getOpened()).isTrue();
      assertThat(e.getTcp().getClosed()).isTrue();
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> c.closed.future().isComplete());
    assertThat(server.await(1)).singleElement()
        .satisfies(e -> assertThat(e.getTcp().getClosed()).isTrue());
  }

  /**
   * {@code reports} are one connection's, in order: their bytes each way since the previous
   * report, the last one closing it and no other.
   */
  private static void closedAfter(List<RequestEvent> reports, List<Long> requestBytes,
                                  List<Long> responseBytes) {
    assertThat(reports).extracting(RequestEvent::getRequestBytes)
        .containsExactlyElementsOf(requestBytes);
    assertThat(reports).extracting(RequestEvent::getResponseBytes)
        .containsExactlyElementsOf(responseBytes);
    assertThat(reports).extracting(e -> e.getTcp().getClosed())
        .containsExactlyElementsOf(java.util.stream.IntStream.range(0, reports.size())
            .mapToObj(i -> i == reports.size() - 1).toList());
  }
}
