package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.meshlog.events.discovery.OutboundTrafficMode;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.admin.ConfigDump;
import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.config.OutboundTrafficPolicy;
import dev.meshlog.proxy.config.ViewTranslator;
import dev.meshlog.proxy.support.RefusingPort;
import dev.meshlog.proxy.support.Views;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A host outside the mesh — an app on loopback that no view names — called through a sidecar:
 * passed through under ALLOW_ANY (by Host, by absolute URI, by CONNECT), refused under
 * REGISTRY_ONLY and by default, the mode following the sidecar's own view as it changes.
 */
class PassthroughIT {

  private TestMesh mesh;
  /** The headers each request reached the outside app with, lower-cased names. */
  private final ConcurrentLinkedQueue<Map<String, String>> seen = new ConcurrentLinkedQueue<>();
  private int outside;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    outside = mesh.backend(req -> {
      Map<String, String> h = new TreeMap<>();
      req.headers().forEach(e -> h.put(e.getKey().toLowerCase(java.util.Locale.ROOT),
          e.getValue()));
      h.put(":path", req.uri());
      seen.add(h);
      req.body().onSuccess(b -> req.response().putHeader("x-served-by", "outside")
          .end("outside " + req.uri()));
    });
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  /** productpage's own view, with {@code mode} as its Sidecar resource set it. */
  private static ServiceView self(OutboundTrafficMode mode) {
    return view("productpage").setOutboundTrafficPolicy(mode).build();
  }

  private Sidecar sidecar(OutboundTrafficMode mode) {
    return mesh.clientSidecar(OutboundTrafficPolicy.REGISTRY_ONLY, self(mode),
        Views.allTo("reviews", "v1", Views.endpoint(mesh.namedBackend("reviews"), "v1", "zone-a")));
  }

  @Test
  void allowAnyForwardsAHostOutsideTheMeshByHostWithoutTheMeshsHeaders() {
    Sidecar s = sidecar(OutboundTrafficMode.ALLOW_ANY);

    TestMesh.Response r = mesh.get(s.outboundPort(), "127.0.0.1:" + outside, "/a?b=1",
        "x-meshlog-peer", "forged", "x-meshlog-source-workload", "forged", "x-request-id", "pt-1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("outside /a?b=1");
    Map<String, String> h = seen.poll();
    assertThat(h).isNotNull();
    assertThat(h.keySet()).noneMatch(k -> k.startsWith("x-meshlog-"));
    assertThat(h).containsEntry("host", "127.0.0.1:" + outside).containsKey("x-request-id");
    AccessLogEntry e = mesh.log.await("outbound", "pt-1");
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.cluster()).isEqualTo(Cluster.PASSTHROUGH);
    assertThat(e.route()).isEqualTo(Passthrough.ROUTE);
    assertThat(e.destinationService()).isEqualTo("127.0.0.1");
    assertThat(e.upstreamHost()).isEqualTo("127.0.0.1:" + outside);
  }

