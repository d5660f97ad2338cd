package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.match;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import dev.meshlog.events.discovery.AbortFault;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.FaultInjection;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.proxy.Sidecar;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 and gRPC through two real proxies: an h2c caller, the client sidecar, the server
 * sidecar, and a gRPC-style app that answers only HTTP/2 (length-prefixed messages, status in
 * trailers).
 */
class Http2GrpcIT {

  private TestMesh mesh;
  private Sidecar v1;
  private Sidecar v2;
  private HttpClientAgent h2c;

  /** A response as a gRPC caller sees it. */
  record Call(int status, HttpVersion version, MultiMap headers, String message,
              MultiMap trailers) {}

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    v1 = mesh.serverSidecar("reviews", "v1", "zone-a", mesh.backend(grpcApp("v1", 0)));
    v2 = mesh.serverSidecar("reviews", "v2", "zone-a", mesh.backend(grpcApp("v2", 0)));
    h2c = mesh.vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  /** gRPC's framing: a compression flag, a 4-byte big-endian length, the message. */
  static Buffer frame(String message) {
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer().appendByte((byte) 0).appendInt(bytes.length).appendBytes(bytes);
  }

  static String unframe(Buffer b) {
    if (b.length() < 5) {
      return "";
    }
    return b.getString(5, 5 + b.getInt(1), "UTF-8");
  }

  /**
   * A unary gRPC method: it refuses HTTP/1 (as gRPC servers do), echoes the request message
   * prefixed with its name, and ends with {@code grpc-status: status} in the trailers.
   */
  private static Handler<HttpServerRequest> grpcApp(String name, int status) {
    return req -> {
      if (req.version() != HttpVersion.HTTP_2) {
        req.response().setStatusCode(505).end("gRPC needs HTTP/2");
        return;
      }
      req.body().onSuccess(body -> req.response()
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/grpc")
          .putHeader("x-served-by", name)
          .putHeader("x-seen-te", String.valueOf(req.getHeader("te")))
          .putHeader("x-seen-authority", String.valueOf(req.authority()))
          .putTrailer("grpc-status", Integer.toString(status))
          .putTrailer("grpc-message", status == 0 ? "" : "no such review")
          .end(frame(name + ":" + unframe(body))));
    };
  }

  private static Endpoint endpoint(Sidecar s, String version) {
    return Endpoint.newBuilder().setInstanceId("reviews-" + version).setAddress("127.0.0.1")
        .setPort(s.inboundPort()).setLabels(Map.of("version", version)).setZone("zone-a")
        .setCluster("c1").setHealth(EndpointHealth.HEALTHY).build();
  }

  private ServiceView.Builder reviews() {
    return view("reviews").setEndpoints(List.of(endpoint(v1, "v1"), endpoint(v2, "v2")))
        .setSubsets(List.of(subset("v1"), subset("v2")))
        .setPorts(List.of(ServicePort.newBuilder().setName("grpc").setNumber(9080)
            .setProtocol(Protocol.GRPC).build()));
  }

  /** A unary call of {@code method} with {@code message} through {@code port}. */
  private Call call(HttpClientAgent client, int port, String method, String message,
                    String... headerPairs) {
    RequestOptions o = new RequestOptions().setHost("127.0.0.1").setPort(port)
        .setMethod(HttpMethod.POST).setURI(method)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/grpc").putHeader("te", "trailers");
    for (int i = 0; i + 1 < headerPairs.length; i += 2) {
      o.putHeader(headerPairs[i], headerPairs[i + 1]);
    }
    return client.request(o)
        .compose(r -> {
          r.authority(HostAndPort.create("reviews", 9080));
          return r.send(frame(message));
        })
        .compose(r -> r.body().map(b -> new Call(r.statusCode(), r.version(), r.headers(),
            unframe(b), r.trailers())))
        .await();
  }

