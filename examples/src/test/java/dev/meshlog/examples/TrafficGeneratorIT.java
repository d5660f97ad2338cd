package dev.meshlog.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The traffic generator against a real server on loopback. */
class TrafficGeneratorIT {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void sendsToTheTargetCyclingTheUsersAndCountsAnswers() {
    List<String> users = new CopyOnWriteArrayList<>();
    int port = vertx.createHttpServer().requestHandler(r -> {
      users.add(r.getHeader("end-user"));
      r.response().setStatusCode(users.size() % 2 == 0 ? 503 : 200).end();
    }).listen(0, "127.0.0.1").await().actualPort();
    TrafficGenerator traffic = new TrafficGenerator(vertx, vertx.createHttpClient(),
        "http://127.0.0.1:" + port + "/productpage", 50, List.of("jason", "alice"));

    traffic.start();
    await().atMost(Duration.ofSeconds(20)).until(() -> traffic.stats().getLong("sent") >= 6);
    traffic.stop();
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      JsonObject s = traffic.stats();
      return s.getLong("ok") + s.getLong("serverErrors") + s.getLong("failed") == s.getLong("sent");
    });

    // Requests in flight together may arrive in any order; the cycle shows in the counts.
    long jason = users.stream().filter("jason"::equals).count();
    long alice = users.stream().filter("alice"::equals).count();
    assertThat(users).hasSize((int) traffic.stats().getLong("sent").longValue())
        .containsOnly("jason", "alice");
    assertThat(jason - alice).isBetween(0L, 1L);
    JsonObject stats = traffic.stats();
    assertThat(stats.getLong("serverErrors")).isPositive();
    assertThat(stats.getString("lastError")).isEqualTo("HTTP 503");
  }

  @Test
  void rateZeroSendsNothing() {
    TrafficGenerator traffic = new TrafficGenerator(vertx, vertx.createHttpClient(),
        "http://127.0.0.1:1/", 0, List.of());

    traffic.start();

    assertThat(traffic.stats().getLong("sent")).isZero();
  }

  @Test
  void refusesABadTargetOrRate() {
    assertThatThrownBy(() -> new TrafficGenerator(vertx, vertx.createHttpClient(), "ftp://x/", 1,
        List.of())).hasMessageContaining("--target: ftp://x/ (expected: http://HOST:PORT/PATH)");
    assertThatThrownBy(() -> new TrafficGenerator(vertx, vertx.createHttpClient(),
        "http://127.0.0.1:1/", -1, List.of())).hasMessageContaining("--rate: -1.0");
  }
}