  @Test
  void allowAnyLeavesMeshHostsToTheMesh() {
    Sidecar s = sidecar(OutboundTrafficMode.ALLOW_ANY);

    TestMesh.Response r = mesh.get(s.outboundPort(), "reviews", "/", "x-request-id", "mesh-1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("x-served-by")).isEqualTo("reviews");
    assertThat(mesh.log.await("outbound", "mesh-1").cluster())
        .isNotEqualTo(Cluster.PASSTHROUGH);
  }

  @Test
  void allowAnyForwardsAnAbsoluteUriRequestResolvingTheName() throws IOException {
    Sidecar s = sidecar(OutboundTrafficMode.ALLOW_ANY);

    String response = exchange(s.outboundPort(), "GET http://localhost:" + outside
        + "/abs?q=1 HTTP/1.1\r\nHost: localhost:" + outside + "\r\nConnection: close\r\n\r\n");

    assertThat(response).startsWith("HTTP/1.1 200").endsWith("outside /abs?q=1");
    assertThat(seen.poll()).containsEntry(":path", "/abs?q=1")
        .containsEntry("host", "localhost:" + outside);
    AccessLogEntry e = mesh.log.await(x -> Cluster.PASSTHROUGH.equals(x.cluster()));
    assertThat(e.destinationService()).isEqualTo("localhost");
  }

  @Test
  void allowAnyTunnelsAConnectToAHostOutsideTheMesh() throws IOException {
    Sidecar s = sidecar(OutboundTrafficMode.ALLOW_ANY);

    try (Socket socket = new Socket("127.0.0.1", s.outboundPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write(("CONNECT 127.0.0.1:" + outside + " HTTP/1.1\r\nHost: 127.0.0.1:" + outside
          + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      assertThat(head(in)).startsWith("HTTP/1.1 200");
      out.write(("GET /tunnelled HTTP/1.1\r\nHost: anything\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII))
          .startsWith("HTTP/1.1 200").endsWith("outside /tunnelled");
    }
    AccessLogEntry e = mesh.log.await(x -> "TCP".equals(x.protocol()));
    assertThat(e.cluster()).isEqualTo(Cluster.PASSTHROUGH);
    assertThat(e.destinationService()).isEqualTo("127.0.0.1");
    assertThat(e.bytesReceived()).isPositive();
    assertThat(e.bytesSent()).isPositive();
  }

  @Test
  void allowAnyCarriesAWebSocketToAHostOutsideTheMesh() throws Exception {
    int ws = mesh.vertx.createHttpServer()
        .webSocketHandler(w -> w.textMessageHandler(m -> w.writeTextMessage("echo " + m
            + " peer " + w.headers().get("x-meshlog-peer"))))
        .listen(0, "127.0.0.1").await().actualPort();
    Sidecar s = sidecar(OutboundTrafficMode.ALLOW_ANY);
    io.vertx.core.Promise<String> reply = io.vertx.core.Promise.promise();

    io.vertx.core.http.WebSocket socket = mesh.vertx.createWebSocketClient()
        .connect(new io.vertx.core.http.WebSocketConnectOptions().setHost("127.0.0.1")
            .setPort(s.outboundPort()).setURI("/chat").addHeader("host", "127.0.0.1:" + ws))
        .await(10, java.util.concurrent.TimeUnit.SECONDS);
    socket.textMessageHandler(reply::tryComplete);
    socket.writeTextMessage("hi");

    assertThat(reply.future().await(10, java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo("echo hi peer null");
    socket.close().await(10, java.util.concurrent.TimeUnit.SECONDS);
    AccessLogEntry e = mesh.log.await(x -> x.status() == 101);
    assertThat(e.cluster()).isEqualTo(Cluster.PASSTHROUGH);
    assertThat(e.route()).isEqualTo(Passthrough.ROUTE);
  }

  @Test
  void aConnectToAMeshHostIs501UnderAllowAny() throws IOException {
    Sidecar s = sidecar(OutboundTrafficMode.ALLOW_ANY);

    assertThat(exchange(s.outboundPort(), "CONNECT reviews:9080 HTTP/1.1\r\nHost: reviews:9080"
        + "\r\n\r\n")).startsWith("HTTP/1.1 501");
  }

  @Test
  void registryOnlyAndTheDefaultAnswer404NrAndConnect501() throws IOException {
    for (OutboundTrafficMode mode : new OutboundTrafficMode[] {
        OutboundTrafficMode.REGISTRY_ONLY, OutboundTrafficMode.UNSPECIFIED}) {
      Sidecar s = sidecar(mode);

      TestMesh.Response r = mesh.get(s.outboundPort(), "127.0.0.1:" + outside, "/");

      assertThat(r.status()).as(mode.name()).isEqualTo(404);
      assertThat(mesh.log.await("outbound", r.header("x-request-id")).flags())
          .containsExactly(ResponseFlag.NR);
      assertThat(exchange(s.outboundPort(), "CONNECT 127.0.0.1:" + outside + " HTTP/1.1\r\n"
          + "Host: 127.0.0.1:" + outside + "\r\n\r\n")).as(mode.name()).startsWith("HTTP/1.1 501");
    }
    assertThat(seen).isEmpty();
  }

  @Test
  void theProxysDefaultAppliesWhenTheViewSetsNoMode() {
    Sidecar s = mesh.clientSidecar(OutboundTrafficPolicy.ALLOW_ANY,
        self(OutboundTrafficMode.UNSPECIFIED));
    assertThat(mesh.get(s.outboundPort(), "127.0.0.1:" + outside, "/").status()).isEqualTo(200);

    Sidecar strict = mesh.clientSidecar(OutboundTrafficPolicy.ALLOW_ANY,
        self(OutboundTrafficMode.REGISTRY_ONLY));
    assertThat(mesh.get(strict.outboundPort(), "127.0.0.1:" + outside, "/").status())
        .isEqualTo(404);
  }

  @Test
  void aNewSnapshotSwitchesTheModeAtRunTime() {
    Sidecar s = sidecar(OutboundTrafficMode.UNSPECIFIED);
    assertThat(mesh.get(s.outboundPort(), "127.0.0.1:" + outside, "/").status()).isEqualTo(404);

    s.holder().apply(s.holder().snapshot()
        .with(ViewTranslator.translate(self(OutboundTrafficMode.ALLOW_ANY))));
    assertThat(mesh.get(s.outboundPort(), "127.0.0.1:" + outside, "/").status()).isEqualTo(200);
    assertThat(ConfigDump.config(s.holder().current()).getJsonObject("services")
        .getJsonObject(Views.host("productpage")).getString("outboundTrafficPolicy"))
        .isEqualTo("ALLOW_ANY");

    s.holder().apply(s.holder().snapshot()
        .with(ViewTranslator.translate(self(OutboundTrafficMode.REGISTRY_ONLY))));
    assertThat(mesh.get(s.outboundPort(), "127.0.0.1:" + outside, "/").status()).isEqualTo(404);
  }

  @Test
  void aNameThatDoesNotResolveIs503Df() throws IOException {
    Sidecar s = sidecar(OutboundTrafficMode.ALLOW_ANY);

    TestMesh.Response r = mesh.get(s.outboundPort(), "no-such-host.invalid", "/");

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).startsWith("DNS resolution failure: no-such-host.invalid");
    assertThat(mesh.log.await("outbound", r.header("x-request-id")).flags())
        .containsExactly(ResponseFlag.DF);
    assertThat(exchange(s.outboundPort(), "CONNECT no-such-host.invalid:443 HTTP/1.1\r\nHost: "
        + "no-such-host.invalid:443\r\n\r\n")).startsWith("HTTP/1.1 503");
  }

  @Test
  void aHostThatRefusesIs503Uf() throws IOException {
    Sidecar s = sidecar(OutboundTrafficMode.ALLOW_ANY);
    try (RefusingPort refusing = new RefusingPort()) {
      TestMesh.Response r = mesh.get(s.outboundPort(), "127.0.0.1:" + refusing.port(), "/");

      assertThat(r.status()).isEqualTo(503);
      assertThat(mesh.log.await("outbound", r.header("x-request-id")).flags())
          .contains(ResponseFlag.UF);
      assertThat(exchange(s.outboundPort(), "CONNECT 127.0.0.1:" + refusing.port()
          + " HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 503");
    }
  }

  @Test
  void aPassthroughToTheProxysOwnListenersIs503Uh() throws IOException {
    Sidecar s = sidecar(OutboundTrafficMode.ALLOW_ANY);

    for (int own : new int[] {s.outboundPort(), s.inboundPort()}) {
      for (String host : new String[] {"127.0.0.1", "localhost"}) {
        TestMesh.Response r = mesh.get(s.outboundPort(), host + ":" + own, "/");
        assertThat(r.status()).as(host + ":" + own).isEqualTo(503);
        assertThat(r.body()).contains("request loop");
        assertThat(mesh.log.await("outbound", r.header("x-request-id")).flags())
            .containsExactly(ResponseFlag.UH);
      }
      assertThat(exchange(s.outboundPort(), "CONNECT 127.0.0.1:" + own + " HTTP/1.1\r\nHost: x"
          + "\r\n\r\n")).startsWith("HTTP/1.1 503");
    }
    // One entry per request: nothing came back in.
    assertThat(mesh.log.count(e -> "inbound".equals(e.direction()))).isZero();
  }

  /** Writes {@code request} on a new connection to {@code port}; what comes back until close. */
  private static String exchange(int port, String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      if (request.startsWith("CONNECT")) {
        // An answered CONNECT keeps its connection: read the head and the body it announces.
        InputStream in = socket.getInputStream();
        String head = head(in);
        int length = 0;
        for (String line : head.split("\r\n")) {
          if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
            length = Integer.parseInt(line.substring(15).trim());
          }
        }
        return head + new String(in.readNBytes(length), StandardCharsets.US_ASCII);
      }
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  /** A response head, through its blank line. */
  private static String head(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      b.write(c);
      byte[] a = b.toByteArray();
      int n = a.length;
      if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
        break;
      }
    }
    return b.toString(StandardCharsets.US_ASCII);
  }
}