  @Test
  void routesAGrpcCallByItsMethodAndPassesTheTrailersBack() {
    Sidecar client = mesh.clientSidecar(reviews().setHttpRoutes(List.of(
        route("get-to-v2", List.of(HttpMatch.newBuilder()
                .setUri(match(MatchType.PREFIX, "/reviews.Reviews/Get")).build()),
            to("reviews", "v2", 100)).build(),
        route("rest", List.of(), to("reviews", "v1", 100)).build())).build());

    Call get = call(h2c, client.outboundPort(), "/reviews.Reviews/Get", "book-1", "x-request-id",
        "g-1");
    Call list = call(h2c, client.outboundPort(), "/reviews.Reviews/List", "all");

    assertThat(get.status()).isEqualTo(200);
    assertThat(get.version()).isEqualTo(HttpVersion.HTTP_2);
    assertThat(get.message()).isEqualTo("v2:book-1");
    assertThat(get.trailers().get("grpc-status")).isEqualTo("0");
    assertThat(get.headers().get("x-seen-te")).isEqualTo("trailers");
    assertThat(get.headers().get("x-seen-authority")).isEqualTo("reviews:9080");
    assertThat(list.message()).isEqualTo("v1:all");
    AccessLogEntry outbound = mesh.log.await("outbound", "g-1");
    AccessLogEntry inbound = mesh.log.await("inbound", "g-1");
    assertThat(outbound.protocol()).isEqualTo("HTTP/2");
    assertThat(outbound.grpcStatus()).isEqualTo("0");
    assertThat(outbound.route()).isEqualTo("get-to-v2");
    assertThat(outbound.line()).endsWith(" grpc_status=0");
    assertThat(inbound.protocol()).isEqualTo("HTTP/2");
    assertThat(inbound.grpcStatus()).isEqualTo("0");
  }

  @Test
  void passesAGrpcErrorStatusFromTheTrailersToTheCallerAndTheLog() {
    Sidecar failing = mesh.serverSidecar("reviews", "v1", "zone-a",
        mesh.backend(grpcApp("v1", 5)));
    Sidecar client = mesh.clientSidecar(view("reviews")
        .setEndpoints(List.of(endpoint(failing, "v1"))).build());

    Call c = call(h2c, client.outboundPort(), "/reviews.Reviews/Get", "book-9", "x-request-id",
        "g-5");

    assertThat(c.status()).isEqualTo(200);
    assertThat(c.trailers().get("grpc-status")).isEqualTo("5");
    assertThat(c.trailers().get("grpc-message")).isEqualTo("no such review");
    assertThat(mesh.log.await("outbound", "g-5").grpcStatus()).isEqualTo("5");
  }

