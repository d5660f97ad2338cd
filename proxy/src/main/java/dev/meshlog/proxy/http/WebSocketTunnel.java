package dev.meshlog.proxy.http;

import java.util.Map;

import dev.meshlog.proxy.lb.PickContext;
import dev.meshlog.proxy.lb.Upstream;
import dev.meshlog.proxy.tcp.ResponseHeads;
import dev.meshlog.proxy.upstream.UpstreamTls;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

/**
 * A WebSocket upgrade carried through the proxy, as Istio carries it by default: the caller's
 * {@code GET} with {@code Upgrade: websocket} goes to the routed endpoint on a socket of its
 * own, with the upgrade headers Envoy keeps for it; when the endpoint answers {@code 101}, that
 * answer (its {@code Sec-WebSocket-*} headers) goes back to the caller and the two sockets are
 * piped to each other, with backpressure, until either side closes. Any other answer is passed
 * back as the response. The route's timeout bounds the wait for the endpoint's answer, as
 * Envoy's does, and a caller that leaves before it closes the attempt; no retries, no timeouts
 * after the switch (a WebSocket lives as long as it is used; the listeners' idle timeout still
 * closes a silent one).
 */
final class WebSocketTunnel {

  /** The longest response head accepted from the endpoint. */
  private static final int MAX_RESPONSE_HEAD = 16 * 1024;
  private static final int CONNECT_TIMEOUT_MILLIS = 10_000;

  private WebSocketTunnel() {}

  /** Whether {@code req} asks for a WebSocket (HTTP/1.1 GET, {@code Upgrade: websocket}). */
  static boolean requested(HttpServerRequest req) {
    if (req.version() != HttpVersion.HTTP_1_1 || req.method() != HttpMethod.GET) {
      return false;
    }
    String upgrade = req.getHeader(HttpHeaders.UPGRADE);
    return upgrade != null && HeaderRules.hasToken(upgrade, "websocket");
  }

  /**
   * Carries {@code ex}'s upgrade to an endpoint of {@code plan}'s cluster: {@code GET uri} with
   * the plan's headers and {@code Connection: upgrade}, {@code Upgrade: websocket}.
   */
  static void open(ProxyExchange ex, ProxyExchange.Plan plan, NetClient net) {
    HttpServerRequest req = ex.request();
    Upstream upstream = plan.cluster().pick(new PickContext(plan.hashKey(), ex.random()))
        .orElse(null);
    if (upstream == null) {
      ex.localReply(503, "no healthy upstream", ResponseFlag.UH);
      return;
    }
    Pending pending = new Pending();
    ex.tunnelTo(plan, upstream, pending::giveUp);
    StringBuilder head = new StringBuilder(256).append("GET ").append(plan.uri())
        .append(" HTTP/1.1\r\n");
    for (Map.Entry<String, String> h : plan.headers()) {
      head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
    }
    head.append("connection: upgrade\r\nupgrade: ").append(req.getHeader(HttpHeaders.UPGRADE))
        .append("\r\n\r\n");
    // The request has no body: what the caller sends after its head is the WebSocket's, and
    // waits (paused) until the switch.
    net.connect(UpstreamTls.applyTo(new ConnectOptions().setHost(upstream.endpoint().address())
            .setPort(plan.portOf(upstream.endpoint())).setTimeout(CONNECT_TIMEOUT_MILLIS),
            plan.policy(), plan.cluster().key().host()))
        .onFailure(ex::connectFailureReply)
        .onSuccess(up -> {
          if (pending.gone) {
            up.close();
            return;
          }
          pending.up = up;
          ResponseHeads.read(up, MAX_RESPONSE_HEAD, (received, end) -> {
            up.closeHandler(null);
            pending.up = null;
            ex.tunnelAnswered();
            answered(ex, req, up, received, end);
          }, () -> {
            up.close();
            ex.localReply(502, "upstream response head over " + MAX_RESPONSE_HEAD + " bytes",
                ResponseFlag.UPE);
          });
          up.closeHandler(v -> ex.resetReply(503, "connection termination", ResponseFlag.UC));
          up.exceptionHandler(e -> up.close());
          up.write(Buffer.buffer(head.toString()));
        });
  }

  /**
   * The attempt at the endpoint while its answer is awaited: given up (its socket closed, or
   * closed as it connects) when the caller leaves or the route's timeout passes, rather than
   * left to the idle timeout.
   */
  private static final class Pending {
    NetSocket up;
    boolean gone;

    void giveUp() {
      gone = true;
      NetSocket s = up;
      up = null;
      if (s != null) {
        s.closeHandler(null);
        s.close();
      }
    }
  }

  /** The endpoint's response head ends at {@code end} of {@code received}. */
  private static void answered(ProxyExchange ex, HttpServerRequest req, NetSocket up,
                               Buffer received, int end) {
    String[] lines = received.getString(0, end, "ISO-8859-1").split("\r\n");
    String[] status = lines[0].split(" ", 3);
    int code;
    try {
      code = status.length >= 2 && status[0].startsWith("HTTP/1.") ? Integer.parseInt(status[1])
          : -1;
    } catch (NumberFormatException e) {
      code = -1;
    }
    MultiMap headers = HttpHeaders.headers();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.add(lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim());
      }
    }
    if (code < 100 || code > 599) {
      up.close();
      ex.localReply(502, "upstream answered the upgrade with " + lines[0], ResponseFlag.UPE);
      return;
    }
    Buffer early = received.getBuffer(end + ResponseHeads.END_LENGTH, received.length());
    HttpServerResponse resp = req.response();
    if (code != 101) {
      // Refused (a 400, 403, 426...): its answer goes back as a response; its body as far as it
      // came with the head and its Content-Length says (an upgrade refusal is short).
      up.close();
      String length = headers.get(HttpHeaders.CONTENT_LENGTH);
      int n = length == null ? 0 : Math.min(early.length(), parse(length));
      HeaderRules.copyEndToEnd(headers, resp.headers());
      resp.headers().remove(HttpHeaders.CONTENT_LENGTH);
      ex.upstreamAnswered(code, early.getBuffer(0, n));
      return;
    }
    HeaderRules.copyEndToEnd(headers, resp.headers());
    // Vert.x writes the 101 with these headers as they are: the upgrade's own go back on.
    resp.headers().set(HttpHeaders.CONNECTION, HttpHeaders.UPGRADE)
        .set(HttpHeaders.UPGRADE, String.valueOf(headers.get(HttpHeaders.UPGRADE)));
    resp.setStatusCode(101);
    req.toNetSocket().onFailure(e -> {
      up.close();
      ex.tunnelClosed();
    }).onSuccess(down -> {
      if (early.length() > 0) {
        down.write(early);
      }
      down.closeHandler(v -> {
        up.close();
        ex.tunnelClosed();
      });
      up.closeHandler(v -> {
        down.close();
        ex.tunnelClosed();
      });
      down.exceptionHandler(e -> down.close());
      up.exceptionHandler(e -> up.close());
      pipe(down, up);
      pipe(up, down);
      up.resume();
    });
  }

  /** Copies {@code from} to {@code to}, reading no faster than {@code to} drains. */
  private static void pipe(NetSocket from, NetSocket to) {
    from.handler(b -> {
      to.write(b);
      if (to.writeQueueFull()) {
        from.pause();
        to.drainHandler(v -> from.resume());
      }
    });
  }

  private static int parse(String length) {
    try {
      return Math.max(0, Integer.parseInt(length.trim()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
