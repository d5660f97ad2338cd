package dev.meshlog.e2e.walkthrough;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's walkthrough, step by step, against {@code ./meshlog up --rate 0} started as a
 * user starts it: what the user sees through the gateway after each {@code ./meshlog apply},
 * then Ctrl-C, after which no process it started may be left. The steps build on each other, so
 * they run in order on one mesh.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WalkthroughIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CONVERGED = Duration.ofSeconds(30);

  private LocalMesh mesh;
  private String productApi;
  private List<ProcessHandle> started;

  @BeforeAll
  void up(@TempDir Path tmp) throws Exception {
    mesh = LocalMesh.start(tmp.resolve("data"), "--rate", "0");
    JsonNode endpoints = mesh.awaitEndpoints(Duration.ofMinutes(4));
    productApi = endpoints.path("gateway").asText() + "api/v1/products/0";
    started = mesh.process().descendants().toList();
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
        .until(() -> mesh.get(endpoints.path("productpage").asText()).status() == 200);
  }

  @AfterAll
  void down() {
    if (mesh != null) {
      mesh.close();
    }
  }

  /** Which reviews version answered the product page's JSON, or the page's error. */
  private String reviews(String user) {
    LocalMesh.Answer answer = user == null ? mesh.get(productApi)
        : mesh.get(productApi, "end-user", user);
    if (answer.status() != 200) {
      return "HTTP " + answer.status();
    }
    JsonNode reviews = answer.json().path("reviews");
    return reviews.has("error") ? reviews.path("error").asText() : reviews.path("servedBy").asText();
  }

  /** The first review's rating as the page shows it: a color, an error, or "-" (none). */
  private String rating(String user) {
    JsonNode rating = mesh.get(productApi, "end-user", user).json().path("reviews")
        .path("reviews").path(0).path("rating");
    return rating.isMissingNode() ? "-"
        : rating.has("error") ? rating.path("error").asText() : rating.path("color").asText();
  }

  private void apply(String file) {
    LocalMesh.Answer result = mesh.meshlog("apply", "-f", "examples/walkthrough/" + file);
    assertThat(result.status()).as(result.body()).isZero();
  }

  /** Waits until {@code n} calls in a row as {@code user} are answered by {@code expected}. */
  private void awaitEvery(String user, String expected, int n) {
    await().atMost(CONVERGED).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      for (int i = 0; i < n; i++) {
        assertThat(reviews(user)).isEqualTo(expected);
      }
    });
  }

  private Map<String, Integer> count(String user, int n) {
    Map<String, Integer> seen = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      seen.merge(reviews(user), 1, Integer::sum);
    }
    return seen;
  }

  @Test
  @Order(1)
  void productPageAnswersThroughTheGatewayWithEveryPart() {
    String base = mesh.endpoints().path("gateway").asText();
    LocalMesh.Answer page = mesh.get(base + "productpage");
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.body()).contains("The Comedy of Errors", "served by productpage v1",
        "details v1", "reviews served by reviews v");

    JsonNode product = mesh.get(productApi).json();
    assertThat(product.path("servedBy").asText()).isEqualTo("productpage v1");
    assertThat(product.path("details").path("servedBy").asText()).isEqualTo("details v1");
    assertThat(product.path("reviews").path("servedBy").asText()).startsWith("reviews v");
    assertThat(mesh.endpoints().path("proxies")).hasSize(7);
  }

  @Test
  @Order(2)
  void requestRoutingSendsEveryoneToV1() {
    apply("01-all-v1.yaml");

    awaitEvery(null, "reviews v1", 10);
    assertThat(rating("alice")).isEqualTo("-");
  }

  @Test
  @Order(3)
  void requestRoutingSendsJasonToV2WithBlackStars() {
    apply("02-reviews-jason-v2.yaml");

    awaitEvery("jason", "reviews v2", 10);
    assertThat(rating("jason")).isEqualTo("black");
    assertThat(count("alice", 10)).containsOnlyKeys("reviews v1");
    assertThat(count(null, 10)).containsOnlyKeys("reviews v1");
  }

  @Test
  @Order(4)
  void trafficShiftingSplitsFiftyFiftyThenMovesEverythingToV3() {
    apply("03-reviews-50-v3.yaml");
    await().atMost(CONVERGED).until(() -> reviews(null).equals("reviews v3"));

    Map<String, Integer> seen = count(null, 100);
    assertThat(seen).containsOnlyKeys("reviews v1", "reviews v3");
    assertThat(seen.get("reviews v1")).isBetween(35, 65);

    apply("04-reviews-v3.yaml");
    awaitEvery(null, "reviews v3", 20);
    assertThat(rating("alice")).isEqualTo("red");
  }

  @Test
  @Order(5)
  void abortFaultBreaksRatingsForJasonOnly() {
    apply("02-reviews-jason-v2.yaml");
    apply("06-ratings-abort-jason.yaml");
    String unavailable = "Ratings service is currently unavailable (ratings answered 500)";
    await().atMost(CONVERGED).until(() -> rating("jason").equals(unavailable));

    int aborted = 0;
    for (int i = 0; i < 20; i++) {
      if (rating("jason").equals(unavailable)) {
        aborted++;
      }
    }
    assertThat(aborted).as("jason's ratings aborted, of 20").isEqualTo(20);
    assertThat(reviews("jason")).isEqualTo("reviews v2");
    assertThat(count("alice", 10)).containsOnlyKeys("reviews v1");
  }

  @Test
  @Order(6)
  void historyListsEveryRevisionAndRollbackRestoresOne() {
    LocalMesh.Answer history = mesh.meshlog("history", "vs", "reviews");
    assertThat(history.status()).as(history.body()).isZero();
    // 01, 02, 03, 04, 02 again: five revisions of reviews, by the actor the commands named.
    assertThat(history.body()).contains("CREATED", "UPDATED", "e2e").containsPattern("(?m)^5 ");

    LocalMesh.Answer rollback = mesh.meshlog("rollback", "vs", "reviews", "--to-revision", "1");
    assertThat(rollback.status()).as(rollback.body()).isZero();
    assertThat(rollback.body()).contains("rolled back to revision 1 (revision 6)");
    awaitEvery("jason", "reviews v1", 10);
    assertThat(mesh.meshlog("history", "vs", "reviews").body()).contains("rollback to 1");
  }

  @Test
  @Order(7)
  void reapplyingTheDefaultsChangesNothing() {
    LocalMesh.Answer again = mesh.meshlog("apply", "-f", "examples/bookinfo/");
    assertThat(again.status()).as(again.body()).isZero();
    assertThat(again.body()).contains("unchanged").doesNotContain("configured", "created");
  }

  @Test
  @Order(8)
  void proxyStatusShowsEveryProxySynced() {
    await().atMost(CONVERGED).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      LocalMesh.Answer status = mesh.meshlog("proxy-status");
      assertThat(status.status()).as(status.body()).isZero();
      List<String> rows = status.body().lines()
          .filter(l -> l.matches("^(bookinfo-gateway|productpage-v1|details-v1|reviews-v[123]"
              + "|ratings-v1) .*")).toList();
      assertThat(rows).hasSize(7).allMatch(l -> l.endsWith("SYNCED"), "every proxy SYNCED");
    });
  }

  @Test
  @Order(9)
  void graphShowsProductpageCallingReviews() {
    for (int i = 0; i < 20; i++) {
      reviews(null);
    }
    String graphApi = mesh.endpoints().path("telemetry").asText() + "api/v1/graph?window=15m";
    // The walkthrough's requests so far and these 20 all went productpage → reviews.
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2))
        .untilAsserted(() -> {
          long requests = 0;
          for (JsonNode e : JSON.readTree(mesh.get(graphApi).body()).path("edges")) {
            if (e.path("source").path("service").asText().equals("productpage")
                && e.path("destination").path("service").asText().equals("reviews")) {
              requests += e.path("requests").asLong();
            }
          }
          assertThat(requests).as("productpage → reviews requests in the graph")
              .isGreaterThanOrEqualTo(20);
        });
  }

  @Test
  @Order(100)
  void ctrlCStopsEveryProcessItStarted() throws Exception {
    assertThat(started).hasSizeGreaterThanOrEqualTo(15);

    mesh.interrupt();

    assertThat(mesh.process().waitFor(90, TimeUnit.SECONDS)).as(mesh.output()).isTrue();
    assertThat(mesh.process().exitValue()).as(mesh.output()).isZero();
    assertThat(mesh.output()).contains("stopped kafka");
    assertThat(started).noneMatch(ProcessHandle::isAlive);
    JsonNode pids = mesh.endpoints().path("processes");
    pids.fields().forEachRemaining(e -> assertThat(ProcessHandle.of(e.getValue().asLong())
        .map(ProcessHandle::isAlive)).as(e.getKey()).isNotEqualTo(java.util.Optional.of(true)));
  }
}
