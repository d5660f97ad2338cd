package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.http.TestMesh.eventually;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.meshlog.events.discovery.ConnectionPool;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TrafficPolicy;
import dev.meshlog.proxy.Sidecar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DestinationRule connection-pool settings on the upstream pools, seen from the endpoint: how
 * many connections arrive and when they close.
 */
class UpstreamPoolIT {

  private TestMesh mesh;
  private final Set<Integer> connections = ConcurrentHashMap.newKeySet();
  private final Set<Integer> closed = ConcurrentHashMap.newKeySet();
  private int app;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    // The endpoint is the app itself (as for a ServiceEntry): it sees the pool's connections.
    app = mesh.backend(req -> {
      int port = req.remoteAddress().port();
      if (connections.add(port)) {
        req.connection().closeHandler(v -> closed.add(port));
      }
      req.response().end("ok");
    });
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  private ServiceView external(ConnectionPool pool) {
    return view("books").setEndpoints(List.of(Endpoint.newBuilder().setInstanceId("books-1")
            .setAddress("127.0.0.1").setPort(app).setHealth(EndpointHealth.HEALTHY).build()))
        .setTrafficPolicy(TrafficPolicy.newBuilder().setConnectionPool(pool).build()).build();
  }

  @Test
  void opensANewConnectionAfterMaxRequestsPerConnection() {
    Sidecar client = mesh.clientSidecar(external(ConnectionPool.newBuilder()
        .setMaxRequestsPerConnection(2).build()));

    for (int i = 0; i < 6; i++) {
      assertThat(mesh.get(client.outboundPort(), "books", "/").status()).isEqualTo(200);
    }

    assertThat(connections).hasSize(3);
    eventually(() -> assertThat(closed).hasSize(3));
  }

  @Test
  void reusesOneConnectionWithoutALimit() {
    Sidecar client = mesh.clientSidecar(external(ConnectionPool.newBuilder().build()));

    for (int i = 0; i < 6; i++) {
      mesh.get(client.outboundPort(), "books", "/");
    }

    assertThat(connections).hasSize(1);
  }

  @Test
  void closesAnUpstreamConnectionIdleForTheIdleTimeout() {
    Sidecar client = mesh.clientSidecar(external(ConnectionPool.newBuilder()
        .setIdleTimeoutMillis(1000L).build()));

    mesh.get(client.outboundPort(), "books", "/");

    // The shared pool would keep it for 60 s.
    eventually(() -> assertThat(closed).hasSize(1));
  }
}
