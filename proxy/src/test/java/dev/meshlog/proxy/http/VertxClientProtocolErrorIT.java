package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.proxy.Sidecar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/1.1 upstream whose answer is not valid HTTP, on Vert.x's client path
 * ({@code -Dmeshlog.upstream.client=vertx}, not the default): the caller gets Envoy's 502
 * "protocol error" with flag UPE, as on the own pool, and a plain close stays 503 UC.
 */
class VertxClientProtocolErrorIT {

  private static final String CLIENT = "meshlog.upstream.client";

  private TestMesh mesh;
  private RawUpstream upstream;
  private String before;

  @BeforeEach
  void start() {
    before = System.getProperty(CLIENT);
    System.setProperty(CLIENT, "vertx");
    mesh = new TestMesh();
  }

  @AfterEach
  void stop() throws IOException {
    mesh.close();
    if (upstream != null) {
      upstream.close();
    }
    if (before == null) {
      System.clearProperty(CLIENT);
    } else {
      System.setProperty(CLIENT, before);
    }
  }

  private Sidecar sidecarTo(RawUpstream.Script script) throws IOException {
    upstream = new RawUpstream(script);
    Sidecar s = mesh.clientSidecar(view("books").setEndpoints(List.of(Endpoint.newBuilder()
        .setInstanceId("books-1").setAddress("127.0.0.1").setPort(upstream.port())
        .setHealth(EndpointHealth.HEALTHY).build())).build());
    assertThat(s.runtime().upstreams().kind()).isEqualTo(UpstreamClients.Kind.VERTX);
    return s;
  }

  private TestMesh.Response get(Sidecar s, String requestId) {
    return mesh.get(s.outboundPort(), "books:9080", "/", "x-request-id", requestId);
  }

  @Test
  void anAnswerThatIsNotHttpIs502WithUpe() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("SSH-2.0-OpenSSH_9.6\r\n\r\n");
      c.awaitEof();
    });

    TestMesh.Response r = get(s, "vx-ssh");

    assertThat(r.status()).isEqualTo(502);
    assertThat(r.body()).isEqualTo(ProxyExchange.RESET_BEFORE_HEADERS + "protocol error");
    assertThat(mesh.log.await("outbound", "vx-ssh").flags()).containsExactly(ResponseFlag.UPE);
  }

  @Test
  void aMalformedChunkAfterTheHeadIs502WithUpe() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      c.write("zz\r\nhello\r\n0\r\n\r\n");
      c.awaitEof();
    });

    TestMesh.Response r = get(s, "vx-chunk");

    assertThat(r.status()).isEqualTo(502);
    assertThat(mesh.log.await("outbound", "vx-chunk").flags()).containsExactly(ResponseFlag.UPE);
  }

  @Test
  void aResponseWithBothContentLengthAndTransferEncodingIs502WithUpe() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n0\r\n\r\n");
      c.awaitEof();
    });

    TestMesh.Response r = get(s, "vx-smuggle");

    assertThat(r.status()).isEqualTo(502);
    assertThat(r.body()).doesNotContain("hello")
        .isEqualTo(ProxyExchange.RESET_BEFORE_HEADERS + "protocol error");
    assertThat(mesh.log.await("outbound", "vx-smuggle").flags())
        .containsExactly(ResponseFlag.UPE);
  }

  @Test
  void aResponseWithTwoContentLengthsIs502WithUpe() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nhello");
      c.awaitEof();
    });

    TestMesh.Response r = get(s, "vx-two-lengths");

    assertThat(r.status()).isEqualTo(502);
    assertThat(mesh.log.await("outbound", "vx-two-lengths").flags())
        .containsExactly(ResponseFlag.UPE);
  }

  @Test
  void aCloseBeforeTheAnswerStays503WithUc() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.close();
    });

    TestMesh.Response r = get(s, "vx-close");

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).isEqualTo(ProxyExchange.RESET_BEFORE_HEADERS + "connection termination");
    assertThat(mesh.log.await("outbound", "vx-close").flags()).containsExactly(ResponseFlag.UC);
  }
}
