package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.http.TestMesh.eventually;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.meshlog.events.discovery.Destination;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.RouteDestination;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.support.RefusingPort;
import dev.meshlog.proxy.support.Views;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A WebSocket upgrade from a raw-socket caller through a client sidecar to an endpoint that
 * misbehaves before its {@code 101}: unreachable, closing, answering something that is not HTTP,
 * never answering; and a caller that leaves before the answer. Each gets Envoy's answer, and no
 * socket is left to the idle timeout.
 */
class WebSocketUpstreamIT {

  private static final String UPGRADE = "GET /ws HTTP/1.1\r\nHost: books\r\n"
      + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

  private TestMesh mesh;
  private RawUpstream upstream;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
  }

  @AfterEach
  void stop() throws IOException {
    mesh.close();
    if (upstream != null) {
      upstream.close();
      assertThat(upstream.failures).isEmpty();
    }
  }

  private static ServiceView.Builder books(int port) {
    return view("books").setEndpoints(List.of(Endpoint.newBuilder().setInstanceId("books-1")
        .setAddress("127.0.0.1").setPort(port).setHealth(EndpointHealth.HEALTHY).build()));
  }

  /** A client sidecar to {@code port}, its one route with {@code timeoutMillis} (0: none). */
  private Sidecar sidecarTo(int port, long timeoutMillis) {
    ServiceView.Builder v = books(port);
    if (timeoutMillis > 0) {
      v.setHttpRoutes(List.of(HttpRoute.newBuilder().setName("ws").setTimeoutMillis(timeoutMillis)
          .setDestinations(List.of(RouteDestination.newBuilder().setWeight(100)
              .setDestination(Destination.newBuilder().setHost(Views.host("books")).build())
              .build())).build()));
    }
    return mesh.clientSidecar(v.build());
  }

  /** Sends a WebSocket upgrade for {@code books} on a new connection and returns the response head. */
  static String upgrade(int port) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(UPGRADE.getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) >= 0) {
        got.write(b);
        if (got.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
          break;
        }
      }
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void anUnreachableEndpointIs503Uf() throws IOException {
    // Held, not closed: a just-closed port could become the sidecar's own outbound listener.
    try (RefusingPort refusing = new RefusingPort()) {
      Sidecar s = sidecarTo(refusing.port(), 0);
      assertThat(refusing.port()).isNotIn(s.outboundPort(), s.inboundPort());

      assertThat(upgrade(s.outboundPort())).startsWith("HTTP/1.1 503");
      assertThat(mesh.log.await(e -> "outbound".equals(e.direction())).flags())
          .containsExactly(ResponseFlag.UF);
    }
  }

  @Test
  void anEndpointThatClosesBeforeAnsweringIs503Uc() throws IOException {
    upstream = new RawUpstream((c, i) -> upstream.nextRequest(c));
    Sidecar s = sidecarTo(upstream.port(), 0);

    assertThat(upgrade(s.outboundPort())).startsWith("HTTP/1.1 503");
    assertThat(mesh.log.await(e -> "outbound".equals(e.direction())).flags())
        .containsExactly(ResponseFlag.UC);
  }

  @Test
  void anAnswerThatIsNotHttpIs502Upe() throws IOException {
    upstream = new RawUpstream((c, i) -> {
      upstream.nextRequest(c);
      c.write("SSH-2.0-OpenSSH_9.6\r\n\r\n");
      c.awaitEof();
    });
    Sidecar s = sidecarTo(upstream.port(), 0);

    assertThat(upgrade(s.outboundPort())).startsWith("HTTP/1.1 502");
    assertThat(mesh.log.await(e -> "outbound".equals(e.direction())).flags())
        .containsExactly(ResponseFlag.UPE);
    eventually(() -> assertThat(upstream.connections.get(0).sawEof).isTrue());
  }

  @Test
  void theRouteTimeoutBoundsTheWaitForThe101() throws IOException {
    upstream = new RawUpstream((c, i) -> {
      upstream.nextRequest(c);
      c.awaitEof();
    });
    Sidecar s = sidecarTo(upstream.port(), 200);

    assertThat(upgrade(s.outboundPort())).startsWith("HTTP/1.1 504");
    assertThat(mesh.log.await(e -> "outbound".equals(e.direction())).flags())
        .containsExactly(ResponseFlag.UT);
    eventually(() -> assertThat(upstream.connections.get(0).sawEof).isTrue());
  }

  @Test
  void aCallerThatLeavesBeforeThe101ClosesTheAttempt() throws IOException {
    upstream = new RawUpstream((c, i) -> {
      upstream.nextRequest(c);
      c.awaitEof();
    });
    Sidecar s = sidecarTo(upstream.port(), 0);

    try (Socket caller = new Socket(InetAddress.getLoopbackAddress(), s.outboundPort())) {
      caller.getOutputStream().write(UPGRADE.getBytes(StandardCharsets.ISO_8859_1));
      eventually(() -> assertThat(upstream.requests).hasSize(1));
    }

    // Not the listeners' idle timeout (5 min): the attempt goes with its caller.
    eventually(() -> assertThat(upstream.connections.get(0).sawEof).isTrue());
    assertThat(mesh.log.await(e -> "outbound".equals(e.direction())).flags())
        .containsExactly(ResponseFlag.DC);
  }
}
