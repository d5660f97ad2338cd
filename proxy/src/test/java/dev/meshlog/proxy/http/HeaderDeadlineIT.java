package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.meshlog.proxy.ProxyTransport;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The deadline for request headers (slowloris), on a raw socket against a sidecar whose Vert.x
 * is built as {@code ProxyMain} builds it, with a short deadline: headers trickling in a byte at
 * a time get 408 and a closed connection; headers sent at once are served; a keep-alive
 * connection idle between requests for longer than the deadline stays open; h2c with prior
 * knowledge is untouched, an h2c upgrade is answered in HTTP/1.1.
 */
class HeaderDeadlineIT {

  private static final Duration DEADLINE = Duration.ofMillis(400);

  private Vertx vertx;
  private Sidecar sidecar;
  private final ScheduledExecutorService trickler = Executors.newSingleThreadScheduledExecutor();

  @BeforeEach
  void start() {
    vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(2))
        .withTransport(new HeaderDeadlineTransport(ProxyTransport.choose(ProxyTransport.Kind.parse(
            System.getProperty("meshlog.test.transport", "auto"))), DEADLINE)).build();
    ProxyIdentity id = ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1");
    // No views: every request is answered 404 by the proxy itself, which is all we need.
    ProxyRuntime rt = new ProxyRuntime(vertx, Sidecar.newClient(vertx, 4),
        new SnapshotHolder(ProxySnapshot.empty(), id, Clock.systemUTC()), Clock.systemUTC(),
        ThreadLocalRandom::current, entry -> { },
        ListenerLimits.DEFAULT.withHeaderTimeout(DEADLINE), "cluster.local");
    sidecar = Sidecar.start(rt, Sidecar.Ports.loopback(0, 0, 1)).await();
  }

  @AfterEach
  void stop() {
    trickler.shutdownNow();
    vertx.close().await();
  }

  private Socket connect() throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), sidecar.outboundPort());
    s.setSoTimeout(10_000);
    return s;
  }

  /** Reads what arrives until {@code text} has been seen (or the stream ends). */
  private static String readUntil(InputStream in, String text) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[1024];
    while (!got.toString(StandardCharsets.ISO_8859_1).contains(text)) {
      int n = in.read(buf);
      if (n < 0) {
        break;
      }
      got.write(buf, 0, n);
    }
    return got.toString(StandardCharsets.ISO_8859_1);
  }

  private static void send(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** Writes {@code request} to {@code out} one byte every 100 ms; counts the bytes written. */
  private AtomicInteger trickle(OutputStream out, byte[] request) {
    AtomicInteger sent = new AtomicInteger();
    trickler.scheduleAtFixedRate(() -> {
      int i = sent.get();
      if (i < request.length) {
        try {
          out.write(request[i]);
          out.flush();
          sent.incrementAndGet();
        } catch (IOException closed) {
          throw new IllegalStateException(closed);
        }
      }
    }, 0, 100, TimeUnit.MILLISECONDS);
    return sent;
  }

  @Test
  void answers408AndClosesWhenHeadersTrickleInSlowerThanTheDeadline() throws Exception {
    byte[] request = "GET /slow HTTP/1.1\r\nhost: reviews\r\nx-a: b\r\n\r\n"
        .getBytes(StandardCharsets.US_ASCII);
    try (Socket s = connect()) {
      // One byte every 100 ms: the whole block would take about 4.5 s, the deadline is 0.4 s.
      AtomicInteger sent = trickle(s.getOutputStream(), request);

      String answer = readUntil(s.getInputStream(), "\u0000never");

      assertThat(answer).startsWith("HTTP/1.1 408 Request Timeout\r\n")
          .contains("connection: close")
          .endsWith("request headers not received within 400 ms");
      assertThat(sent.get()).isLessThan(request.length);
    }
  }

  @Test
  void answers408WhenTheNextRequestOnAKeepAliveConnectionTricklesIn() throws Exception {
    byte[] second = "GET /second HTTP/1.1\r\nhost: reviews\r\n\r\n"
        .getBytes(StandardCharsets.US_ASCII);
    try (Socket s = connect()) {
      send(s.getOutputStream(), "GET /first HTTP/1.1\r\nhost: reviews\r\n\r\n");
      assertThat(readUntil(s.getInputStream(), "no route")).startsWith("HTTP/1.1 404");
      AtomicInteger sent = trickle(s.getOutputStream(), second);

      String answer = readUntil(s.getInputStream(), "\u0000never");

      assertThat(answer).startsWith("HTTP/1.1 408 Request Timeout\r\n");
      assertThat(sent.get()).isLessThan(second.length);
    }
  }

  @Test
  void servesARequestWhoseHeadersArriveInTime() throws Exception {
    try (Socket s = connect()) {
      send(s.getOutputStream(), "GET /fast HTTP/1.1\r\nhost: reviews\r\n");
      send(s.getOutputStream(), "\r\n");

      assertThat(readUntil(s.getInputStream(), "no route")).startsWith("HTTP/1.1 404");
    }
  }

  @Test
  void leavesAKeepAliveConnectionIdleBetweenRequestsToTheIdleTimeout() throws Exception {
    try (Socket s = connect()) {
      send(s.getOutputStream(), "GET /first HTTP/1.1\r\nhost: reviews\r\n\r\n");
      assertThat(readUntil(s.getInputStream(), "no route")).startsWith("HTTP/1.1 404");

      // Twice the header deadline with no request in flight: nothing arrives, no 408.
      s.setSoTimeout((int) DEADLINE.multipliedBy(2).toMillis());
      boolean quiet;
      try {
        s.getInputStream().read();
        quiet = false;
      } catch (SocketTimeoutException expected) {
        quiet = true;
      }
      s.setSoTimeout(10_000);
      send(s.getOutputStream(), "GET /second HTTP/1.1\r\nhost: reviews\r\n\r\n");

      assertThat(quiet).isTrue();
      assertThat(readUntil(s.getInputStream(), "no route")).startsWith("HTTP/1.1 404");
    }
  }

  /** A GET through the sidecar over h2c (prior knowledge, or an HTTP/1.1 upgrade). */
  private HttpVersion h2cGet(boolean upgrade) {
    HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(upgrade));
    return client.request(new RequestOptions().setHost("127.0.0.1")
            .setPort(sidecar.outboundPort()).setURI("/h2c"))
        .compose(r -> {
          r.authority(HostAndPort.create("reviews", 80));
          return r.send();
        })
        .compose(r -> r.body().map(b -> {
          assertThat(r.statusCode()).isEqualTo(404);
          return r.version();
        }))
        .await();
  }

  @Test
  void letsH2cWithPriorKnowledgeThroughAndAnswersAnUpgradeInHttp11() {
    assertThat(h2cGet(false)).isEqualTo(HttpVersion.HTTP_2);
    // the upgrade is refused, as Envoy refuses it: the client stays on HTTP/1.1
    assertThat(h2cGet(true)).isEqualTo(HttpVersion.HTTP_1_1);
  }
}
