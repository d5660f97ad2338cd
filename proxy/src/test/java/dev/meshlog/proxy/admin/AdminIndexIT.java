package dev.meshlog.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.http.AccessLogEntry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admin port's index at {@code /}, on a real socket: one line per endpoint, made from the
 * handler's route table, every listed endpoint answers, and every route is listed.
 */
class AdminIndexIT {

  private record Answer(int status, String contentType, String body) { }

  private final Vertx vertx = Vertx.vertx();
  private AdminHandler admin;
  private HttpServer server;
  private HttpClientAgent client;

  @BeforeEach
  void start() {
    ProxyIdentity me = ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1");
    MeshMetrics metrics = new MeshMetrics(me, "cluster.local");
    // One request counted, so the metrics page has something to show.
    metrics.log(AccessLogEntry.malformedHttp2Stream(Instant.EPOCH, "outbound", "productpage-v1"));
    admin = new AdminHandler(new SnapshotHolder(ProxySnapshot.empty(), me, Clock.systemUTC()),
        metrics, () -> true, Clock.systemUTC(),
        () -> new JsonObject().put("outbound", 15001));
    server = vertx.createHttpServer().requestHandler(admin).listen(0, "127.0.0.1").await();
    client = vertx.createHttpClient();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private Answer get(String path, String accept) {
    RequestOptions o = new RequestOptions().setHost("127.0.0.1").setPort(server.actualPort())
        .setMethod(HttpMethod.GET).setURI(path);
    if (accept != null) {
      o.putHeader("accept", accept);
    }
    return client.request(o).compose(r -> r.send().compose(resp -> resp.body().map(b ->
        new Answer(resp.statusCode(), resp.getHeader("content-type"), b.toString()))))
        .await();
  }

  @Test
  void theIndexListsEveryRouteOneLineEachAndEachListedEndpointAnswers() {
    Answer index = get("/", null);

    assertThat(index.status()).isEqualTo(200);
    assertThat(index.contentType()).startsWith("text/plain");
    List<String> listed = new ArrayList<>();
    for (String line : index.body().split("\n")) {
      assertThat(line).matches("/[a-z_/]*: .+");
      listed.add(line.substring(0, line.indexOf(':')));
    }
    assertThat(listed).containsExactlyElementsOf(
        admin.routes().stream().map(AdminHandler.Route::path).toList());
    assertThat(listed).contains("/", "/ready", "/healthz", "/config_dump", "/clusters",
        "/listeners", "/stats/prometheus");
    for (String path : listed) {
      Answer a = get(path, null);
      assertThat(a.status()).as(path).isEqualTo(200);
      assertThat(a.body()).as(path).isNotEmpty();
    }
  }

  @Test
  void anUnknownPathIs404NamingTheSameEndpoints() {
    Answer a = get("/nope", null);

    assertThat(a.status()).isEqualTo(404);
    assertThat(a.body()).isEqualTo("unknown admin path /nope (expected: "
        + String.join(", ", admin.routes().stream().map(AdminHandler.Route::path).toList())
        + ")\n");
  }

  @Test
  void theIndexIsHtmlWithLinksWhenAskedFor() {
    Answer a = get("/", "text/html,application/xhtml+xml;q=0.9");

    assertThat(a.status()).isEqualTo(200);
    assertThat(a.contentType()).startsWith("text/html");
    for (AdminHandler.Route r : admin.routes()) {
      assertThat(a.body()).contains("<a href=\"" + r.path() + "\">" + r.path() + "</a>");
    }
  }
}
