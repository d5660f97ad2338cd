package dev.meshlog.examples;

import java.time.Duration;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The reviews service, {@code GET /reviews/{id}}: v1 answers the reviews without ratings; v2
 * asks ratings and shows black stars; v3 asks ratings and shows red stars. When ratings fails
 * the reviews still answer, each with {@code "rating": {"error": ...}} — as Bookinfo does.
 */
public final class Reviews implements Handler<HttpServerRequest> {

  /** How long reviews waits for ratings (Bookinfo's reviews waits 10 s). */
  public static final Duration RATINGS_TIMEOUT = Duration.ofSeconds(10);
  /** The text shown instead of stars when ratings did not answer. */
  public static final String RATINGS_UNAVAILABLE = "Ratings service is currently unavailable";

  private final AppConfig config;
  private final Downstream downstream;

  /** Reviews of {@code config}'s version, calling ratings through {@code downstream}. */
  public Reviews(AppConfig config, Downstream downstream) {
    this.config = config;
    this.downstream = downstream;
  }

  @Override
  public void handle(HttpServerRequest request) {
    if (!request.path().startsWith("/reviews/")) {
      ExampleServer.notFound(request, "GET /reviews/{id}, GET /health");
      return;
    }
    int id = ExampleServer.productId(request.path());
    if (id < 0) {
      request.response().setStatusCode(400).end("product id: not a number (expected: 0, 1, ...)\n");
      return;
    }
    Future<JsonObject> ratings = "v1".equals(config.version())
        ? Future.succeededFuture(null)
        : downstream.get("ratings", "/ratings/" + id, request.headers(), RATINGS_TIMEOUT)
            .map(answer -> answer.ok()
                ? new JsonObject(answer.body())
                : new JsonObject().put("error", RATINGS_UNAVAILABLE + " (ratings answered "
                    + answer.status() + ")"))
            .otherwise(e -> new JsonObject().put("error", RATINGS_UNAVAILABLE + " (" + e.getMessage()
                + ")"));
    ratings.onComplete(done -> request.response().putHeader("content-type", "application/json")
        .end(answer(id, done.result()).encode()));
  }

  private JsonObject answer(int id, JsonObject ratings) {
    JsonArray reviews = new JsonArray()
        .add(review("Reviewer1", "An extremely entertaining play by Shakespeare. The slapstick "
            + "humour is refreshing!", ratings))
        .add(review("Reviewer2", "Absolutely fun and entertaining. The play lacks thematic depth "
            + "when compared to other plays by Shakespeare.", ratings));
    return new JsonObject().put("id", id).put("servedBy", config.servedBy()).put("reviews", reviews);
  }

  private JsonObject review(String reviewer, String text, JsonObject ratings) {
    JsonObject review = new JsonObject().put("reviewer", reviewer).put("text", text);
    if (ratings == null) {
      return review;
    }
    if (ratings.containsKey("error")) {
      return review.put("rating", new JsonObject().put("error", ratings.getString("error")));
    }
    Integer stars = ratings.getJsonObject("ratings", new JsonObject()).getInteger(reviewer);
    return review.put("rating", new JsonObject().put("stars", stars)
        .put("color", "v3".equals(config.version()) ? "red" : "black")
        .put("servedBy", ratings.getString("servedBy")));
  }
}
