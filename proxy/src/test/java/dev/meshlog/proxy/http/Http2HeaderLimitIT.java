package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.allTo;
import static dev.meshlog.proxy.support.Views.sidecarEndpoint;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ConcurrentLinkedQueue;

import dev.meshlog.proxy.Sidecar;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The 60 KiB header limit (Envoy's {@code max_request_headers_kb}, which Istio keeps) over h2c
 * with prior knowledge, HPACK-coded, through two sidecars: 50 KiB of headers reach an HTTP/2
 * app, more than 60 KiB are answered 431 on that stream by the first sidecar, and the connection
 * goes on serving. The oversized request is written by a raw HTTP/2 client whose encoder ignores
 * the proxy's {@code SETTINGS_MAX_HEADER_LIST_SIZE}, as a conforming client's would not.
 */
class Http2HeaderLimitIT {

  private TestMesh mesh;
  private Sidecar client;
  /** The x-big header of every request the app saw, with the version it came in. */
  private final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    int app = mesh.vertx.createHttpServer(new HttpServerOptions().setMaxHeaderSize(64 * 1024)
            .setInitialSettings(new Http2Settings().setMaxHeaderListSize(64 * 1024)))
        .requestHandler(req -> {
          String big = req.getHeader("x-big");
          seen.add(req.version() + " " + (big == null ? 0 : big.length()));
          req.response().end("ok");
        })
        .listen(0, "127.0.0.1").await().actualPort();
    Sidecar server = mesh.serverSidecar("reviews", "v1", "zone-a", app);
    client = mesh.clientSidecar(allTo("reviews", "v1",
        sidecarEndpoint("reviews", "v1", server.inboundPort())));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  @Test
  void fiftyKibOfHeadersReachAnHttp2AppThroughTwoSidecars() {
    HttpClientAgent h2c = mesh.vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
        .setInitialSettings(new Http2Settings().setMaxHeaderListSize(64 * 1024)));
    String big = "b".repeat(50 * 1024);

    int status = h2c.request(new RequestOptions().setHost("127.0.0.1")
            .setPort(client.outboundPort()).setMethod(HttpMethod.GET).setURI("/")
            .putHeader("x-big", big))
        .compose(r -> {
          r.authority(io.vertx.core.net.HostAndPort.create("reviews", 9080));
          return r.send().compose(resp -> resp.body().map(b -> resp.statusCode()));
        })
        .await();

    assertThat(status).isEqualTo(200);
    assertThat(seen).containsExactly("HTTP_2 " + big.length());
  }

  @Test
  void moreThanSixtyKibOfHeadersAre431AndTheConnectionGoesOn() throws Exception {
    try (RawH2 h2 = new RawH2(client.outboundPort())) {
      String tooBig = h2.get(1, "c".repeat(62 * 1024));
      String next = h2.get(3, "small");

      assertThat(tooBig).isEqualTo("431");
      assertThat(next).isEqualTo("200 ok");
    }
    assertThat(seen).containsExactly("HTTP_2 5");
  }
}
