package dev.meshlog.examples;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

/** The details service: {@code GET /details/{id}} answers the book's details as JSON. */
public final class Details implements Handler<HttpServerRequest> {

  private final AppConfig config;

  /** Details served as {@code config}'s version. */
  public Details(AppConfig config) {
    this.config = config;
  }

  @Override
  public void handle(HttpServerRequest request) {
    if (!request.path().startsWith("/details/")) {
      ExampleServer.notFound(request, "GET /details/{id}, GET /health");
      return;
    }
    int id = ExampleServer.productId(request.path());
    if (id < 0) {
      request.response().setStatusCode(400).end("product id: not a number (expected: 0, 1, ...)\n");
      return;
    }
    JsonObject details = new JsonObject().put("id", id).put("author", "William Shakespeare")
        .put("year", 1595).put("type", "paperback").put("pages", 200)
        .put("publisher", "PublisherA").put("language", "English")
        .put("ISBN-10", "1234567890").put("ISBN-13", "123-1234567890")
        .put("servedBy", config.servedBy());
    request.response().putHeader("content-type", "application/json").end(details.encode());
  }
}
