package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.http.TestMesh.eventually;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.proxy.Sidecar;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** While a proxy drains, its responses send callers elsewhere: HTTP/1 closes, HTTP/2 goes away. */
class DrainIT {

  private TestMesh mesh;
  private Sidecar client;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    int app = mesh.namedBackend("books");
    client = mesh.clientSidecar(view("books").setEndpoints(List.of(Endpoint.newBuilder()
        .setInstanceId("books-1").setAddress("127.0.0.1").setPort(app)
        .setHealth(EndpointHealth.HEALTHY).build())).build());
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  /** Sends one keep-alive request and reads until the proxy closes the connection. */
  private static String untilClosed(int port) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: books\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      return all.toString(StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void keepsHttp11ConnectionsOpenUntilDraining() {
    TestMesh.Response r = mesh.get(client.outboundPort(), "books", "/");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("connection")).isNull();
  }

  @Test
  void answersWithConnectionCloseAndClosesWhileDraining() throws Exception {
    client.runtime().drain().set(true);

    String response = untilClosed(client.outboundPort());

    assertThat(response).startsWith("HTTP/1.1 200").containsIgnoringCase("connection: close")
        .endsWith("books");
  }

  @Test
  void sendsGoAwayOnHttp2ConnectionsWhileDraining() {
    HttpClientAgent h2c = mesh.vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    AtomicBoolean goneAway = new AtomicBoolean();
    client.runtime().drain().set(true);

    int status = h2c.request(new RequestOptions().setHost("127.0.0.1")
            .setPort(client.outboundPort()).setURI("/").putHeader("x-request-id", "d-2"))
        .compose(r -> {
          HttpConnection c = r.connection();
          c.goAwayHandler(g -> goneAway.set(true));
          r.authority(HostAndPort.create("books", 80));
          return r.send().compose(resp -> resp.body().map(b -> resp.statusCode()));
        })
        .await();

    assertThat(status).isEqualTo(200);
    eventually(() -> assertThat(goneAway).isTrue());
  }
}
