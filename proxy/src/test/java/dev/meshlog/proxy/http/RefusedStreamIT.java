package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.RetryPolicy;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.support.Views;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which upstream resets Istio's default retry policy (connect-failure, refused-stream, unavailable,
 * cancelled, retriable-status-codes) retries, through a real proxy: only a stream the upstream
 * says it did not process (HTTP/2 RST_STREAM REFUSED_STREAM, or a stream above a GOAWAY's last
 * stream id), as Envoy's {@code refused-stream}; any other reset only when {@code reset} is
 * listed, since the app may already have acted on the request.
 */
class RefusedStreamIT {

  /** HTTP/2 error codes (RFC 9113 section 7). */
  private static final long INTERNAL_ERROR = 0x2;
  private static final long REFUSED_STREAM = 0x7;

  private TestMesh mesh;
  private final AtomicInteger calls = new AtomicInteger();
  /** The attempt count the app saw on the try it answered. */
  private final AtomicReference<String> attemptCount = new AtomicReference<>();

  @BeforeEach
  void start() {
    mesh = new TestMesh();
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  /** Istio's default: two attempts, no retryOn of its own. */
  private static RetryPolicy istioDefault() {
    return RetryPolicy.newBuilder().setAttempts(2).setBackoffBaseMillis(1)
        .setBackoffMaxMillis(2).build();
  }

  /** {@code retries: {attempts: 0}}: Istio's way to turn its default policy off. */
  private static RetryPolicy none() {
    return RetryPolicy.newBuilder().setAttempts(0).build();
  }

  private static RetryPolicy on(String... conditions) {
    return RetryPolicy.newBuilder().setAttempts(2).setRetryOn(List.of(conditions))
        .setBackoffBaseMillis(1).setBackoffMaxMillis(2).build();
  }

  private Sidecar sidecarTo(int app, Protocol protocol, RetryPolicy retries) {
    return mesh.clientSidecar(Views.oneApp("books", app, protocol, retries));
  }


  /** An h2c app that resets its first stream with {@code code} and answers the others. */
  private int resettingFirst(long code) {
    return mesh.backend((HttpServerRequest req) -> {
      if (calls.incrementAndGet() == 1) {
        req.response().reset(code);
        return;
      }
      attemptCount.set(req.getHeader("x-envoy-attempt-count"));
      req.body().onSuccess(b -> req.response().end("ok " + b));
    });
  }

  private TestMesh.Response post(Sidecar s, String requestId) {
    return mesh.send(s.outboundPort(), HttpMethod.POST, "books:9080", "/orders",
        Buffer.buffer("order"), "x-request-id", requestId);
  }

  @Test
  void aRefusedStreamIsRetriedUnderIstiosDefaultPolicy() {
    Sidecar s = sidecarTo(resettingFirst(REFUSED_STREAM), Protocol.HTTP2, istioDefault());

    TestMesh.Response r = post(s, "rs1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("ok order");
    AccessLogEntry e = mesh.log.await("outbound", "rs1");
    assertThat(e.attempts()).isEqualTo(2);
    assertThat(e.flags()).isEmpty();
    assertThat(calls).hasValue(2);
    assertThat(attemptCount).hasValue("2");
  }

  @Test
  void aRouteWithoutRetriesGetsIstiosDefaultPolicy() {
    Sidecar s = sidecarTo(resettingFirst(REFUSED_STREAM), Protocol.HTTP2, null);

    TestMesh.Response r = post(s, "rs0");

    assertThat(r.status()).isEqualTo(200);
    assertThat(mesh.log.await("outbound", "rs0").attempts()).isEqualTo(2);
    assertThat(calls).hasValue(2);
  }

  @Test
  void aStreamAboveAGoAwaysLastStreamIdIsRetriedUnderIstiosDefaultPolicy() {
    int app = mesh.backend((HttpServerRequest req) -> {
      if (calls.incrementAndGet() == 1) {
        req.connection().goAway(0, 0);
        return;
      }
      req.body().onSuccess(b -> req.response().end("ok " + b));
    });
    Sidecar s = sidecarTo(app, Protocol.HTTP2, istioDefault());

    TestMesh.Response r = post(s, "rs2");

    assertThat(r.status()).isEqualTo(200);
    assertThat(mesh.log.await("outbound", "rs2").attempts()).isEqualTo(2);
  }

  @Test
  void aRefusedStreamWithRetriesOffIs503WithTheRemoteResetFlag() {
    Sidecar s = sidecarTo(resettingFirst(REFUSED_STREAM), Protocol.HTTP2, none());

    TestMesh.Response r = post(s, "rs3");

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).isEqualTo(ProxyExchange.RESET_BEFORE_HEADERS
        + "remote refused stream reset");
    assertThat(mesh.log.await("outbound", "rs3").flags()).containsExactly(ResponseFlag.UR);
  }

  @Test
  void aPlainResetIsNotRetriedUnderIstiosDefaultPolicy() {
    Sidecar s = sidecarTo(resettingFirst(INTERNAL_ERROR), Protocol.HTTP2, istioDefault());

    TestMesh.Response r = post(s, "rs4");

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).isEqualTo(ProxyExchange.RESET_BEFORE_HEADERS + "remote reset");
    AccessLogEntry e = mesh.log.await("outbound", "rs4");
    assertThat(e.attempts()).isEqualTo(1);
    assertThat(e.flags()).containsExactly(ResponseFlag.UR);
    assertThat(calls).hasValue(1);
  }

  @Test
  void aPlainResetIsRetriedWhenTheRouteListsReset() {
    Sidecar s = sidecarTo(resettingFirst(INTERNAL_ERROR), Protocol.HTTP2, on("reset"));

    TestMesh.Response r = post(s, "rs5");

    assertThat(r.status()).isEqualTo(200);
    assertThat(mesh.log.await("outbound", "rs5").attempts()).isEqualTo(2);
  }

  @Test
  void anHttp1UpstreamClosingBeforeItsResponseIsNotRetriedUnderIstiosDefaultPolicy()
      throws Exception {
    try (RawUpstream app = new RawUpstream((c, i) -> {
      if (app(c) && i == 0) {
        c.close();
        return;
      }
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      c.awaitEof();
    })) {
      Sidecar s = sidecarTo(app.port(), Protocol.HTTP, istioDefault());

      TestMesh.Response r = post(s, "rs6");

      assertThat(r.status()).isEqualTo(503);
      assertThat(r.body()).isEqualTo(ProxyExchange.RESET_BEFORE_HEADERS
          + "connection termination");
      AccessLogEntry e = mesh.log.await("outbound", "rs6");
      assertThat(e.attempts()).isEqualTo(1);
      assertThat(e.flags()).containsExactly(ResponseFlag.UC);
      assertThat(app.accepted).hasValue(1);
    }
  }

  /** Reads one request off {@code c}; true when there was one. */
  private static boolean app(RawUpstream.Conn c) throws java.io.IOException {
    List<String> head = c.readHead();
    if (head == null) {
      return false;
    }
    c.readBody(head);
    return true;
  }
}
