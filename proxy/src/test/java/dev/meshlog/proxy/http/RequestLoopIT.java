package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;

import dev.meshlog.events.discovery.Destination;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.RetryPolicy;
import dev.meshlog.events.discovery.RouteDestination;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.admin.ConfigDump;
import dev.meshlog.proxy.config.ViewTranslator;
import dev.meshlog.proxy.support.Views;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An endpoint that is the sidecar's own outbound listener (a ServiceEntry or registration naming
 * 127.0.0.1:15001, or a test's "closed" port the kernel handed to the sidecar): a request loop.
 * Every route here has a short timeout and no retries, so that if the loop is not caught the
 * test ends with the route timeout rather than with the JVM's file descriptors.
 */
class RequestLoopIT {

  private TestMesh mesh;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  /** books with {@code endpoints}, one route with a 1 s timeout and no retries. */
  private static ServiceView books(Endpoint... endpoints) {
    return view("books").setEndpoints(List.of(endpoints))
        .setHttpRoutes(List.of(HttpRoute.newBuilder().setName("r").setTimeoutMillis(1_000L)
            .setRetries(RetryPolicy.newBuilder().setAttempts(0).setRetryOn(List.of()).build())
            .setDestinations(List.of(RouteDestination.newBuilder().setWeight(100)
                .setDestination(Destination.newBuilder().setHost(Views.host("books")).build())
                .build())).build()))
        .build();
  }

  private static Endpoint at(String address, int port) {
    return Endpoint.newBuilder().setInstanceId("books-" + port).setAddress(address).setPort(port)
        .setHealth(EndpointHealth.HEALTHY).build();
  }

  private static long openFiles() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  @Test
  void anEndpointThatIsTheOutboundListenerItselfIs503Uh() throws IOException {
    Sidecar s = mesh.clientSidecar(books(at("127.0.0.1", mesh.namedBackend("books"))));
    assertThat(mesh.get(s.outboundPort(), "books", "/").status()).isEqualTo(200);
    long before = openFiles();
    s.holder().apply(s.holder().snapshot()
        .with(ViewTranslator.translate(books(at("127.0.0.1", s.outboundPort())))));

    TestMesh.Response r = mesh.get(s.outboundPort(), "books", "/");

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("no healthy upstream");
    assertThat(mesh.log.await(e -> "outbound".equals(e.direction()) && e.status() == 503)
        .flags()).containsExactly(ResponseFlag.UH);
    // One request in, one answered: nothing went round.
    assertThat(mesh.log.count(e -> "outbound".equals(e.direction()))).isEqualTo(2);
    assertThat(openFiles()).isLessThan(before + 20);
    assertThat(s.holder().current().loops()).singleElement().satisfies(l -> {
      assertThat(l.host()).isEqualTo(Views.host("books"));
      assertThat(l.endpoint().hostPort()).isEqualTo("127.0.0.1:" + s.outboundPort());
      assertThat(l.listener().name()).isEqualTo("outbound");
    });
    assertThat(s.holder().loopsLeftOut()).isEqualTo(1);
  }

  @Test
  void theAdminPagesSayWhyTheEndpointIsLeftOut() {
    Sidecar s = mesh.clientSidecar(books(at("127.0.0.1", 1)));
    s.holder().apply(s.holder().snapshot()
        .with(ViewTranslator.translate(books(at("127.0.0.1", s.outboundPort())))));
    String reason = "request loop: this proxy's outbound 127.0.0.1:" + s.outboundPort()
        + " listener";

    JsonObject cluster = ConfigDump.clusters(s.holder().current(), Clock.systemUTC())
        .getJsonArray("clusters").getJsonObject(0);
    assertThat(cluster.getJsonArray("endpoints")).isEmpty();
    assertThat(cluster.getJsonArray("leftOut").getJsonObject(0).getMap()).containsEntry(
        "address", "127.0.0.1:" + s.outboundPort()).containsEntry("reason", reason);
    assertThat(ConfigDump.config(s.holder().current()).getJsonObject("services")
        .getJsonObject(Views.host("books")).getJsonArray("endpoints").getJsonObject(0)
        .getString("leftOut")).isEqualTo(reason);
  }

  @Test
  void theLoopIsLeftOutAndTheRestOfTheHostServed() {
    int app = mesh.namedBackend("books");
    Sidecar s = mesh.clientSidecar(books(at("127.0.0.1", app)));
    s.holder().apply(s.holder().snapshot().with(ViewTranslator.translate(
        books(at("127.0.0.1", s.outboundPort()), at("127.0.0.1", app)))));

    for (int i = 0; i < 4; i++) {
      assertThat(mesh.get(s.outboundPort(), "books", "/").body()).isEqualTo("books");
    }
    assertThat(s.holder().current().clusters().values()).singleElement().satisfies(c -> {
      assertThat(c.members()).extracting(u -> u.endpoint().port()).containsExactly(app);
      assertThat(c.loops()).extracting(l -> l.endpoint().port())
          .containsExactly(s.outboundPort());
    });
  }

  @Test
  void theInboundListenerIsNotALoop() {
    Sidecar s = mesh.clientSidecar(books(at("127.0.0.1", 1)));
    s.holder().apply(s.holder().snapshot()
        .with(ViewTranslator.translate(books(at("127.0.0.1", s.inboundPort())))));

    assertThat(s.holder().current().loops()).isEmpty();
    assertThat(s.holder().current().clusters().values()).singleElement()
        .satisfies(c -> assertThat(c.members()).hasSize(1));
  }

  @Test
  void aLoopInTheFirstSnapshotIsFoundOnceTheListenerIsBound() {
    Sidecar first = mesh.clientSidecar(books(at("127.0.0.1", 1)));
    int port = first.outboundPort();
    first.close().await();
    // The port is free again; a sidecar asked for it gets it and must find its own view naming it.
    Sidecar s = mesh.clientSidecarOn(port, books(at("127.0.0.1", port)));

    assertThat(s.holder().current().loops()).extracting(l -> l.endpoint().port())
        .containsExactly(port);
    assertThat(mesh.get(s.outboundPort(), "books", "/").status()).isEqualTo(503);
  }

  @Test
  void aWebSocketUpgradeToTheOutboundListenerItselfIs503Uh() throws IOException {
    Sidecar s = mesh.clientSidecar(books(at("127.0.0.1", 1)));
    s.holder().apply(s.holder().snapshot()
        .with(ViewTranslator.translate(books(at("127.0.0.1", s.outboundPort())))));
    long before = openFiles();

    assertThat(WebSocketUpstreamIT.upgrade(s.outboundPort())).startsWith("HTTP/1.1 503");
    assertThat(mesh.log.await(e -> "outbound".equals(e.direction())).flags())
        .containsExactly(ResponseFlag.UH);
    assertThat(openFiles()).isLessThan(before + 20);
  }
}
