package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.RetryPolicy;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.support.Views;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An h2c upstream (a port declared HTTP2) that sends GOAWAY: refusing a stream it has not
 * processed (the request is tried again on a new connection when the route retries resets,
 * else answered 503), or going away in the middle of a response (the caller's response is cut).
 */
class Http2GoAwayIT {

  private TestMesh mesh;
  private final AtomicInteger calls = new AtomicInteger();

  @BeforeEach
  void start() {
    mesh = new TestMesh();
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  private Sidecar sidecarTo(int app, RetryPolicy retries) {
    return mesh.clientSidecar(Views.oneApp("books", app, Protocol.HTTP2, retries));
  }


  /** The first request's connection is sent GOAWAY with no stream processed; later ones 200. */
  private int refusingFirst() {
    return mesh.backend((HttpServerRequest req) -> {
      assertThat(req.version()).isEqualTo(HttpVersion.HTTP_2);
      if (calls.incrementAndGet() == 1) {
        req.connection().goAway(0, 0);
        return;
      }
      req.response().end("ok");
    });
  }

  @Test
  void aStreamRefusedByGoAwayIsRetriedOnANewConnectionWhenTheRouteRetriesResets() {
    Sidecar s = sidecarTo(refusingFirst(), RetryPolicy.newBuilder().setAttempts(2)
        .setRetryOn(List.of("reset")).setBackoffBaseMillis(1).setBackoffMaxMillis(2).build());

    TestMesh.Response r = mesh.get(s.outboundPort(), "books:9080", "/", "x-request-id", "g1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("ok");
    assertThat(mesh.log.await("outbound", "g1").attempts()).isEqualTo(2);
  }

  @Test
  void aStreamRefusedByGoAwayWithRetriesOffIs503() {
    Sidecar s = sidecarTo(refusingFirst(), RetryPolicy.newBuilder().setAttempts(0).build());

    TestMesh.Response r = mesh.get(s.outboundPort(), "books:9080", "/", "x-request-id", "g2");

    // Envoy: nghttp2 closes such a stream as REFUSED_STREAM, a remote refused-stream reset (UR).
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).endsWith("remote refused stream reset");
    assertThat(mesh.log.await("outbound", "g2").flags()).containsExactly(ResponseFlag.UR);
    // the next request gets a new connection
    assertThat(mesh.get(s.outboundPort(), "books:9080", "/").status()).isEqualTo(200);
  }

  @Test
  void aGoAwayInTheMiddleOfAResponseCutsTheCallersResponse() throws Exception {
    int app = mesh.backend((HttpServerRequest req) -> {
      calls.incrementAndGet();
      // The head and a first piece out, then the connection goes away (INTERNAL_ERROR).
      req.response().setChunked(true).write("part").onComplete(ar -> {
        req.connection().goAway(2, (int) req.streamId());
        req.connection().close();
      });
    });
    Sidecar s = sidecarTo(app, null);

    String got = HostileClientIT.raw(s.outboundPort(), "GET / HTTP/1.1\r\nHost: books:9080\r\n"
        + "x-request-id: g3\r\n\r\n");

    AccessLogEntry e = mesh.log.await("outbound", "g3");
    assertThat(got).startsWith("HTTP/1.1 200").doesNotEndWith("0\r\n\r\n");
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.flags()).containsExactly(ResponseFlag.UC);
  }

  @Test
  void aGoAwayAfterTheHeadButBeforeAnyBodyReachedTheCallerIs503() throws Exception {
    int app = mesh.backend((HttpServerRequest req) -> {
      req.response().setChunked(true).write("part");
      req.connection().goAway(2, (int) req.streamId());
      req.connection().close();
    });
    Sidecar s = sidecarTo(app, null);

    String got = HostileClientIT.raw(s.outboundPort(), "GET / HTTP/1.1\r\nHost: books:9080\r\n"
        + "x-request-id: g4\r\nConnection: close\r\n\r\n");

    // Nothing had been written to the caller: a 503, not a connection closed without a word.
    assertThat(got).startsWith("HTTP/1.1 503").endsWith("connection termination");
    AccessLogEntry e = mesh.log.await("outbound", "g4");
    assertThat(e.status()).isEqualTo(503);
    assertThat(e.flags()).containsExactly(ResponseFlag.UC);
  }
}
