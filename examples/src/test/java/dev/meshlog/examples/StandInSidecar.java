package dev.meshlog.examples;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;

/**
 * A tiny stand-in for a sidecar's outbound listener: routes by {@code Host} to the port given
 * for that service, records each request's headers, and can answer a fixed status for a service
 * instead (a broken dependency). The real proxy is exercised by the e2e tests.
 */
final class StandInSidecar implements AutoCloseable {

  /** One request that reached the stand-in. */
  record Seen(String host, String path, MultiMap headers) {
  }

  final List<Seen> seen = new CopyOnWriteArrayList<>();
  final Map<String, Integer> routes = new ConcurrentHashMap<>();
  final Map<String, Integer> failures = new ConcurrentHashMap<>();
  private final HttpServer server;

  StandInSidecar(Vertx vertx) {
    HttpClientAgent client = vertx.createHttpClient();
    server = vertx.createHttpServer().requestHandler(request -> {
      String host = request.authority() == null ? "" : request.authority().host();
      seen.add(new Seen(host, request.path(),
          MultiMap.caseInsensitiveMultiMap().addAll(request.headers())));
      Integer failure = failures.get(host);
      Integer port = routes.get(host);
      if (failure != null || port == null) {
        request.response().setStatusCode(failure != null ? failure : 404).end("stand-in");
        return;
      }
      // Passes every header on, as a sidecar does: what the app forwards is what arrives.
      client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
              .setPort(port).setURI(request.uri()).setHeaders(
                  MultiMap.caseInsensitiveMultiMap().addAll(request.headers())))
          .compose(r -> r.send().compose(resp -> resp.body().map(b -> {
            request.response().setStatusCode(resp.statusCode()).end(b);
            return null;
          })))
          .onFailure(e -> request.response().setStatusCode(502).end(e.toString()));
    }).listen(0, "127.0.0.1").await();
  }

  int port() {
    return server.actualPort();
  }

  @Override
  public void close() {
    server.close().await();
  }
}
