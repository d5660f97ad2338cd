package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import dev.meshlog.proxy.Sidecar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Clients that ask for an HTTP/1.1 → h2c upgrade — the JDK's {@code HttpClient} does on every
 * new {@code http://} connection by default — get their whole answer in HTTP/1.1: the proxy's
 * listeners refuse the upgrade (Vert.x's upgrade path sent part of large bodies unframed after
 * its {@code 101}; see {@code HeaderDeadline}). Here with no header deadline, as in
 * {@link TestMesh}; {@code HeaderDeadlineIT} checks it with one.
 */
class H2cUpgradeIT {

  private static final String BIG = "0123456789abcdef".repeat(4 * 1024); // 64 KiB

  private TestMesh mesh;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  @Test
  void answersEveryUpgradeRequestInHttp11WithItsWholeBody() throws Exception {
    Sidecar reviews = mesh.serverSidecar("reviews", "v1", "zone-a",
        mesh.backend(req -> req.response().putHeader("content-type", "text/plain").end(BIG)));
    URI uri = URI.create("http://127.0.0.1:" + reviews.inboundPort() + "/big");

    for (int i = 0; i < 50; i++) {
      // a new client each time: a new connection, whose first request asks for the upgrade
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri)
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());

      assertThat(r.version()).as("request %d", i).isEqualTo(HttpClient.Version.HTTP_1_1);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).as("request %d", i).isEqualTo(BIG);
    }
  }
}
