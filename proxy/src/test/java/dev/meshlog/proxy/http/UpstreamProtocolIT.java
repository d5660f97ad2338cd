package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.http.TestMesh.eventually;
import static dev.meshlog.proxy.support.Views.endpoint;
import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.meshlog.events.discovery.Destination;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
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
 * Which HTTP version a request goes upstream in, through real proxies: a port declared HTTP is
 * spoken in HTTP/1.1 even to an h2c caller (with its body framed as HTTP/1.1 needs), HTTP2 and
 * GRPC ports in HTTP/2, an undeclared port as the caller spoke; an HTTP/2 gRPC call stays HTTP/2.
 */
class UpstreamProtocolIT {

  private TestMesh mesh;
  private HttpClientAgent h2c;

  /** What the app saw, and what the caller got back. */
  record Seen(int status, HttpVersion callerVersion, String appVersion, String contentLength,
              String transferEncoding, String host, String body) {}

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    h2c = mesh.vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  /**
   * An app that reports the version, framing and body of what it got, answered with a body of
   * its own (so its response is framed too: chunked in HTTP/1.1).
   */
  private static Handler<HttpServerRequest> reportingApp() {
    return req -> req.body().onSuccess(b -> {
      if (req.version() == HttpVersion.HTTP_1_1) {
        // A hop-by-hop header HTTP/2 forbids: the proxy must not pass it on to an h2c caller.
        req.response().putHeader("connection", "keep-alive");
      }
      req.response().setChunked(true)
        .putHeader("x-app-version", req.version().name())
        .putHeader("x-seen-content-length", String.valueOf(req.getHeader("content-length")))
        .putHeader("x-seen-transfer-encoding",
            String.valueOf(req.getHeader("transfer-encoding")))
        .putHeader("x-seen-host", String.valueOf(req.getHeader("host")))
        .end("got " + b.length() + ": " + b);
    });
  }

  private static ServiceView.Builder reviews(Protocol protocol, Endpoint... endpoints) {
    ServiceView.Builder v = view("reviews").setEndpoints(List.of(endpoints));
    if (protocol != null) {
      v.setPorts(List.of(ServicePort.newBuilder().setName("web").setNumber(9080)
          .setProtocol(protocol).build()));
    }
    return v;
  }

  private static Endpoint sidecarEndpoint(Sidecar s) {
    return Endpoint.newBuilder().setInstanceId("reviews-v1").setAddress("127.0.0.1")
        .setPort(s.inboundPort()).setZone("zone-a").setCluster("c1")
        .setHealth(EndpointHealth.HEALTHY).build();
  }

  /** A client sidecar whose reviews (port 9080 declaring {@code protocol}) runs behind a sidecar. */
  private Sidecar meshOf(Protocol protocol) {
    int app = mesh.backend(reportingApp());
    // The server's sidecar reads its own view for the app's protocol; its endpoint is itself.
    Sidecar server = mesh.serverSidecar("reviews", "v1", "zone-a", app,
        reviews(protocol, endpoint(1, "v1", "zone-a")).build());
    return mesh.clientSidecar(reviews(protocol, sidecarEndpoint(server)).build());
  }

  /** A request through {@code port} to reviews:9080: a body with or without its length, or none. */
  private Seen call(HttpClientAgent client, int port, HttpMethod method, String body,
                    boolean withLength, String... headers) {
    RequestOptions o = new RequestOptions().setHost("127.0.0.1").setPort(port).setMethod(method)
        .setURI("/reviews/1");
    MultiMap h = HttpHeaders.headers();
    for (int i = 0; i + 1 < headers.length; i += 2) {
      h.add(headers[i], headers[i + 1]);
    }
    o.setHeaders(h);
    return client.request(o).compose(r -> {
      if (r.version() == HttpVersion.HTTP_2) {
        r.authority(HostAndPort.create("reviews", 9080));
      } else {
        r.putHeader(HttpHeaders.HOST, "reviews:9080");
      }
      if (body == null) {
        return r.send();
      }
      if (!withLength) {
        r.setChunked(true);
      }
      return r.send(Buffer.buffer(body));
    }).compose(resp -> resp.body().map(b -> new Seen(resp.statusCode(), resp.version(),
        resp.getHeader("x-app-version"), resp.getHeader("x-seen-content-length"),
        resp.getHeader("x-seen-transfer-encoding"), resp.getHeader("x-seen-host"),
        b.toString()))).await();
  }

