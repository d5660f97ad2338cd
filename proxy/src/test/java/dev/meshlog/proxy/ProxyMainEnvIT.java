package dev.meshlog.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The proxy configured by environment variables only, as in a container: a child process. */
class ProxyMainEnvIT {

  private static final Pattern PORTS = Pattern.compile(
      "meshlog-proxy (\\S+) outbound=\\S+:(\\d+) inbound=\\S+:(\\d+) admin=\\S+:(\\d+)");

  private final Vertx vertx = Vertx.vertx();
  private final HttpClientAgent http = vertx.createHttpClient();
  private Process process;

  @TempDir
  Path dir;

  @AfterEach
  void stop() throws Exception {
    if (process != null) {
      process.destroy();
      process.waitFor();
    }
    vertx.close().await();
  }

  private String get(int port, String host, String path) {
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
            .setPort(port).setURI(path).putHeader("host", host))
        .compose(r -> r.send().compose(resp -> resp.body()
            .map(b -> resp.statusCode() + " " + b)))
        .await();
  }

  @Test
  void takesEveryFlagFromItsEnvironmentVariable() throws Exception {
    int app = vertx.createHttpServer().requestHandler(req -> req.response().end("ratings app"))
        .listen(0, "127.0.0.1").await().actualPort();
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin",
        "java").toString(), "-cp", System.getProperty("java.class.path"),
        ProxyMain.class.getName());
    pb.environment().putAll(Map.of(
        "MESHLOG_SERVICE", "ratings",
        "MESHLOG_NAMESPACE", "shop",
        "MESHLOG_VERSION", "v3",
        "MESHLOG_APP_PORT", Integer.toString(app),
        "MESHLOG_INBOUND_PORT", "0",
        "MESHLOG_OUTBOUND_PORT", "0",
        "MESHLOG_ADMIN_PORT", "0",
        "MESHLOG_INBOUND_BIND", "127.0.0.1",
        "MESHLOG_LABELS", "team=books,tier=gold",
        "MESHLOG_SNAPSHOT_FILE", dir.resolve("ratings.views").toString()));
    pb.environment().put("MESHLOG_DRAIN", "0s");
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    process = pb.start();
    List<String> out = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        r.lines().forEach(out::add);
      } catch (java.io.IOException e) {
        // the process ended
      }
    });
    reader.setDaemon(true);
    reader.start();

    Matcher ports = await().atMost(Duration.ofSeconds(30)).until(() -> out.stream()
        .map(PORTS::matcher).filter(Matcher::find).findFirst().orElse(null),
        java.util.Objects::nonNull);

    assertThat(ports.group(1)).startsWith("ratings-v3-");
    int inbound = Integer.parseInt(ports.group(3));
    int admin = Integer.parseInt(ports.group(4));
    assertThat(get(inbound, "ratings.shop", "/ratings/1")).isEqualTo("200 ratings app");
    JsonObject proxy = new JsonObject(get(admin, "localhost", "/config_dump").substring(4))
        .getJsonObject("proxy");
    assertThat(proxy.getString("workload")).isEqualTo("ratings-v3");
    assertThat(proxy.getString("namespace")).isEqualTo("shop");
    assertThat(proxy.getJsonObject("labels").getMap()).containsEntry("team", "books")
        .containsEntry("tier", "gold").containsEntry("version", "v3");
  }
}
