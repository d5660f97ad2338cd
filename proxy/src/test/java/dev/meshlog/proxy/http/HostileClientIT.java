package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.allTo;
import static dev.meshlog.proxy.support.Views.match;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.sidecarEndpoint;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.meshlog.events.discovery.DirectResponse;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.proxy.Sidecar;
import io.vertx.core.MultiMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a hostile or careless HTTP/1.1 client writes on a raw socket to the app's sidecar, through
 * two proxies (the client's sidecar, then reviews' sidecar, then its app): framing the proxy does
 * not understand, authorities that are not one plain host, fragments, and headers that belong to
 * the mesh. Each is refused before anything is forwarded, or reaches the app cleaned, as Envoy
 * does it.
 */
class HostileClientIT {

  private TestMesh mesh;
  private Sidecar client;
  private Sidecar server;
  private Endpoint ep;
  /** The headers of every request the app saw. */
  private final ConcurrentLinkedQueue<MultiMap> seen = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    // The app takes headers as large as the proxy does (Vert.x's own default is 8 KiB).
    io.vertx.core.http.HttpServer appServer = mesh.vertx.createHttpServer(
        new io.vertx.core.http.HttpServerOptions().setMaxHeaderSize(64 * 1024));
    appServer.requestHandler(req -> {
      seen.add(MultiMap.caseInsensitiveMultiMap().addAll(req.headers()));
      if (req.uri().equals("/fail")) {
        // Answers before reading the body, as an app refusing an upload does.
        req.response().setStatusCode(500).end("app failed");
        return;
      }
      if (req.uri().equals("/answers-early")) {
        // Starts streaming its answer before it read the body, and never ends it.
        req.response().setChunked(true).write("part");
        return;
      }
      if (req.uri().equals("/big-answer")) {
        req.response().putHeader("x-big", "b".repeat(20_000));
      }
      req.body().onSuccess(b -> req.response().end("app saw " + req.uri() + " body=" + b));
    });
    int app = appServer.listen(0, "127.0.0.1").await().actualPort();
    server = mesh.serverSidecar("reviews", "v1", "zone-a", app);
    ep = sidecarEndpoint("reviews", "v1", server.inboundPort());
    client = mesh.clientSidecar(allTo("reviews", "v1", ep));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  /** Writes {@code request} on a new connection; returns all that comes back until it closes. */
  static String raw(int port, String request) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      for (int n; (n = in.read(buf)) > 0; ) {
        got.write(buf, 0, n);
      }
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private String send(String request) throws IOException {
    return raw(client.outboundPort(), request);
  }