  @Test
  void anHttp2CallerReachesAnHttpPortInHttp11WithEachBodyFramedAsItMustBe() {
    Sidecar client = meshOf(Protocol.HTTP);

    Seen get = call(h2c, client.outboundPort(), HttpMethod.GET, null, false);
    Seen streamed = call(h2c, client.outboundPort(), HttpMethod.POST, "a streamed body", false);
    Seen sized = call(h2c, client.outboundPort(), HttpMethod.PUT, "sized", true);
    Seen empty = call(h2c, client.outboundPort(), HttpMethod.POST, "", true);

    assertThat(get).isEqualTo(new Seen(200, HttpVersion.HTTP_2, "HTTP_1_1", "null", "null",
        "reviews:9080", "got 0: "));
    // HTTP/2 gave no length: HTTP/1.1 carries the body chunked.
    assertThat(streamed).isEqualTo(new Seen(200, HttpVersion.HTTP_2, "HTTP_1_1", "null",
        "chunked", "reviews:9080", "got 15: a streamed body"));
    assertThat(sized).isEqualTo(new Seen(200, HttpVersion.HTTP_2, "HTTP_1_1", "5", "null",
        "reviews:9080", "got 5: sized"));
    assertThat(empty.appVersion()).isEqualTo("HTTP_1_1");
    assertThat(empty.body()).isEqualTo("got 0: ");
    assertThat(mesh.log.count(e -> e.status() != 200)).isZero();
  }

  @Test
  void anHttp2CallerReachesAnHttpServiceEntryEndpointWithNoSidecarInHttp11() {
    // An HTTP/1.1-only server outside the mesh: HTTP/2's preface would be garbage to it.
    int external = mesh.backend(req -> {
      if (req.version() != HttpVersion.HTTP_1_1) {
        req.response().setStatusCode(505).end("HTTP/1.1 only");
        return;
      }
      reportingApp().handle(req);
    });
    Sidecar client = mesh.clientSidecar(reviews(Protocol.HTTP,
        endpoint(external, "v1", "zone-a")).build());

    Seen posted = call(h2c, client.outboundPort(), HttpMethod.POST, "order", false);

    assertThat(posted).isEqualTo(new Seen(200, HttpVersion.HTTP_2, "HTTP_1_1", "null",
        "chunked", "reviews:9080", "got 5: order"));
  }

  @Test
  void aRetriedStreamedBodyGoesWholeAndChunkedOnEachTry() {
    java.util.concurrent.atomic.AtomicInteger tries = new java.util.concurrent.atomic.AtomicInteger();
    int external = mesh.backend(req -> req.body().onSuccess(b -> {
      if (tries.incrementAndGet() == 1) {
        req.response().setStatusCode(503).end("warming up");
      } else {
        req.response().putHeader("x-app-version", req.version().name())
            .putHeader("x-seen-content-length", String.valueOf(req.getHeader("content-length")))
            .putHeader("x-seen-transfer-encoding",
                String.valueOf(req.getHeader("transfer-encoding")))
            .putHeader("x-seen-host", String.valueOf(req.getHeader("host")))
            .end("got " + b.length() + ": " + b);
      }
    }));
    Sidecar client = mesh.clientSidecar(reviews(Protocol.HTTP, endpoint(external, "v1",
        "zone-a")).setHttpRoutes(List.of(dev.meshlog.proxy.support.Views.route("r", List.of(),
            dev.meshlog.proxy.support.Views.to("reviews", null, 100))
        .setRetries(dev.meshlog.events.discovery.RetryPolicy.newBuilder().setAttempts(2)
            .setRetryOn(List.of("5xx")).setBackoffBaseMillis(1).setBackoffMaxMillis(2).build())
        .build())).build());

    Seen posted = call(h2c, client.outboundPort(), HttpMethod.POST, "twice sent", false,
        "x-request-id", "retry-h2");

    assertThat(posted).isEqualTo(new Seen(200, HttpVersion.HTTP_2, "HTTP_1_1", "null",
        "chunked", "reviews:9080", "got 10: twice sent"));
    assertThat(mesh.log.await("outbound", "retry-h2").attempts()).isEqualTo(2);
  }