  @Test
  void abortsAGrpcCallWithTheFaultsGrpcStatusAsATrailersOnlyAnswer() {
    AtomicInteger reached = new AtomicInteger();
    Sidecar counted = mesh.serverSidecar("reviews", "v1", "zone-a", mesh.backend(req -> {
      reached.incrementAndGet();
      grpcApp("v1", 0).handle(req);
    }));
    Sidecar client = mesh.clientSidecar(view("reviews")
        .setEndpoints(List.of(endpoint(counted, "v1")))
        .setPorts(List.of(ServicePort.newBuilder().setName("grpc").setNumber(9080)
            .setProtocol(Protocol.GRPC).build()))
        .setHttpRoutes(List.of(route("abort", List.of(), to("reviews", null, 100))
            .setFault(FaultInjection.newBuilder().setAbort(AbortFault.newBuilder()
                .setHttpStatus(0).setGrpcStatus(14).build()).build()).build())).build());

    Call c = call(h2c, client.outboundPort(), "/reviews.Reviews/Get", "book-1", "x-request-id",
        "fi-grpc");

    assertThat(c.status()).isEqualTo(200);
    assertThat(c.headers().get("grpc-status")).isEqualTo("14");
    assertThat(c.headers().get("grpc-message")).isEqualTo("fault filter abort");
    assertThat(c.headers().get("content-type")).isEqualTo("application/grpc");
    AccessLogEntry e = mesh.log.await("outbound", "fi-grpc");
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.grpcStatus()).isEqualTo("14");
    assertThat(e.flags()).containsExactly(ResponseFlag.FI);
    assertThat(reached).hasValue(0);
  }

  @Test
  void retriesATrailersOnlyUnavailableAnswerWhenTheRouteSaysSo() {
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    Sidecar flaky = mesh.serverSidecar("reviews", "v1", "zone-a", mesh.backend(req -> {
      if (calls.incrementAndGet() == 1) {
        req.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/grpc")
            .putHeader("grpc-status", "14").putHeader("grpc-message", "warming up").end();
      } else {
        grpcApp("v1", 0).handle(req);
      }
    }));
    Sidecar client = mesh.clientSidecar(view("reviews")
        .setEndpoints(List.of(endpoint(flaky, "v1")))
        .setHttpRoutes(List.of(route("r", List.of(), to("reviews", null, 100))
            .setRetries(dev.meshlog.events.discovery.RetryPolicy.newBuilder().setAttempts(2)
                .setRetryOn(List.of("unavailable")).setBackoffBaseMillis(1)
                .setBackoffMaxMillis(2).build()).build())).build());

    Call c = call(h2c, client.outboundPort(), "/reviews.Reviews/Get", "again", "x-request-id",
        "g-r");

    assertThat(c.trailers().get("grpc-status")).isEqualTo("0");
    assertThat(c.message()).isEqualTo("v1:again");
    assertThat(mesh.log.await("outbound", "g-r").attempts()).isEqualTo(2);
  }

  /** A call through {@code port} that the client gives up on after 10 s without a response. */
  private Call guardedCall(int port, String... headerPairs) {
    RequestOptions o = new RequestOptions().setHost("127.0.0.1").setPort(port)
        .setMethod(HttpMethod.POST).setURI("/reviews.Reviews/Get").setIdleTimeout(10_000)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/grpc").putHeader("te", "trailers");
    for (int i = 0; i + 1 < headerPairs.length; i += 2) {
      o.putHeader(headerPairs[i], headerPairs[i + 1]);
    }
    return h2c.request(o)
        .compose(r -> {
          r.authority(HostAndPort.create("reviews", 9080));
          return r.send(frame("slow"));
        })
        .compose(r -> r.body().map(b -> new Call(r.statusCode(), r.version(), r.headers(),
            unframe(b), r.trailers())))
        .await();
  }

  /** A client sidecar whose reviews endpoint is an app that never answers. */
  private Sidecar clientOfAnAppThatNeverAnswers(Long routeTimeoutMillis) {
    return clientOf(req -> { }, routeTimeoutMillis);
  }

  /** A client sidecar whose reviews endpoint (a gRPC port) is {@code app} behind its sidecar. */
  private Sidecar clientOf(Handler<HttpServerRequest> app, Long routeTimeoutMillis) {
    Sidecar silent = mesh.serverSidecar("reviews", "v1", "zone-a", mesh.backend(app));
    return mesh.clientSidecar(view("reviews").setEndpoints(List.of(endpoint(silent, "v1")))
        .setPorts(List.of(ServicePort.newBuilder().setName("grpc").setNumber(9080)
            .setProtocol(Protocol.GRPC).build()))
        .setHttpRoutes(List.of(route("r", List.of(), to("reviews", null, 100))
            .setTimeoutMillis(routeTimeoutMillis).build())).build());
  }

  @Test
  void answersDeadlineExceededWhenTheCallersGrpcTimeoutPasses() {
    // No route timeout: only the caller's deadline can end the call before the client's guard.
    Sidecar client = clientOfAnAppThatNeverAnswers(null);

    Call c = guardedCall(client.outboundPort(), "grpc-timeout", "200m", "x-request-id", "dl-1");

    assertThat(c.status()).isEqualTo(200);
    assertThat(c.headers().get("grpc-status")).isEqualTo("4");
    assertThat(mesh.log.await("outbound", "dl-1").grpcStatus()).isEqualTo("4");
    // The client's sidecar or the server's, whichever deadline passed first, timed it out.
    TestMesh.eventually(() -> assertThat(mesh.log.count(e -> "dl-1".equals(e.requestId())
        && e.flags().contains(ResponseFlag.UT))).isPositive());
  }

  @Test
  void theRouteTimeoutWinsWhenItIsShorterThanTheCallersDeadline() {
    Sidecar client = clientOfAnAppThatNeverAnswers(150L);

    Call c = guardedCall(client.outboundPort(), "grpc-timeout", "1H", "x-request-id", "dl-2");

    assertThat(c.headers().get("grpc-status")).isEqualTo("4");
    AccessLogEntry e = mesh.log.await("outbound", "dl-2");
    assertThat(e.flags()).containsExactly(ResponseFlag.UT);
    assertThat(e.grpcStatus()).isEqualTo("4");
  }

  @Test
  void theRouteTimeoutResetsAStreamedResponseThatDoesNotEndInTime() {
    // A server-streaming call whose first message comes at once and the rest never: the
    // route's timeout covers the whole response, so the client's sidecar resets the stream.
    Sidecar client = clientOf(req -> req.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/grpc").write(frame("first")), 150L);

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> guardedCall(client.outboundPort(), "x-request-id", "st-1"))
        .isInstanceOf(io.vertx.core.http.StreamResetException.class);
    AccessLogEntry e = mesh.log.await("outbound", "st-1");
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.flags()).containsExactly(ResponseFlag.UT);
  }

  @Test
  void refusesAMalformedGrpcTimeoutWithItsReason() {
    Sidecar client = clientOfAnAppThatNeverAnswers(null);

    Call c = guardedCall(client.outboundPort(), "grpc-timeout", "soon", "x-request-id", "dl-3");

    assertThat(c.status()).isEqualTo(200);
    assertThat(c.headers().get("grpc-status")).isEqualTo("13");
    assertThat(c.headers().get("grpc-message")).isEqualTo("grpc-timeout: soon (expected: 1 to 8 "
        + "digits and a unit H, M, S, m, u or n, e.g. 250m)");
    assertThat(mesh.log.await("outbound", "dl-3").flags()).containsExactly(ResponseFlag.DPE);
  }

  @Test
  void answersAGrpcCallWithNoHealthyUpstreamAsUnavailable() {
    Sidecar client = mesh.clientSidecar(view("reviews").build());

    Call c = call(h2c, client.outboundPort(), "/reviews.Reviews/Get", "x", "x-request-id", "g-14");

    assertThat(c.status()).isEqualTo(200);
    assertThat(c.headers().get("grpc-status")).isEqualTo("14");
    assertThat(c.headers().get("grpc-message")).isEqualTo("no healthy upstream");
    AccessLogEntry e = mesh.log.await("outbound", "g-14");
    assertThat(e.grpcStatus()).isEqualTo("14");
    assertThat(e.flags()).containsExactly(ResponseFlag.UH);
  }

  @Test
  void speaksH2cToAnHttp2PortEvenWhenTheAppCallsWithHttp11() {
    Sidecar client = mesh.clientSidecar(reviews().setHttpRoutes(List.of(
        route("all", List.of(), to("reviews", "v1", 100)).build())).build());

    TestMesh.Response r = mesh.send(client.outboundPort(), HttpMethod.POST, "reviews:9080",
        "/reviews.Reviews/Get", frame("h1"), "content-type", "application/grpc",
        "x-request-id", "h1-1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("x-served-by")).isEqualTo("v1");
    assertThat(mesh.log.await("outbound", "h1-1").protocol()).isEqualTo("HTTP/1.1");
    assertThat(mesh.log.await("inbound", "h1-1").protocol()).isEqualTo("HTTP/2");
  }

  @Test
  void answersAnHttp11UpgradeToH2cInHttp11() {
    int app = mesh.namedBackend("plain");
    Sidecar server = mesh.serverSidecar("ratings", "v1", "zone-a", app);
    Sidecar client = mesh.clientSidecar(view("ratings").setEndpoints(List.of(
        Endpoint.newBuilder().setInstanceId("ratings-v1").setAddress("127.0.0.1")
            .setPort(server.inboundPort()).setHealth(EndpointHealth.HEALTHY).build())).build());
    HttpClientAgent upgrading = mesh.vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(true));

    HttpVersion seen = upgrading.request(new RequestOptions().setHost("127.0.0.1")
            .setPort(client.outboundPort()).setURI("/ratings/1").putHeader("x-request-id", "up-1"))
        .compose(r -> {
          r.authority(HostAndPort.create("ratings", 9080));
          return r.send();
        })
        .compose(r -> r.body().map(b -> r.version()))
        .await();

    // refused, as Envoy refuses it (Vert.x's upgrade corrupted large bodies: H2cUpgradeIT)
    assertThat(seen).isEqualTo(HttpVersion.HTTP_1_1);
    AccessLogEntry outbound = mesh.log.await("outbound", "up-1");
    assertThat(outbound.protocol()).isEqualTo("HTTP/1.1");
    assertThat(outbound.status()).isEqualTo(200);
    assertThat(outbound.destinationService()).isEqualTo(host("ratings"));
  }
}
