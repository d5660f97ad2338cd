package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.http.TestMesh.eventually;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.lb.Upstream;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/2 caller that cancels its stream (RST_STREAM) in the middle of a request body, on a
 * raw socket, through a client sidecar to an HTTP/1.1 endpoint (the own pool): the upstream
 * request is given up (its connection closed: HTTP/1.1 cannot cancel otherwise), nothing stays
 * counted as active, and the caller's connection serves its next stream.
 */
class Http2CancelIT {

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

  @Test
  void aCallersRstStreamMidBodyClosesTheUpstreamRequestAndLeavesNothingActive()
      throws Exception {
    upstream = new RawUpstream((c, i) -> {
      List<String> head = c.readHead();
      upstream.requests.add(head);
      if (i == 0) {
        c.awaitEof(); // the cancelled one: its body never ends
      } else {
        c.readBody(head);
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        c.awaitEof();
      }
    });
    Sidecar s = mesh.clientSidecar(view("books").setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("books-1").setAddress("127.0.0.1").setPort(upstream.port())
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setPorts(List.of(ServicePort.newBuilder().setName("web").setNumber(9080)
            .setProtocol(Protocol.HTTP).build()))
        .build());

    try (RawH2 h2 = new RawH2(s.outboundPort())) {
      h2.headers(1, new DefaultHttp2Headers().method("POST").scheme("http").path("/upload")
          .authority("books:9080").add("content-length", "100"), false);
      h2.frame(RawH2.DATA, 0, 1, "first ten.".getBytes(StandardCharsets.US_ASCII));
      eventually(() -> assertThat(upstream.requests).hasSize(1));

      h2.frame(RawH2.RST_STREAM, 0, 1, new byte[] {0, 0, 0, 8}); // CANCEL

      eventually(() -> assertThat(upstream.connections.get(0).sawEof).isTrue());
      assertThat(mesh.log.await(e -> "outbound".equals(e.direction())).flags())
          .containsExactly(ResponseFlag.DC);
      eventually(() -> {
        var cluster = s.holder().current().clusters().values().stream()
            .filter(c -> c.key().toString().contains("books")).findFirst().orElseThrow();
        assertThat(cluster.breaker().active()).isZero();
        assertThat(cluster.members()).allSatisfy((Upstream u) ->
            assertThat(u.stats().active()).isZero());
      });

      String next = h2.get(3, "books:9080", "x");
      assertThat(next).isEqualTo("200 ok");
    }
  }
}