  @Test
  void aChunkedBodyThatTurnsMalformedAfterItsHeadWasForwardedIs400WithDpe() throws Exception {
    String answer;
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), client.outboundPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /upload HTTP/1.1\r\nHost: reviews\r\nx-request-id: bad-body\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      // The head went through both sidecars to the app before the body broke.
      await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty());
      out.write("zz\r\nworld\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    // Envoy: a downstream protocol error before the response started is a local 400 (DPE),
    // the connection closed after it, the upstream request reset.
    assertThat(answer).startsWith("HTTP/1.1 400").containsIgnoringCase("connection: close")
        .contains("malformed request body");
    AccessLogEntry e = mesh.log.await("outbound", "bad-body");
    assertThat(e.status()).isEqualTo(400);
    assertThat(e.flags()).containsExactly(ResponseFlag.DPE);
    // The upstream try was given up: the destination's sidecar saw its caller go (DC), so the
    // app never got the body's end.
    assertThat(mesh.log.await("inbound", "bad-body").flags()).contains(ResponseFlag.DC);
  }

  @Test
  void aChunkedBodyThatTurnsMalformedAfterTheResponseStartedCutsTheResponseWithDpe()
      throws Exception {
    String answer;
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), client.outboundPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /answers-early HTTP/1.1\r\nHost: reviews\r\nx-request-id: bad-late\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[4096];
      while (!got.toString(StandardCharsets.ISO_8859_1).contains("part")) {
        int n = in.read(buf);
        assertThat(n).as("the app's first piece before the connection ends").isPositive();
        got.write(buf, 0, n);
      }
      out.write("zz\r\nworld\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      got.write(in.readAllBytes());
      answer = got.toString(StandardCharsets.ISO_8859_1);
    }

    // The caller's response had started: it is cut (no last chunk), as Envoy resets the stream.
    assertThat(answer).startsWith("HTTP/1.1 200").doesNotEndWith("0\r\n\r\n");
    AccessLogEntry e = mesh.log.await("outbound", "bad-late");
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.flags()).containsExactly(ResponseFlag.DPE);
  }

  @Test
  void refusesMoreHeaderLinesThanTheLimitWith431EvenWhenTheyShareOneName() throws Exception {
    String answer = send("GET / HTTP/1.1\r\nHost: reviews\r\n" + "x-a: 1\r\n".repeat(150)
        + "Connection: close\r\n\r\n");

    assertThat(answer).startsWith("HTTP/1.1 431").contains("too many headers");
    assertThat(seen).isEmpty();
  }

  @Test
  void refusesATransferCodingOtherThanChunkedWith501() throws Exception {
    // A gzip-coded body would reach the app decoded of its chunks but still gzipped, with no
    // Transfer-Encoding left to say so.
    String answer = send("POST / HTTP/1.1\r\nHost: reviews\r\nTransfer-Encoding: gzip, chunked"
        + "\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");

    assertThat(answer).startsWith("HTTP/1.1 501").contains("Transfer-Encoding: [gzip, chunked]");
    assertThat(seen).isEmpty();
  }

  @Test
  void refusesARequestWithoutHostWith400() throws Exception {
    assertThat(send("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 400").contains("Host");
    assertThat(seen).isEmpty();
  }

  @Test
  void refusesTwoHostHeadersWith400() throws Exception {
    assertThat(send("GET / HTTP/1.1\r\nHost: reviews\r\nHost: ratings\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 400").contains("Host");
    assertThat(seen).isEmpty();
  }

  @Test
  void refusesAnAuthorityWithUserinfoWith400() throws Exception {
    assertThat(send("GET / HTTP/1.1\r\nHost: user:pw@reviews\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 400").contains("userinfo");
    assertThat(send("GET http://user@reviews/ HTTP/1.1\r\nHost: reviews\r\n"
        + "Connection: close\r\n\r\n")).startsWith("HTTP/1.1 400").contains("userinfo");
    assertThat(seen).isEmpty();
  }

  @Test
  void refusesAPathWithAFragmentWith400() throws Exception {
    assertThat(send("GET /a#frag HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 400").contains("fragment");
    assertThat(seen).isEmpty();
  }

  @Test
  void keepsTheMeshHeadersFromTheAppAndTheCallersOwnOutOfThem() throws Exception {
    String answer = send("GET / HTTP/1.1\r\nHost: reviews\r\nx-meshlog-peer: prod/admin/v1/c1/z/"
        + "admin-v1\r\nx-meshlog-source-workload: admin-v1\r\nConnection: close\r\n\r\n");

    assertThat(answer).startsWith("HTTP/1.1 200");
    MultiMap h = seen.remove();
    assertThat(h.names()).noneMatch(n -> n.toLowerCase().startsWith("x-meshlog-"));
    // the destination's proxy still named the real caller
    AccessLogEntry inbound = mesh.log.await(e -> "inbound".equals(e.direction()));
    assertThat(inbound.sourceWorkload()).isEqualTo("productpage-v1");
    assertThat(inbound.sourcePeer()).startsWith("default/productpage/v1/");
  }

  @Test
  void dropsHopByHopHeadersAndThoseConnectionNames() throws Exception {
    String answer = send("GET / HTTP/1.1\r\nHost: reviews\r\nConnection: x-secret\r\n"
        + "x-secret: s\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: gzip\r\n"
        + "Upgrade: foo\r\nx-kept: k\r\n\r\nGET / HTTP/1.1\r\nHost: reviews\r\n"
        + "Connection: close\r\n\r\n");

    assertThat(answer).startsWith("HTTP/1.1 200");
    MultiMap h = seen.remove();
    assertThat(h.names()).map(String::toLowerCase).doesNotContain("x-secret", "keep-alive",
        "proxy-connection", "te", "upgrade").contains("x-kept");
  }

  @Test
  void closesTheConnectionWhenConnectionListsCloseAmongOtherTokens() throws Exception {
    // raw() reads until the proxy closes: a connection kept open fails on the read timeout.
    assertThat(send("GET / HTTP/1.1\r\nHost: reviews\r\nConnection: x-trace, close\r\n"
        + "x-trace: 1\r\n\r\n")).startsWith("HTTP/1.1 200").endsWith("body=");
  }

  @Test
  void answersPipelinedRequestsInOrderAndExpectContinueWithA100() throws Exception {
    String pipelined = send("GET /1 HTTP/1.1\r\nHost: reviews\r\n\r\nGET /2 HTTP/1.1\r\n"
        + "Host: REVIEWS.Default\r\nConnection: close\r\n\r\n");
    String expect = send("POST / HTTP/1.1\r\nHost: reviews\r\nExpect: 100-continue\r\n"
        + "Content-Length: 3\r\nConnection: close\r\n\r\nabc");

    assertThat(pipelined).containsSubsequence("app saw /1", "HTTP/1.1 200", "app saw /2");
    assertThat(expect).startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200")
        .endsWith("body=abc");
  }

  /**
   * A client sidecar whose routes let {@code /public/} through to reviews and answer everything
   * else 403 "denied": what a path must not sneak past.
   */
  private Sidecar guardedSidecar() throws Exception {
    return mesh.clientSidecar(view("reviews").setEndpoints(List.of(ep))
        .setSubsets(List.of(subset("v1"))).setHttpRoutes(List.of(
            route("public", List.of(HttpMatch.newBuilder()
                .setUri(match(MatchType.PREFIX, "/public/")).build()), to("reviews", "v1", 100))
                .build(),
            HttpRoute.newBuilder().setName("deny").setDirectResponse(DirectResponse.newBuilder()
                .setStatus(403).setBody("denied").build()).build())).build());
  }

  @Test
  void matchesRoutesOnThePathWithItsDotSegmentsResolved() throws Exception {
    Sidecar guarded = guardedSidecar();

    String sneaky = raw(guarded.outboundPort(), "GET /public/../admin?x=1 HTTP/1.1\r\n"
        + "Host: reviews\r\nConnection: close\r\n\r\n");
    String plain = raw(guarded.outboundPort(), "GET /public/./a/b/../c?x=1 HTTP/1.1\r\n"
        + "Host: reviews\r\nConnection: close\r\n\r\n");
    String inbound = raw(server.inboundPort(), "GET /a/../../b/. HTTP/1.1\r\n"
        + "Host: reviews\r\nConnection: close\r\n\r\n");

    assertThat(sneaky).startsWith("HTTP/1.1 403").endsWith("denied");
    assertThat(plain).startsWith("HTTP/1.1 200").endsWith("app saw /public/a/c?x=1 body=");
    assertThat(inbound).startsWith("HTTP/1.1 200").endsWith("app saw /b/ body=");
  }

  @Test
  void passesAnAppsFailureAfter100ContinueAndKeepsServing() throws Exception {
    String failed = send("POST /fail HTTP/1.1\r\nHost: reviews\r\nExpect: 100-continue\r\n"
        + "Content-Length: 3\r\nConnection: close\r\n\r\nabc");
    String after = send("POST / HTTP/1.1\r\nHost: reviews\r\nExpect: 100-continue\r\n"
        + "Content-Length: 3\r\nConnection: close\r\n\r\nxyz");

    assertThat(failed).startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500")
        .endsWith("app failed");
    assertThat(after).startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200")
        .endsWith("body=xyz");
  }

  @Test
  void resolvesPercentEncodedDotSegmentsBeforeRoutingAndForwarding() throws Exception {
    Sidecar guarded = guardedSidecar();

    String sneaky = raw(guarded.outboundPort(), "GET /public/%2E%2E/admin HTTP/1.1\r\n"
        + "Host: reviews\r\nConnection: close\r\n\r\n");
    String backslash = raw(guarded.outboundPort(), "GET /public/..\\admin HTTP/1.1\r\n"
        + "Host: reviews\r\nConnection: close\r\n\r\n");
    String kept = raw(guarded.outboundPort(), "GET /public//%7Ea/%2e/b%2F HTTP/1.1\r\n"
        + "Host: reviews\r\nConnection: close\r\n\r\n");
    String inbound = raw(server.inboundPort(), "GET /a/%2e%2E/b HTTP/1.1\r\n"
        + "Host: reviews\r\nConnection: close\r\n\r\n");
    String nul = raw(guarded.outboundPort(), "GET /public/%00 HTTP/1.1\r\n"
        + "Host: reviews\r\nConnection: close\r\n\r\n");

    assertThat(sneaky).startsWith("HTTP/1.1 403").endsWith("denied");
    assertThat(backslash).startsWith("HTTP/1.1 403").endsWith("denied");
    // no slashes merged (Istio's default), unreserved escapes decoded, %2F kept
    assertThat(kept).startsWith("HTTP/1.1 200").endsWith("app saw /public//~a/b%2F body=");
    assertThat(inbound).startsWith("HTTP/1.1 200").endsWith("app saw /b body=");
    assertThat(nul).startsWith("HTTP/1.1 400");
    assertThat(mesh.log.await(e -> e.status() == 400).flags())
        .containsExactly(ResponseFlag.DPE);
  }

  @Test
  void carriesHeadersAsLargeAsEnvoyAcceptsAndRefusesLargerOnesWith431() throws Exception {
    // Envoy's (and so Istio's) limit is 60 KiB: a 20 KB cookie or token passes there.
    String cookie = "c".repeat(20_000);

    String big = send("GET /big-answer HTTP/1.1\r\nHost: reviews\r\nCookie: s=" + cookie
        + "\r\nConnection: close\r\n\r\n");
    String tooBig = send("GET / HTTP/1.1\r\nHost: reviews\r\nCookie: s=" + "c".repeat(70_000)
        + "\r\nConnection: close\r\n\r\n");

    assertThat(big).startsWith("HTTP/1.1 200").contains("x-big: " + "b".repeat(20_000));
    assertThat(seen.remove().get("cookie")).isEqualTo("s=" + cookie);
    assertThat(tooBig).startsWith("HTTP/1.1 431");
    assertThat(seen).isEmpty();
  }
}
