package dev.meshlog.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The example services on real sockets, calling each other through a stand-in sidecar: what a
 * user sees from each version, and what each call passes on.
 */
class BookinfoIT {

  private final Vertx vertx = Vertx.vertx();
  private final HttpClientAgent http = vertx.createHttpClient();
  private final List<ExamplesMain.Running> running = new ArrayList<>();
  private StandInSidecar sidecar;

  @BeforeEach
  void startSidecar() {
    sidecar = new StandInSidecar(vertx);
  }

  @AfterEach
  void stop() {
    running.forEach(ExamplesMain.Running::close);
    sidecar.close();
    vertx.close().await();
  }

  private int start(String app, String version) {
    ExamplesMain.Running r = ExamplesMain.start(app, "--version", version, "--port", "0",
        "--sidecar", "127.0.0.1:" + sidecar.port());
    running.add(r);
    return r.port();
  }

  /** productpage, details and ratings, with reviews of {@code reviewsVersion}; productpage's port. */
  private int bookinfo(String reviewsVersion) {
    sidecar.routes.put("details", start("details", "v1"));
    sidecar.routes.put("ratings", start("ratings", "v1"));
    sidecar.routes.put("reviews", start("reviews", reviewsVersion));
    return start("productpage", "v1");
  }

  private String get(int port, String path, String... headers) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
        .setPort(port).setURI(path);
    for (int i = 0; i + 1 < headers.length; i += 2) {
      options.putHeader(headers[i], headers[i + 1]);
    }
    // the body is asked for inside send()'s callback (chained after it, a body that came with
    // the head can be lost: proxy/README.md, "Tests")
    return http.request(options).compose(r -> r.send()
        .compose(resp -> resp.body().map(b -> resp.statusCode() + " " + b))).await();
  }

  private JsonObject product(int port, String... headers) {
    String answer = get(port, "/api/v1/products/0", headers);
    assertThat(answer).startsWith("200 ");
    return new JsonObject(answer.substring(4));
  }

  @Test
  void reviewsV1ShowsNoRatingsAndNeverCallsRatings() {
    int page = bookinfo("v1");

    JsonObject product = product(page);

    assertThat(product.getString("servedBy")).isEqualTo("productpage v1");
    assertThat(product.getJsonObject("details").getString("servedBy")).isEqualTo("details v1");
    JsonObject reviews = product.getJsonObject("reviews");
    assertThat(reviews.getString("servedBy")).isEqualTo("reviews v1");
    assertThat(reviews.getJsonArray("reviews").getJsonObject(0).containsKey("rating")).isFalse();
    assertThat(sidecar.seen).extracting(StandInSidecar.Seen::host)
        .containsExactlyInAnyOrder("details", "reviews");
  }

  @Test
  void reviewsV2ShowsBlackStarsFromRatings() {
    int page = bookinfo("v2");

    JsonObject rating = product(page).getJsonObject("reviews").getJsonArray("reviews")
        .getJsonObject(0).getJsonObject("rating");

    assertThat(rating.getString("color")).isEqualTo("black");
    assertThat(rating.getInteger("stars")).isEqualTo(5);
    assertThat(rating.getString("servedBy")).isEqualTo("ratings v1");
  }

  @Test
  void reviewsV3ShowsRedStarsOnTheHtmlPage() {
    int page = bookinfo("v3");

    String html = get(page, "/productpage?u=jason");

    assertThat(html).startsWith("200 ").contains("color:red", "★★★★★", "signed in as jason",
        "reviews served by reviews v3", "ratings v1");
  }

  @Test
  void forwardsTraceHeadersAndEndUserOnEveryCall() {
    int page = bookinfo("v2");

    product(page, "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "x-request-id", "req-1", "x-b3-traceid", "abc", "b3", "abc-def-1", "end-user", "jason",
        "cookie", "secret=1");

    assertThat(sidecar.seen).extracting(StandInSidecar.Seen::host)
        .containsExactlyInAnyOrder("details", "reviews", "ratings");
    assertThat(sidecar.seen).allSatisfy(seen -> {
      assertThat(seen.headers().get("traceparent"))
          .isEqualTo("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
      assertThat(seen.headers().get("x-request-id")).isEqualTo("req-1");
      assertThat(seen.headers().get("x-b3-traceid")).isEqualTo("abc");
      assertThat(seen.headers().get("b3")).isEqualTo("abc-def-1");
      assertThat(seen.headers().get("end-user")).isEqualTo("jason");
      assertThat(seen.headers().get("cookie")).isNull();
    });
  }

  @Test
  void theUserQueryParameterBecomesTheEndUserHeader() {
    int page = bookinfo("v1");

    get(page, "/productpage?u=jason");

    assertThat(sidecar.seen).isNotEmpty()
        .allSatisfy(seen -> assertThat(seen.headers().get("end-user")).isEqualTo("jason"));
  }

  @Test
  void aFailingRatingsLeavesTheReviewsWithAnError() {
    int page = bookinfo("v2");
    sidecar.failures.put("ratings", 500);

    JsonObject reviews = product(page).getJsonObject("reviews");

    assertThat(reviews.getString("servedBy")).isEqualTo("reviews v2");
    assertThat(reviews.getJsonArray("reviews").getJsonObject(0).getJsonObject("rating")
        .getString("error")).isEqualTo(Reviews.RATINGS_UNAVAILABLE + " (ratings answered 500)");
  }

  @Test
  void aFailingReviewsLeavesThePageWithDetailsAndAnError() {
    int page = bookinfo("v2");
    sidecar.failures.put("reviews", 503);

    JsonObject product = product(page);

    assertThat(product.getJsonObject("details").getString("servedBy")).isEqualTo("details v1");
    assertThat(product.getJsonObject("reviews").getString("error"))
        .isEqualTo(ProductPage.REVIEWS_UNAVAILABLE + " (reviews answered 503)");
    assertThat(get(page, "/productpage")).startsWith("200 ")
        .contains(ProductPage.REVIEWS_UNAVAILABLE);
  }

  @Test
  void everyAppAnswersHealthAndNamesItselfInAHeader() {
    for (String app : ExamplesMain.APPS) {
      int port = start(app, "v2");
      String answer = http.request(new RequestOptions().setHost("127.0.0.1").setPort(port)
              .setURI("/health"))
          .compose(r -> r.send()).map(r -> r.statusCode() + " " + r.getHeader("x-served-by"))
          .await();
      assertThat(answer).isEqualTo("200 " + app + " v2");
    }
  }

  @Test
  void unknownPathsAnswer404WithWhatExists() {
    int details = start("details", "v1");

    assertThat(get(details, "/nope")).startsWith("404 ").contains("GET /details/{id}");
    assertThat(get(details, "/details/x")).startsWith("400 ");
  }
}