  @Test
  void http2PortsGetHttp2AndUndeclaredPortsTheCallersProtocol() {
    Sidecar declaredH2 = meshOf(Protocol.HTTP2);
    Sidecar undeclared = meshOf(null);

    assertThat(call(mesh.app, declaredH2.outboundPort(), HttpMethod.POST, "one", true)
        .appVersion()).isEqualTo("HTTP_2");
    assertThat(call(h2c, undeclared.outboundPort(), HttpMethod.POST, "two", false).appVersion())
        .isEqualTo("HTTP_2");
    assertThat(call(mesh.app, undeclared.outboundPort(), HttpMethod.POST, "three", true)
        .appVersion()).isEqualTo("HTTP_1_1");
  }

  @Test
  void anHttp2GrpcCallStaysHttp2EvenToAPortDeclaredHttp() {
    Sidecar client = meshOf(Protocol.HTTP);

    Seen grpc = call(h2c, client.outboundPort(), HttpMethod.POST, "msg", false,
        "content-type", "application/grpc", "te", "trailers");
    // gRPC-Web comes in HTTP/1.1 and stays so: the port's word stands.
    Seen grpcWeb = call(mesh.app, client.outboundPort(), HttpMethod.POST, "msg", true,
        "content-type", "application/grpc-web+proto");

    assertThat(grpc.appVersion()).isEqualTo("HTTP_2");
    assertThat(grpcWeb.appVersion()).isEqualTo("HTTP_1_1");
  }

  /**
   * A client sidecar whose route to reviews (an HTTP port, the reporting app behind no sidecar)
   * mirrors everything to ratings, whose port 9080 declares {@code mirrorProtocol} and whose
   * endpoint records what it got.
   */
  private Sidecar mirroringTo(Protocol mirrorProtocol, Queue<HttpServerRequest> mirrored) {
    int app = mesh.backend(reportingApp());
    int shadow = mesh.backend(req -> req.body().onSuccess(b -> {
      mirrored.add(req);
      req.response().end();
    }));
    ServiceView.Builder reviews = reviews(Protocol.HTTP, endpoint(app, "v1", "zone-a"))
        .setSubsets(List.of(subset("v1")))
        .setHttpRoutes(List.of(route("mirrored", List.of(), to("reviews", "v1", 100))
            .setMirror(Destination.newBuilder().setHost(host("ratings")).build())
            .setMirrorPercentage(100.0).build()));
    ServiceView ratings = view("ratings").setEndpoints(List.of(endpoint(shadow, "v1", "zone-a")))
        .setPorts(List.of(ServicePort.newBuilder().setName("web").setNumber(9080)
            .setProtocol(mirrorProtocol).build())).build();
    return mesh.clientSidecar(reviews.build(), ratings);
  }

  @Test
  void aMirrorGoesInTheProtocolItsDestinationsPortDeclares() {
    Queue<HttpServerRequest> toGrpc = new ConcurrentLinkedQueue<>();
    Queue<HttpServerRequest> toHttp = new ConcurrentLinkedQueue<>();
    Sidecar grpcMirror = mirroringTo(Protocol.GRPC, toGrpc);
    Sidecar httpMirror = mirroringTo(Protocol.HTTP, toHttp);

    // An HTTP/1.1 caller; the mirror's port is GRPC: the copy goes as h2c.
    assertThat(call(mesh.app, grpcMirror.outboundPort(), HttpMethod.POST, "one", true).status())
        .isEqualTo(200);
    eventually(() -> assertThat(toGrpc).hasSize(1));
    // A gRPC call over h2c: its copy stays HTTP/2, trailers and all.
    assertThat(call(h2c, grpcMirror.outboundPort(), HttpMethod.POST, "two", false,
        "content-type", "application/grpc", "te", "trailers").status()).isEqualTo(200);
    eventually(() -> assertThat(toGrpc).hasSize(2));
    // An h2c caller; the mirror's port is HTTP: the copy goes as HTTP/1.1.
    assertThat(call(h2c, httpMirror.outboundPort(), HttpMethod.POST, "three", false).status())
        .isEqualTo(200);
    eventually(() -> assertThat(toHttp).hasSize(1));

    HttpServerRequest one = toGrpc.poll();
    HttpServerRequest two = toGrpc.poll();
    HttpServerRequest three = toHttp.poll();
    assertThat(one.version()).isEqualTo(HttpVersion.HTTP_2);
    assertThat(one.authority().toString()).isEqualTo("reviews-shadow:9080");
    assertThat(one.getHeader("host")).isNull();
    assertThat(two.version()).isEqualTo(HttpVersion.HTTP_2);
    assertThat(two.getHeader("content-type")).isEqualTo("application/grpc");
    assertThat(three.version()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(three.getHeader("host")).isEqualTo("reviews-shadow:9080");
  }
}
