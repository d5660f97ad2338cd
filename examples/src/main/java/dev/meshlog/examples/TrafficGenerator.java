package dev.meshlog.examples;

import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

/**
 * Sends {@code GET target} at a steady rate (one request every {@code 1/rate} seconds, not in
 * bursts), cycling the {@code end-user} header through the given users, and counts the answers.
 * Its own server answers {@code GET /stats} with the counts as JSON.
 */
public final class TrafficGenerator {

  /** Answers are counted per status class; requests without an answer are {@code failed}. */
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong ok = new AtomicLong();
  private final AtomicLong clientErrors = new AtomicLong();
  private final AtomicLong serverErrors = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private volatile String lastError = "";

  private final Vertx vertx;
  private final HttpClientAgent client;
  private final URI target;
  private final double rate;
  private final List<String> users;
  private long timer = -1;

  /**
   * A generator of {@code rate} requests per second (0: none) to {@code target}, an absolute
   * http URL; {@code users} may be empty (no {@code end-user} header).
   */
  public TrafficGenerator(Vertx vertx, HttpClientAgent client, String target, double rate,
                          List<String> users) {
    if (rate < 0 || Double.isNaN(rate) || rate > 1000) {
      throw new IllegalArgumentException("--rate: " + rate + " (expected: 0..1000 requests/s)");
    }
    URI uri;
    try {
      uri = URI.create(target);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("--target: " + target + " (expected: http://HOST:PORT/PATH)");
    }
    if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("--target: " + target + " (expected: http://HOST:PORT/PATH)");
    }
    this.vertx = vertx;
    this.client = client;
    this.target = uri;
    this.rate = rate;
    this.users = List.copyOf(users);
  }

  /** Starts sending (nothing when the rate is 0). */
  public void start() {
    if (rate == 0) {
      return;
    }
    long periodMillis = Math.max(1, Math.round(1000 / rate));
    timer = vertx.setPeriodic(periodMillis, id -> sendOne());
  }

  /** Stops sending. */
  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void sendOne() {
    long n = sent.getAndIncrement();
    String path = target.getRawPath() == null || target.getRawPath().isEmpty() ? "/" : target.getRawPath();
    if (target.getRawQuery() != null) {
      path += "?" + target.getRawQuery();
    }
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost(target.getHost())
        .setPort(target.getPort() < 0 ? 80 : target.getPort()).setURI(path).setTimeout(30_000);
    if (!users.isEmpty()) {
      options.putHeader("end-user", users.get((int) (n % users.size())));
    }
    client.request(options).compose(request -> request.send())
        .compose(response -> response.body().map(body -> response.statusCode()))
        .onSuccess(status -> {
          if (status < 400) {
            ok.incrementAndGet();
          } else if (status < 500) {
            clientErrors.incrementAndGet();
            lastError = "HTTP " + status;
          } else {
            serverErrors.incrementAndGet();
            lastError = "HTTP " + status;
          }
        })
        .onFailure(e -> {
          failed.incrementAndGet();
          lastError = String.valueOf(e.getMessage());
        });
  }

  /** The counts so far. */
  public JsonObject stats() {
    return new JsonObject().put("target", target.toString()).put("rate", rate)
        .put("sent", sent.get()).put("ok", ok.get()).put("clientErrors", clientErrors.get())
        .put("serverErrors", serverErrors.get()).put("failed", failed.get())
        .put("lastError", lastError);
  }

  /** The generator's own endpoints: {@code GET /stats}. */
  public void handle(HttpServerRequest request) {
    if ("/stats".equals(request.path())) {
      request.response().putHeader("content-type", "application/json").end(stats().encode());
    } else {
      ExampleServer.notFound(request, "GET /stats, GET /health");
    }
  }
}
