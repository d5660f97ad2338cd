package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.http.TestMesh.eventually;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.proxy.Sidecar;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy's own HTTP/1.1 upstream pool against raw-socket upstreams on loopback that
 * misbehave the ways real servers do: closing idle connections, answering
 * {@code Connection: close} or HTTP/1.0, conflicting framing, interim responses, stalled and
 * flooding bodies. Each test talks to a client sidecar whose endpoint is the raw upstream.
 */
class Http1PoolIT {

  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

  private TestMesh mesh;
  private RawUpstream upstream;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
  }

  @AfterEach
  void stop() throws IOException {
    mesh.close();
    if (upstream != null) {
      upstream.close();
      assertThat(upstream.failures).isEmpty();
    }
  }

  private Sidecar sidecarTo(RawUpstream.Script script) throws IOException {
    upstream = new RawUpstream(script);
    ServiceView books = view("books").setEndpoints(List.of(Endpoint.newBuilder()
        .setInstanceId("books-1").setAddress("127.0.0.1").setPort(upstream.port())
        .setHealth(EndpointHealth.HEALTHY).build())).build();
    Sidecar s = mesh.clientSidecar(books);
    assertThat(s.runtime().upstreams().kind()).isEqualTo(UpstreamClients.Kind.NETTY);
    return s;
  }

  /** A client sidecar whose one route to the raw upstream has a 200 ms timeout. */
  private Sidecar sidecarWithRouteTimeoutTo(RawUpstream.Script script) throws IOException {
    upstream = new RawUpstream(script);
    ServiceView books = view("books").setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("books-1").setAddress("127.0.0.1").setPort(upstream.port())
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setHttpRoutes(List.of(dev.meshlog.events.discovery.HttpRoute.newBuilder()
            .setName("slow").setTimeoutMillis(200L)
            .setDestinations(List.of(dev.meshlog.events.discovery.RouteDestination.newBuilder()
                .setWeight(100).setDestination(dev.meshlog.events.discovery.Destination
                    .newBuilder().setHost(dev.meshlog.proxy.support.Views.host("books"))
                    .build()).build())).build())).build();
    return mesh.clientSidecar(books);
  }

  @Test
  void closesTheConnectionOfATryThatTimedOutBeforeItsResponse() throws IOException {
    Sidecar s = sidecarWithRouteTimeoutTo((c, i) -> {
      upstream.nextRequest(c);
      // No answer: the route's timeout must give the connection up (HTTP/1.1 cannot cancel).
      c.awaitEof();
    });

    TestMesh.Response r = get(s, "stalled");

    assertThat(r.status()).isEqualTo(504);
    assertThat(mesh.log.await("outbound", "stalled").flags()).containsExactly(ResponseFlag.UT);
    eventually(() -> assertThat(upstream.connections.get(0).sawEof).isTrue());
  }

  @Test
  void theRouteTimeoutCutsAResponseWhoseBodyDoesNotEndInTime() throws IOException {
    Sidecar s = sidecarWithRouteTimeoutTo((c, i) -> {
      upstream.nextRequest(c);
      // The head and a tenth of the body, then nothing: the route's timeout covers the whole
      // response (Envoy's), so the proxy must not wait for the rest.
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
      c.awaitEof();
    });

    java.util.concurrent.CompletableFuture<TestMesh.Response> call =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> get(s, "trickle"));

    // the caller sees its connection closed before the body's end: not a complete response
    await().atMost(Duration.ofSeconds(10)).until(call::isDone);
    assertThat(call).isCompletedExceptionally();
    AccessLogEntry e = mesh.log.await("outbound", "trickle");
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.flags()).containsExactly(ResponseFlag.UT);
    eventually(() -> assertThat(upstream.connections.get(0).sawEof).isTrue());
  }

  /** Answers every request on the connection with {@code response}, keeping it open. */
  private RawUpstream.Script answering(String response) {
    return (c, i) -> {
      while (upstream.nextRequest(c) != null) {
        c.write(response);
      }
    };
  }

  private TestMesh.Response get(Sidecar s, String requestId) {
    return mesh.get(s.outboundPort(), "books", "/", "x-request-id", requestId);
  }

  @Test
  void reusesOneKeepAliveConnectionForRequestsInTurn() throws IOException {
    Sidecar s = sidecarTo(answering(OK));

    for (int i = 0; i < 5; i++) {
      assertThat(get(s, "r" + i).body()).isEqualTo("ok");
    }

    assertThat(upstream.accepted).hasValue(1);
  }

  @Test
  void sendsAGetAgainOnANewConnectionWhenAReusedOneClosesUnderIt() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      if (i == 0) {
        upstream.nextRequest(c);
        c.write(OK);
        // The next request arrives on a connection this server is done with: close unanswered.
        upstream.nextRequest(c);
        c.close();
        return;
      }
      while (upstream.nextRequest(c) != null) {
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo");
      }
    });

    assertThat(get(s, "first").body()).isEqualTo("ok");
    TestMesh.Response second = get(s, "second");

    assertThat(second.status()).isEqualTo(200);
    assertThat(second.body()).isEqualTo("two");
    assertThat(upstream.accepted).hasValue(2);
    AccessLogEntry e = mesh.log.await("outbound", "second");
    assertThat(e.flags()).isEmpty();
    assertThat(e.attempts()).isEqualTo(1);
  }

  @Test
  void doesNotSendAPostAgainWhenAReusedConnectionClosesUnderIt() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write(OK);
      upstream.nextRequest(c);
      c.close();
    });

    assertThat(get(s, "first").status()).isEqualTo(200);
    TestMesh.Response post = mesh.send(s.outboundPort(), HttpMethod.POST, "books", "/",
        Buffer.buffer("order 66"), "x-request-id", "post");

    assertThat(post.status()).isEqualTo(503);
    assertThat(mesh.log.await("outbound", "post").flags()).containsExactly(ResponseFlag.UC);
    assertThat(upstream.accepted).hasValue(1);
  }

  @Test
  void opensANewConnectionAfterTheUpstreamClosedAnIdleOne() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write(OK);
      c.close();
    });

    assertThat(get(s, "a").body()).isEqualTo("ok");
    eventually(() -> assertThat(upstream.connections.get(0).socket.isClosed()).isTrue());
    assertThat(get(s, "b").body()).isEqualTo("ok");

    assertThat(upstream.accepted).hasValue(2);
  }

  @Test
  void doesNotReuseAConnectionAnsweredWithConnectionClose() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
      c.awaitEof();
    });

    for (int i = 0; i < 3; i++) {
      assertThat(get(s, "c" + i).body()).isEqualTo("ok");
    }

    assertThat(upstream.accepted).hasValue(3);
    eventually(() -> assertThat(upstream.connections).allMatch(c -> c.sawEof));
  }

  @Test
  void readsAnHttp10ResponseUntilTheUpstreamCloses() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from 1.0");
      c.close();
    });

    assertThat(get(s, "h1").body()).isEqualTo("hello from 1.0");
    assertThat(get(s, "h2").body()).isEqualTo("hello from 1.0");

    assertThat(upstream.accepted).hasValue(2);
  }

  @Test
  void resetsAResponseWithBothContentLengthAndTransferEncoding() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n0\r\n\r\n");
      c.awaitEof();
    });

    TestMesh.Response r = get(s, "smuggle");

    assertThat(r.status()).isEqualTo(502);
    assertThat(r.body()).doesNotContain("hello").contains("protocol error");
    assertThat(mesh.log.await("outbound", "smuggle").flags()).containsExactly(ResponseFlag.UPE);
    eventually(() -> assertThat(upstream.connections.get(0).sawEof).isTrue());
  }

  @Test
  void aMalformedChunkAfterTheResponseHeadIs502WithUpe() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      c.write("zz\r\nhello\r\n0\r\n\r\n");
      c.awaitEof();
    });

    TestMesh.Response r = get(s, "bad-chunk");

    // Nothing of the body reached the caller: Envoy's local 502, not a cut 200.
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.body()).isEqualTo(ProxyExchange.RESET_BEFORE_HEADERS + "protocol error");
    assertThat(mesh.log.await("outbound", "bad-chunk").flags()).containsExactly(ResponseFlag.UPE);
    eventually(() -> assertThat(upstream.connections.get(0).sawEof).isTrue());
  }

  @Test
  void resetsAResponseWithTwoContentLengths() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nhello");
      c.awaitEof();
    });

    assertThat(get(s, "two-lengths").status()).isEqualTo(502);
    assertThat(mesh.log.await("outbound", "two-lengths").flags())
        .containsExactly(ResponseFlag.UPE);
  }

  @Test
  void aResponseHeadWhoseConnectionClosesBeforeAnyBodyIs503NotASilentClose() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nx-app: yes\r\n\r\n");
      c.close();
    });

    TestMesh.Response r = get(s, "head-only");

    // The head goes to the caller with the first body bytes: none came, so nothing was sent.
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.header("x-app")).isNull();
    assertThat(mesh.log.await("outbound", "head-only").flags()).containsExactly(ResponseFlag.UC);
  }

  @Test
  void anAnswerThatIsNotHttpIs502UpeAndAGatewayErrorToOutlierDetection() throws IOException {
    upstream = new RawUpstream((c, i) -> {
      upstream.nextRequest(c);
      c.write("SSH-2.0-OpenSSH_9.6\r\n");
      c.awaitEof();
    });
    // Two gateway errors eject the only endpoint: the third request finds no healthy one.
    Sidecar s = mesh.clientSidecar(view("books").setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("books-1").setAddress("127.0.0.1").setPort(upstream.port())
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setTrafficPolicy(dev.meshlog.events.discovery.TrafficPolicy.newBuilder()
            .setOutlierDetection(dev.meshlog.events.discovery.OutlierDetection.newBuilder()
                .setConsecutiveGatewayErrors(2).setConsecutive5xxErrors(0)
                .setBaseEjectionTimeMillis(30_000).setMaxEjectionPercent(100).build())
            .build())
        .build());

    TestMesh.Response first = get(s, "ssh-1");
    assertThat(first.status()).isEqualTo(502);
    assertThat(first.body()).contains("reset reason: protocol error");
    assertThat(mesh.log.await("outbound", "ssh-1").flags()).containsExactly(ResponseFlag.UPE);
    assertThat(get(s, "ssh-2").status()).isEqualTo(502);

    assertThat(get(s, "ssh-3").status()).isEqualTo(503);
    assertThat(mesh.log.await("outbound", "ssh-3").flags()).containsExactly(ResponseFlag.UH);
    assertThat(upstream.accepted).hasValue(2);
  }

  @Test
  void retriesAProtocolErrorWhenTheRouteRetriesResets() throws IOException {
    upstream = new RawUpstream((c, i) -> {
      upstream.nextRequest(c);
      c.write(i == 0 ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nhello"
          : OK);
      c.awaitEof();
    });
    Sidecar s = mesh.clientSidecar(view("books").setEndpoints(List.of(Endpoint.newBuilder()
            .setInstanceId("books-1").setAddress("127.0.0.1").setPort(upstream.port())
            .setHealth(EndpointHealth.HEALTHY).build()))
        .setHttpRoutes(List.of(dev.meshlog.events.discovery.HttpRoute.newBuilder()
            .setName("retry").setRetries(dev.meshlog.events.discovery.RetryPolicy.newBuilder()
                .setAttempts(1).setRetryOn(List.of("reset")).setBackoffBaseMillis(1)
                .setBackoffMaxMillis(2).build())
            .setDestinations(List.of(dev.meshlog.events.discovery.RouteDestination.newBuilder()
                .setWeight(100).setDestination(dev.meshlog.events.discovery.Destination
                    .newBuilder().setHost(dev.meshlog.proxy.support.Views.host("books"))
                    .build()).build())).build()))
        .build());

    TestMesh.Response r = get(s, "retried");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("ok");
    AccessLogEntry e = mesh.log.await("outbound", "retried");
    assertThat(e.attempts()).isEqualTo(2);
    assertThat(e.flags()).isEmpty();
  }

  @Test
  void passesHead204And304WithoutBodiesAndKeepsTheConnection() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      List<String> req;
      while ((req = upstream.nextRequest(c)) != null) {
        String path = req.get(0).split(" ")[1];
        switch (path) {
          case "/head" -> c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
          case "/204" -> c.write("HTTP/1.1 204 No Content\r\n\r\n");
          case "/304" -> c.write("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
          default -> c.write(OK);
        }
      }
    });

    TestMesh.Response head = mesh.send(s.outboundPort(), HttpMethod.HEAD, "books", "/head", null);
    assertThat(head.status()).isEqualTo(200);
    assertThat(head.header("content-length")).isEqualTo("100");
    assertThat(mesh.get(s.outboundPort(), "books", "/204").status()).isEqualTo(204);
    TestMesh.Response notModified = mesh.get(s.outboundPort(), "books", "/304");
    assertThat(notModified.status()).isEqualTo(304);
    assertThat(notModified.header("etag")).isEqualTo("\"x\"");
    assertThat(mesh.get(s.outboundPort(), "books", "/").body()).isEqualTo("ok");

    assertThat(upstream.accepted).hasValue(1);
  }

  @Test
  void passesAChunkedResponseWrittenInPiecesWholeAndKeepsTheConnection() throws IOException {
    // The last piece leaves with the response's end in one write; earlier pieces as they come.
    Sidecar s = sidecarTo((c, i) -> {
      while (upstream.nextRequest(c) != null) {
        c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        c.write("5\r\nhello\r\n");
        c.write("6\r\n world\r\n");
        c.write("1\r\n!\r\n0\r\n\r\n");
      }
    });

    for (int i = 0; i < 2; i++) {
      TestMesh.Response r = get(s, "chunked-" + i);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("hello world!");
    }

    assertThat(upstream.accepted).hasValue(1);
  }

  @Test
  void skipsAnInterimResponseBeforeTheFinalOne() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      while (upstream.nextRequest(c) != null) {
        c.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + OK);
      }
    });

    TestMesh.Response r = get(s, "hints");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("ok");
    assertThat(get(s, "after").body()).isEqualTo("ok");
    assertThat(upstream.accepted).hasValue(1);
  }

  @Test
  void sendsAChunkedRequestBodyChunked() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      List<String> req;
      while ((req = c.readHead()) != null) {
        String te = RawUpstream.header(req, "transfer-encoding");
        byte[] body = c.readBody(req);
        String answer = te + " " + new String(body, StandardCharsets.UTF_8);
        c.write("HTTP/1.1 200 OK\r\nContent-Length: " + answer.length() + "\r\n\r\n" + answer);
      }
    });

    try (Socket client = new Socket(InetAddress.getLoopbackAddress(), s.outboundPort())) {
      client.getOutputStream().write(("POST / HTTP/1.1\r\nHost: books\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      RawUpstream.Conn reply = new RawUpstream.Conn(client);
      List<String> head = reply.readHead();
      assertThat(head.get(0)).startsWith("HTTP/1.1 200");
      assertThat(new String(reply.readBody(head), StandardCharsets.UTF_8))
          .isEqualTo("chunked hello world");
    }
  }

  @Test
  void sendsFixedLengthBodiesWholeOnOneKeptConnection() throws IOException {
    // A body read with its head is held while the try's writes are corked and goes upstream
    // with its end as one message; the upstream must still see exactly Content-Length bytes.
    Sidecar s = sidecarTo((c, i) -> {
      List<String> req;
      while ((req = c.readHead()) != null) {
        String answer = RawUpstream.header(req, "content-length") + " "
            + new String(c.readBody(req), StandardCharsets.UTF_8);
        c.write("HTTP/1.1 200 OK\r\nContent-Length: " + answer.length() + "\r\n\r\n" + answer);
      }
    });

    for (int i = 0; i < 3; i++) {
      String body = "body-" + i + "-" + "x".repeat(1000 * i);
      TestMesh.Response r = mesh.send(s.outboundPort(), HttpMethod.POST, "books", "/",
          Buffer.buffer(body));
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(body.length() + " " + body);
    }

    assertThat(upstream.accepted).hasValue(1);
  }

  @Test
  void sendsAFixedLengthBodyThatArrivesInPiecesWholeAndKeepsTheConnection() throws IOException {
    // The piece that completes Content-Length goes upstream as the request's end: every piece
    // before it must still go out, and the connection must carry the next request.
    Sidecar s = sidecarTo((c, i) -> {
      List<String> req;
      while ((req = c.readHead()) != null) {
        String answer = new String(c.readBody(req), StandardCharsets.UTF_8);
        c.write("HTTP/1.1 200 OK\r\nContent-Length: " + answer.length() + "\r\n\r\n" + answer);
      }
    });

    try (Socket client = new Socket(InetAddress.getLoopbackAddress(), s.outboundPort())) {
      client.setTcpNoDelay(true);
      client.setSoTimeout(10_000);
      java.io.OutputStream out = client.getOutputStream();
      RawUpstream.Conn reply = new RawUpstream.Conn(client);
      for (int r = 0; r < 2; r++) {
        String[] pieces = {"first-" + r + "-", "x".repeat(3000), "-last"};
        int length = 0;
        for (String p : pieces) {
          length += p.length();
        }
        out.write(("POST / HTTP/1.1\r\nHost: books\r\nContent-Length: " + length + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        for (String p : pieces) {
          out.write(p.getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        }
        List<String> head = reply.readHead();
        assertThat(head.get(0)).startsWith("HTTP/1.1 200");
        assertThat(new String(reply.readBody(head), StandardCharsets.UTF_8))
            .isEqualTo(String.join("", pieces));
      }
    }

    assertThat(upstream.accepted).hasValue(1);
  }

  @Test
  void closesTheUpstreamConnectionWhenTheCallerLeavesMidBody() throws IOException {
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + "x".repeat(100));
      // The rest never comes: the body stalls until the proxy gives up the connection.
      c.awaitEof();
    });

    try (Socket client = new Socket(InetAddress.getLoopbackAddress(), s.outboundPort())) {
      client.getOutputStream().write("GET / HTTP/1.1\r\nHost: books\r\nx-request-id: gone\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      RawUpstream.Conn reply = new RawUpstream.Conn(client);
      assertThat(reply.readHead().get(0)).startsWith("HTTP/1.1 200");
      assertThat(reply.in.readNBytes(100)).hasSize(100);
    }

    eventually(() -> assertThat(upstream.connections.get(0).sawEof).isTrue());
    assertThat(mesh.log.await("outbound", "gone").flags()).contains(ResponseFlag.DC);
  }

  @Test
  void readsAFloodingUpstreamNoFasterThanTheCallerReads() throws IOException {
    long total = 64L << 20;
    int chunk = 16 << 10;
    AtomicLong written = new AtomicLong();
    Sidecar s = sidecarTo((c, i) -> {
      upstream.nextRequest(c);
      c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      byte[] data = new byte[chunk];
      for (int k = 0; k < chunk; k++) {
        data[k] = (byte) (k % 251);
      }
      byte[] size = (Integer.toHexString(chunk) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
      byte[] crlf = "\r\n".getBytes(StandardCharsets.ISO_8859_1);
      OutputStream out = c.out;
      for (long sent = 0; sent < total; sent += chunk) {
        out.write(size);
        out.write(data);
        out.write(crlf);
        written.addAndGet(chunk);
      }
      c.write("0\r\n\r\n");
      upstream.nextRequest(c);
    });

    try (Socket client = new Socket()) {
      client.setReceiveBufferSize(64 << 10);
      client.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(),
          s.outboundPort()));
      client.getOutputStream().write("GET / HTTP/1.1\r\nHost: books\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      RawUpstream.Conn reply = new RawUpstream.Conn(client);
      List<String> head = reply.readHead();
      assertThat(head.get(0)).startsWith("HTTP/1.1 200");

      // The caller reads nothing now: the upstream must come to a stop well before the end,
      // held back by the proxy not reading (socket buffers take a few MB at most).
      AtomicLong last = new AtomicLong(-1);
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
          .until(() -> {
            long now = written.get();
            return now > 0 && now == last.getAndSet(now);
          });
      assertThat(written.get()).isLessThan(total / 2);

      // Then everything arrives, intact.
      assertThat(readChunkedChecked(reply.in, chunk)).isEqualTo(total);
    }
  }

  /** Reads a chunked body, checking the upstream's byte pattern; returns its length. */
  private static long readChunkedChecked(InputStream in, int patternLength) throws IOException {
    long n = 0;
    while (true) {
      String size = line(in);
      int len = Integer.parseInt(size.trim(), 16);
      if (len == 0) {
        line(in);
        return n;
      }
      byte[] b = in.readNBytes(len);
      assertThat(b).hasSize(len);
      for (byte x : b) {
        if (x != (byte) ((n % patternLength) % 251)) {
          throw new AssertionError("byte " + n + " is " + x);
        }
        n++;
      }
      line(in);
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      if (b != '\r') {
        sb.append((char) b);
      }
    }
    return sb.toString();
  }

  @Test
  void closesPooledConnectionsWhenTheSidecarCloses() throws IOException {
    Sidecar s = sidecarTo(answering(OK));

    assertThat(get(s, "before-close").body()).isEqualTo("ok");
    s.close().await();

    eventually(() -> assertThat(upstream.connections.get(0).sawEof).isTrue());
  }
}
