package dev.meshlog.examples;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

/**
 * The HTTP server every example shares: {@code GET /health} answers 200, every answer carries
 * {@code x-served-by: <app> <version>}, anything else goes to the app's handler.
 */
public final class ExampleServer {

  private ExampleServer() {
  }

  /** Listens on the config's bind address and port with {@code app} behind it. */
  public static Future<HttpServer> start(Vertx vertx, AppConfig config,
                                         Handler<HttpServerRequest> app) {
    return vertx.createHttpServer().requestHandler(request -> {
      request.response().putHeader("x-served-by", config.servedBy());
      if (request.method() == HttpMethod.GET && "/health".equals(request.path())) {
        request.response().putHeader("content-type", "text/plain").end("ok\n");
        return;
      }
      try {
        app.handle(request);
      } catch (RuntimeException e) {
        if (!request.response().ended()) {
          request.response().setStatusCode(500).end("internal error: " + e + "\n");
        }
      }
    }).listen(config.port(), config.bind());
  }

  /** Answers 404 with what exists instead. */
  public static void notFound(HttpServerRequest request, String expected) {
    request.response().setStatusCode(404).putHeader("content-type", "text/plain")
        .end("no such path: " + request.method() + " " + request.path() + " (expected: "
            + expected + ")\n");
  }

  /** The last path segment as a product id, e.g. 0 for {@code /details/0}; -1 if not a number. */
  public static int productId(String path) {
    String last = path.substring(path.lastIndexOf('/') + 1);
    try {
      return Integer.parseInt(last);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
