package dev.meshlog.proxy.http;

import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.proxy.ProxyTransport;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.OutboundTrafficPolicy;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ViewTranslator;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

/**
 * A small mesh on loopback for integration tests: backend apps, server sidecars in front of
 * them, client sidecars built from hand-made views, and an app-side client. Everything binds
 * port 0 and shares one Vert.x instance.
 */
final class TestMesh implements AutoCloseable {

  /** A response as the calling app sees it. */
  record Response(int status, MultiMap headers, String body) {
    String header(String name) {
      return headers.get(name);
    }
  }

  // The transport the proxy runs (epoll here); -Dmeshlog.test.transport=nio runs the suite on NIO.
  final Vertx vertx = ProxyTransport.vertx(new VertxOptions().setEventLoopPoolSize(2),
      ProxyTransport.choose(ProxyTransport.Kind.parse(
          System.getProperty("meshlog.test.transport", "auto"))), Duration.ZERO);
  final Log log = new Log();
  final HttpClientAgent app = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(32));
  private final List<HttpServer> backends = new ArrayList<>();
  private final List<Sidecar> sidecars = new ArrayList<>();

  /** Collects access-log entries for assertions. */
  static final class Log implements AccessLog {
    final ConcurrentLinkedQueue<AccessLogEntry> entries = new ConcurrentLinkedQueue<>();

    @Override
    public void log(AccessLogEntry entry) {
      entries.add(entry);
    }

    /** Waits for, then returns, the entry of {@code direction} for request {@code id}. */
    AccessLogEntry await(String direction, String id) {
      return await(e -> direction.equals(e.direction()) && id.equals(e.requestId()));
    }

    AccessLogEntry await(Predicate<AccessLogEntry> which) {
      return org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(
          () -> entries.stream().filter(which).findFirst().orElse(null),
          java.util.Objects::nonNull);
    }

    long count(Predicate<AccessLogEntry> which) {
      return entries.stream().filter(which).count();
    }
  }

  /** Starts a backend app; returns its port. */
  int backend(Handler<HttpServerRequest> handler) {
    HttpServer s = vertx.createHttpServer().requestHandler(handler);
    backends.add(s);
    return s.listen(0, "127.0.0.1").await().actualPort();
  }

  /** Stops the backend app listening on {@code port}, as if it crashed. */
  void stopBackend(int port) {
    backends.stream().filter(s -> s.actualPort() == port).findFirst().orElseThrow().close()
        .await();
  }

  /** A backend answering 200 with body {@code name}, echoing what it saw in x-seen-* headers. */
  int namedBackend(String name) {
    return backend(echo(name));
  }

  /** A handler answering like {@link #namedBackend}. */
  static Handler<HttpServerRequest> echo(String name) {
    return req -> req.body().onSuccess(b -> req.response()
        .putHeader("x-served-by", name)
        .putHeader("x-seen-host", String.valueOf(req.getHeader("host")))
        .putHeader("x-seen-path", req.uri())
        .putHeader("x-seen-request-id", String.valueOf(req.getHeader("x-request-id")))
        .putHeader("x-seen-traceparent", String.valueOf(req.getHeader("traceparent")))
        .putHeader("x-seen-body-length", Integer.toString(b.length()))
        .end(name));
  }

  private ProxyRuntime runtime(ProxyIdentity id, ProxySnapshot snapshot, Clock clock,
                               Supplier<RandomGenerator> random, ListenerLimits limits) {
    SnapshotHolder holder = new SnapshotHolder(snapshot, id, clock);
    return new ProxyRuntime(vertx, Sidecar.newClient(vertx, 16), holder, clock, random, log,
        limits, "cluster.local");
  }

  /** A sidecar of {@code service} {@code version} in front of the app on {@code appPort}. */
  Sidecar serverSidecar(String service, String version, String zone, int appPort) {
    return serverSidecar(service, version, zone, appPort, ProxySnapshot.empty());
  }

  /**
   * A sidecar of {@code service} {@code version} in front of the app on {@code appPort},
   * running {@code views} (its own service's among them, for what its inbound side reads).
   */
  Sidecar serverSidecar(String service, String version, String zone, int appPort,
                        ServiceView... views) {
    return serverSidecar(service, version, zone, appPort, ProxySnapshot.of(
        java.util.Arrays.stream(views).map(ViewTranslator::translate).toList()));
  }

  private Sidecar serverSidecar(String service, String version, String zone, int appPort,
                                ProxySnapshot snapshot) {
    ProxyIdentity id = ProxyIdentity.of(service, "default", version, zone, "c1");
    Sidecar s = Sidecar.start(runtime(id, snapshot, Clock.systemUTC(),
            java.util.concurrent.ThreadLocalRandom::current, ListenerLimits.DEFAULT),
        Sidecar.Ports.loopback(0, 0, appPort)).await();
    sidecars.add(s);
    return s;
  }

  /** The sidecar of productpage v1 in zone-a of cluster c1, running {@code views}. */
  Sidecar clientSidecar(Clock clock, long seed, ListenerLimits limits, ServiceView... views) {
    return clientSidecar(clock, seed, limits, 0, views);
  }

  /** The client sidecar, its outbound listener on {@code outboundPort} (0 = any free one). */
  Sidecar clientSidecarOn(int outboundPort, ServiceView... views) {
    return clientSidecar(Clock.systemUTC(), 42, ListenerLimits.DEFAULT, outboundPort, views);
  }

  private Sidecar clientSidecar(Clock clock, long seed, ListenerLimits limits, int outboundPort,
                                ServiceView... views) {
    return clientSidecar(clock, seed, limits, outboundPort, OutboundTrafficPolicy.REGISTRY_ONLY,
        views);
  }

  /**
   * The client sidecar (productpage), passing hosts outside the mesh through when its own view
   * says ALLOW_ANY, or says nothing and {@code outboundDefault} does.
   */
  Sidecar clientSidecar(OutboundTrafficPolicy outboundDefault, ServiceView... views) {
    return clientSidecar(Clock.systemUTC(), 42, ListenerLimits.DEFAULT, 0, outboundDefault,
        views);
  }

  private Sidecar clientSidecar(Clock clock, long seed, ListenerLimits limits, int outboundPort,
                                OutboundTrafficPolicy outboundDefault, ServiceView... views) {
    ProxySnapshot snapshot = ProxySnapshot.of(java.util.Arrays.stream(views)
        .map(ViewTranslator::translate).toList());
    ProxyIdentity id = ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1");
    Random random = new Random(seed);
    Sidecar s = Sidecar.start(runtime(id, snapshot, clock, () -> random, limits),
        Sidecar.Ports.loopback(outboundPort, 0, 1), outboundDefault).await();
    sidecars.add(s);
    return s;
  }

  /** The client sidecar with the system clock and default limits. */
  Sidecar clientSidecar(ServiceView... views) {
    return clientSidecar(Clock.systemUTC(), 42, ListenerLimits.DEFAULT, views);
  }

  /** Sends a request through {@code proxyPort} to {@code authority}; waits for the whole response. */
  Response send(int proxyPort, HttpMethod method, String authority, String path, Buffer body,
                String... headerPairs) {
    MultiMap h = HttpHeaders.headers().set("host", authority);
    for (int i = 0; i + 1 < headerPairs.length; i += 2) {
      h.add(headerPairs[i], headerPairs[i + 1]);
    }
    RequestOptions o = new RequestOptions().setHost("127.0.0.1").setPort(proxyPort)
        .setMethod(method).setURI(path).setHeaders(h);
    // body() is asked for inside send()'s own callback. Chained one level up instead
    // (request().compose(send).compose(body)), as built from this non-Vert.x thread, that
    // callback can run as a later task, and a body that came in the same read as the head is
    // dropped before body() sets its handler: a 200 with an empty body, once in a few thousand
    // exchanges (eclipse-vertx/vert.x#4705).
    return app.request(o)
        .compose(r -> (body == null ? r.send() : r.send(body)).compose(resp -> resp.body()
            .map(b -> framed(method, resp.statusCode(), resp.headers(), b))))
        .await();
  }

  /**
   * The response to a {@code method} request, checked against its own Content-Length: a body of
   * another length is the test client's loss (or a proxy's), never an answer to assert on.
   */
  static Response framed(HttpMethod method, int status, MultiMap headers, Buffer body) {
    String length = headers.get("content-length");
    boolean noBody = method == HttpMethod.HEAD || status < 200 || status == 204 || status == 304;
    if (length != null && !noBody && Long.parseLong(length.trim()) != body.length()) {
      throw new AssertionError("response body of " + body.length() + " bytes but Content-Length "
          + length + ": status " + status + ", headers " + headers.entries() + ", body ["
          + body + "]");
    }
    return new Response(status, headers, body.toString());
  }

  /** A GET through {@code proxyPort}. */
  Response get(int proxyPort, String authority, String path, String... headerPairs) {
    return send(proxyPort, HttpMethod.GET, authority, path, null, headerPairs);
  }

  /** Waits until {@code condition} holds. */
  static void eventually(Runnable assertion) {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(assertion::run);
  }

  static Map<String, Long> countBy(List<Response> responses, String header) {
    Map<String, Long> counts = new java.util.TreeMap<>();
    responses.forEach(r -> counts.merge(String.valueOf(r.header(header)), 1L, Long::sum));
    return counts;
  }

  @Override
  public void close() {
    vertx.close().await();
  }

}
