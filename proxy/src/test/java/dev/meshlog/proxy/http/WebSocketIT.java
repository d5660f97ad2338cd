package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.allTo;
import static dev.meshlog.proxy.support.Views.sidecarEndpoint;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;

import dev.meshlog.proxy.Sidecar;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * WebSockets through two sidecars, as Istio carries them by default: the app's client upgrades
 * through its sidecar, reviews' sidecar and its app, messages go both ways, and an app that
 * refuses the upgrade is answered with its refusal.
 */
class WebSocketIT {

  private TestMesh mesh;
  private Sidecar client;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    HttpServer app = mesh.vertx.createHttpServer()
        .webSocketHandshakeHandler(h -> {
          if (h.path().equals("/refused")) {
            h.reject(403);
          } else {
            h.accept();
          }
        })
        .webSocketHandler(ws -> ws.textMessageHandler(m -> ws.writeTextMessage("echo " + m
            + " on " + ws.path() + " from " + ws.headers().get("x-meshlog-peer"))));
    int appPort = app.listen(0, "127.0.0.1").await().actualPort();
    Sidecar server = mesh.serverSidecar("reviews", "v1", "zone-a", appPort);
    client = mesh.clientSidecar(allTo("reviews", "v1",
        sidecarEndpoint("reviews", "v1", server.inboundPort())));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  private Future<WebSocket> connect(WebSocketClient ws, String path) {
    return ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1")
        .setPort(client.outboundPort()).setURI(path).addHeader("host", "reviews:9080"));
  }

  @Test
  void carriesAWebSocketBothWaysThroughTwoSidecars() throws Exception {
    WebSocketClient ws = mesh.vertx.createWebSocketClient();
    Promise<String> replies = Promise.promise();
    StringBuilder got = new StringBuilder();
    WebSocket socket = connect(ws, "/chat").await(10, TimeUnit.SECONDS);
    socket.textMessageHandler(m -> {
      got.append(m).append('\n');
      if (got.toString().contains("two")) {
        replies.tryComplete(got.toString());
      }
    });
    socket.writeTextMessage("one");
    socket.writeTextMessage("two");

    assertThat(replies.future().await(10, TimeUnit.SECONDS))
        .isEqualTo("echo one on /chat from null\necho two on /chat from null\n");
    socket.close().await(10, TimeUnit.SECONDS);
    AccessLogEntry outbound = mesh.log.await(e -> "outbound".equals(e.direction()));
    assertThat(outbound.status()).isEqualTo(101);
    assertThat(outbound.path()).isEqualTo("/chat");
    assertThat(mesh.log.await(e -> "inbound".equals(e.direction())).status()).isEqualTo(101);
  }

  @Test
  void passesAnAppsRefusalOfTheUpgradeBack() {
    WebSocketClient ws = mesh.vertx.createWebSocketClient();

    Throwable refused = connect(ws, "/refused").map(w -> (Throwable) null)
        .otherwise(t -> t).await();

    assertThat(refused).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) refused).getStatus()).isEqualTo(403);
  }
}
