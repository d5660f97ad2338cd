package dev.meshlog.examples;

import java.time.Duration;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The product page: {@code GET /productpage} (HTML) and {@code GET /api/v1/products/{id}}
 * (JSON) show a book with its details and reviews, fetched from details and reviews through the
 * sidecar; each part says which service and version served it. The user is the request's
 * {@code end-user} header, or {@code ?u=NAME} (a browser's stand-in for Bookinfo's login), and
 * goes to the services called as {@code end-user}.
 */
public final class ProductPage implements Handler<HttpServerRequest> {

  /** How long the page waits for details and for reviews (Bookinfo's productpage: 3 s). */
  public static final Duration CALL_TIMEOUT = Duration.ofSeconds(3);
  /** What the page shows when details did not answer. */
  public static final String DETAILS_UNAVAILABLE = "Sorry, product details are currently unavailable";
  /** What the page shows when reviews did not answer. */
  public static final String REVIEWS_UNAVAILABLE = "Sorry, product reviews are currently unavailable";

  private final AppConfig config;
  private final Downstream downstream;

  /** A product page calling details and reviews through {@code downstream}. */
  public ProductPage(AppConfig config, Downstream downstream) {
    this.config = config;
    this.downstream = downstream;
  }

  @Override
  public void handle(HttpServerRequest request) {
    String path = request.path();
    if ("/".equals(path)) {
      request.response().putHeader("content-type", "text/html; charset=utf-8")
          .end("<html><body><h1>Bookinfo on Meshlog</h1><p><a href=\"/productpage\">product page"
              + "</a> · <a href=\"/productpage?u=jason\">as jason</a> · <a href=\"/api/v1/products/0\">"
              + "JSON</a></p></body></html>\n");
    } else if ("/productpage".equals(path)) {
      product(0, request).onComplete(done -> request.response()
          .putHeader("content-type", "text/html; charset=utf-8").end(html(done.result())));
    } else if ("/api/v1/products".equals(path)) {
      request.response().putHeader("content-type", "application/json").end(new JsonArray()
          .add(new JsonObject().put("id", 0).put("title", "The Comedy of Errors")).encode());
    } else if (path.startsWith("/api/v1/products/") && ExampleServer.productId(path) >= 0) {
      product(ExampleServer.productId(path), request).onComplete(done -> request.response()
          .putHeader("content-type", "application/json").end(done.result().encode()));
    } else {
      ExampleServer.notFound(request, "GET /productpage[?u=USER], GET /api/v1/products[/{id}], "
          + "GET /health");
    }
  }

  /** Details and reviews of product {@code id}, with an {@code error} in place of a failed part. */
  private Future<JsonObject> product(int id, HttpServerRequest request) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(request.headers());
    String user = request.getParam("u");
    if (user != null && !user.isBlank()) {
      headers.set("end-user", user);
    }
    Future<JsonObject> details = call("details", "/details/" + id, headers, DETAILS_UNAVAILABLE);
    Future<JsonObject> reviews = call("reviews", "/reviews/" + id, headers, REVIEWS_UNAVAILABLE);
    return Future.join(details, reviews).transform(done -> Future.succeededFuture(new JsonObject()
        .put("id", id).put("title", "The Comedy of Errors").put("servedBy", config.servedBy())
        .put("user", headers.get("end-user"))
        .put("details", details.result()).put("reviews", reviews.result())));
  }

  private Future<JsonObject> call(String service, String path, MultiMap headers, String sorry) {
    return downstream.get(service, path, headers, CALL_TIMEOUT)
        .map(answer -> answer.ok()
            ? new JsonObject(answer.body())
            : new JsonObject().put("error", sorry + " (" + service + " answered " + answer.status()
                + ")"))
        .otherwise(e -> new JsonObject().put("error", sorry + " (" + failure(service, e) + ")"));
  }

  private static String failure(String service, Throwable e) {
    String message = String.valueOf(e.getMessage());
    return message.contains("timeout period")
        ? "no answer from " + service + " within " + CALL_TIMEOUT.toSeconds() + " s"
        : message;
  }

  private static String html(JsonObject product) {
    StringBuilder page = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\">"
        + "<title>Bookinfo on Meshlog</title></head><body style=\"font-family:sans-serif\">");
    page.append("<h1>").append(escape(product.getString("title"))).append("</h1>");
    page.append("<p><small>served by ").append(escape(product.getString("servedBy")));
    String user = product.getString("user");
    page.append(user == null ? " · not signed in (try ?u=jason)" : " · signed in as " + escape(user))
        .append("</small></p>");
    JsonObject details = product.getJsonObject("details");
    page.append("<h2>Book Details</h2>");
    if (details.containsKey("error")) {
      page.append("<p class=\"error\">").append(escape(details.getString("error"))).append("</p>");
    } else {
      page.append("<p>").append(escape(details.getString("author"))).append(", ")
          .append(details.getInteger("year")).append(", ").append(details.getInteger("pages"))
          .append(" pages, ").append(escape(details.getString("publisher")))
          .append(" <small>(").append(escape(details.getString("servedBy"))).append(")</small></p>");
    }
    JsonObject reviews = product.getJsonObject("reviews");
    page.append("<h2>Book Reviews</h2>");
    if (reviews.containsKey("error")) {
      page.append("<p class=\"error\">").append(escape(reviews.getString("error"))).append("</p>");
    } else {
      page.append("<p><small>reviews served by ").append(escape(reviews.getString("servedBy")))
          .append("</small></p>");
      for (Object o : reviews.getJsonArray("reviews")) {
        JsonObject review = (JsonObject) o;
        page.append("<blockquote><p>").append(escape(review.getString("text"))).append("</p><p>— ")
            .append(escape(review.getString("reviewer"))).append("</p>");
        JsonObject rating = review.getJsonObject("rating");
        if (rating != null && rating.containsKey("error")) {
          page.append("<p class=\"error\">").append(escape(rating.getString("error"))).append("</p>");
        } else if (rating != null) {
          int stars = rating.getInteger("stars", 0);
          page.append("<p style=\"color:").append(escape(rating.getString("color"))).append("\">")
              .append("★".repeat(stars)).append("☆".repeat(Math.max(0, 5 - stars)))
              .append(" <small>(").append(escape(rating.getString("color"))).append(" stars, ")
              .append(escape(rating.getString("servedBy"))).append(")</small></p>");
        }
        page.append("</blockquote>");
      }
    }
    return page.append("</body></html>\n").toString();
  }

  private static String escape(String text) {
    if (text == null) {
      return "";
    }
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
