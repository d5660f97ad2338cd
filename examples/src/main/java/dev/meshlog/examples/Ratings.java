package dev.meshlog.examples;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

/** The ratings service: {@code GET /ratings/{id}} answers each reviewer's stars as JSON. */
public final class Ratings implements Handler<HttpServerRequest> {

  private final AppConfig config;

  /** Ratings served as {@code config}'s version. */
  public Ratings(AppConfig config) {
    this.config = config;
  }

  @Override
  public void handle(HttpServerRequest request) {
    if (!request.path().startsWith("/ratings/")) {
      ExampleServer.notFound(request, "GET /ratings/{id}, GET /health");
      return;
    }
    int id = ExampleServer.productId(request.path());
    if (id < 0) {
      request.response().setStatusCode(400).end("product id: not a number (expected: 0, 1, ...)\n");
      return;
    }
    JsonObject ratings = new JsonObject().put("id", id)
        .put("ratings", new JsonObject().put("Reviewer1", 5).put("Reviewer2", 4))
        .put("servedBy", config.servedBy());
    request.response().putHeader("content-type", "application/json").end(ratings.encode());
  }
}
