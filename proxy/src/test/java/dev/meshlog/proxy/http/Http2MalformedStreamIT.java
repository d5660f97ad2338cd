package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.allTo;
import static dev.meshlog.proxy.support.Views.sidecarEndpoint;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;

import dev.meshlog.proxy.Sidecar;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An HTTP/2 caller's malformed stream, through a client sidecar to an app behind a server
 * sidecar: the caller's connection is ended with {@code GOAWAY(PROTOCOL_ERROR)} (Envoy's
 * default, {@code stream_error_on_invalid_http_message: false}, which Istio keeps), the stream is
 * logged and counted with flag {@code DPE}, the app never sees it, and the listener serves the
 * caller's next connection. The streams are written by {@link RawH2#rawHeaders}: each header a
 * HPACK literal exactly as the test gives it (uppercase names, {@code connection}, a repeated
 * or late pseudo-header, a LF in a value), which a conforming client refuses to send.
 */
class Http2MalformedStreamIT {

  private static final int PROTOCOL_ERROR = 1;

  private TestMesh mesh;
  private Sidecar client;
  /** The path of every request the app saw. */
  private final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    int app = mesh.backend(req -> {
      seen.add(req.path());
      if (req.path().equals("/slow")) {
        return; // answered never: the stream stays in flight
      }
      req.body().onComplete(b -> req.response().end("ok"));
    });
    Sidecar server = mesh.serverSidecar("reviews", "v1", "zone-a", app);
    client = mesh.clientSidecar(allTo("reviews", "v1",
        sidecarEndpoint("reviews", "v1", server.inboundPort())));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  private static String[] f(String name, String value) {
    return new String[] {name, value};
  }

  private static List<String[]> get(String path, String[]... more) {
    List<String[]> h = new java.util.ArrayList<>(List.of(f(":method", "GET"),
        f(":scheme", "http"), f(":path", path), f(":authority", "reviews:9080")));
    h.addAll(List.of(more));
    return h;
  }

  static Stream<Arguments> malformed() {
    return Stream.of(
        Arguments.of("an uppercase header name", get("/upper", f("X-Upper", "1"))),
        Arguments.of("connection", get("/connection", f("connection", "keep-alive"))),
        Arguments.of("transfer-encoding", get("/te", f("transfer-encoding", "chunked"))),
        Arguments.of("te other than trailers", get("/te-gzip", f("te", "gzip"))),
        Arguments.of("a space in a name", get("/space", f("x bad", "1"))),
        Arguments.of("a LF in a value", get("/lf", f("x-bad", "a\nb"))),
        Arguments.of("a NUL in a value", get("/nul", f("x-bad", "a\0b"))),
        Arguments.of("no :path", List.of(f(":method", "GET"), f(":scheme", "http"),
            f(":authority", "reviews:9080"))),
        Arguments.of("no :method", List.of(f(":scheme", "http"), f(":path", "/no-method"),
            f(":authority", "reviews:9080"))),
        Arguments.of("two :path", get("/a", f(":path", "/b"))),
        Arguments.of("an unknown pseudo-header", get("/pseudo", f(":foo", "x"))),
        Arguments.of("a pseudo-header after a regular one", List.of(f(":method", "GET"),
            f(":scheme", "http"), f("x-a", "1"), f(":path", "/late"),
            f(":authority", "reviews:9080"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void aMalformedStreamEndsTheConnectionWithGoAwayAndIsLoggedDpe(String what,
                                                                 List<String[]> headers)
      throws Exception {
    try (RawH2 h2 = new RawH2(client.outboundPort())) {
      h2.rawHeaders(1, headers, true);

      assertThat(h2.answer(1)).isEqualTo("goaway");
      assertThat(h2.lastGoAwayError).isEqualTo(PROTOCOL_ERROR);
      assertThat(h2.closedAfter()).isTrue();
    }
    AccessLogEntry e = mesh.log.await(x -> "outbound".equals(x.direction()));
    assertThat(e.flags()).containsExactly(ResponseFlag.DPE);
    assertThat(e.status()).isZero();
    assertThat(e.protocol()).isEqualTo("HTTP/2");
    assertThat(e.sourceWorkload()).isEqualTo("productpage-v1");

    // The listener serves the next connection; the app saw only that one.
    try (RawH2 h2 = new RawH2(client.outboundPort())) {
      assertThat(h2.get(1, "fine")).isEqualTo("200 ok");
    }
    assertThat(seen).containsExactly("/");
  }

  @Test
  void aContentLengthTheDataDisagreesWithIsOneDpeLineAndTheAppSeesTheCallerGo()
      throws Exception {
    try (RawH2 h2 = new RawH2(client.outboundPort())) {
      List<String[]> post = List.of(f(":method", "POST"), f(":scheme", "http"),
          f(":path", "/upload"), f(":authority", "reviews:9080"), f("content-length", "10"),
          f("x-request-id", "short-body"));
      h2.rawHeaders(1, post, false);
      h2.frame(RawH2.DATA, 0x1, 1, "abc".getBytes(StandardCharsets.US_ASCII));

      assertThat(h2.answer(1)).isEqualTo("goaway");
      assertThat(h2.lastGoAwayError).isEqualTo(PROTOCOL_ERROR);
    }
    AccessLogEntry e = mesh.log.await("outbound", "short-body");
    assertThat(e.flags()).containsExactly(ResponseFlag.DPE);
    assertThat(e.status()).isZero();
    Awaitility.await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(
        () -> mesh.log.count(x -> "outbound".equals(x.direction())) == 1);
  }

  @Test
  void theConnectionsOtherStreamsInFlightEndFlaggedDpeAndNothingWedges() throws Exception {
    try (RawH2 h2 = new RawH2(client.outboundPort())) {
      h2.rawHeaders(1, get("/slow", f("x-request-id", "in-flight")), true);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains("/slow"));

      h2.rawHeaders(3, get("/bad", f("Bad-Name", "1")), true);

      assertThat(h2.answer(3)).isEqualTo("goaway");
      assertThat(h2.lastGoAwayError).isEqualTo(PROTOCOL_ERROR);
      assertThat(h2.closedAfter()).isTrue();
    }
    // The stream in flight ended with the connection, as Envoy resets it, flagged DPE; its
    // upstream request was given up (the destination's sidecar saw its caller go).
    assertThat(mesh.log.await("outbound", "in-flight").flags())
        .containsExactly(ResponseFlag.DPE);
    assertThat(mesh.log.await("inbound", "in-flight").flags()).contains(ResponseFlag.DC);
    assertThat(mesh.log.await(x -> "outbound".equals(x.direction()) && x.requestId() == null)
        .flags()).containsExactly(ResponseFlag.DPE);
    try (RawH2 h2 = new RawH2(client.outboundPort())) {
      assertThat(h2.get(1, "fine")).isEqualTo("200 ok");
    }
  }
}
