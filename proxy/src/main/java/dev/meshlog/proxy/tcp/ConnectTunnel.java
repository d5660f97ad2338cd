package dev.meshlog.proxy.tcp;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

/**
 * The calling end of a {@code CONNECT host:port} tunnel to another proxy's inbound port, spoken
 * over a plain TCP socket rather than Vert.x's HTTP client: the socket that results is then an
 * ordinary {@code NetSocket}, which {@link HalfClose} can half-close (the HTTP client's tunnel
 * socket cannot be reached at the Netty level).
 */
final class ConnectTunnel {

  /** The longest response head accepted from the other proxy. */
  static final int MAX_RESPONSE_HEAD = 8192;


  /**
   * An opened tunnel.
   *
   * @param socket the tunnel, paused, its output and input the destination's
   * @param early bytes the destination sent right after the response head (empty if none)
   */
  record Opened(NetSocket socket, Buffer early) {}

  private ConnectTunnel() {}

  /**
   * Connects to {@code host:port} and asks for a tunnel to {@code target}; fails unless the
   * answer is 200.
   *
   * @param headers extra request header lines, each {@code name: value}
   */
  static Future<Opened> open(NetClient net, String host, int port, int connectTimeoutMillis,
                             String target, String... headers) {
    return net.connect(new ConnectOptions().setHost(host).setPort(port)
            .setTimeout(connectTimeoutMillis))
        .compose(socket -> {
          HalfClose.enable(socket);
          StringBuilder head = new StringBuilder("CONNECT ").append(target)
              .append(" HTTP/1.1\r\nhost: ").append(target).append("\r\n");
          for (String h : headers) {
            head.append(h).append("\r\n");
          }
          head.append("\r\n");
          Promise<Opened> opened = Promise.promise();
          ResponseHeads.read(socket, MAX_RESPONSE_HEAD, (received, end) -> {
            String status = received.getString(0, end, "ISO-8859-1").split("\r\n", 2)[0];
            String[] parts = status.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].equals("200")) {
              fail(socket, opened, "tunnel to " + host + ":" + port + " refused: " + status);
              return;
            }
            socket.closeHandler(null);
            socket.exceptionHandler(null);
            opened.tryComplete(new Opened(socket, received.getBuffer(end + ResponseHeads.END_LENGTH,
                received.length())));
          }, () -> fail(socket, opened, "tunnel to " + host + ":" + port + ": response head over "
              + MAX_RESPONSE_HEAD + " bytes"));
          socket.closeHandler(v -> opened.tryFail("tunnel to " + host + ":" + port
              + " closed before its response"));
          socket.exceptionHandler(opened::tryFail);
          socket.write(head.toString());
          return opened.future();
        });
  }

  private static void fail(NetSocket socket, Promise<Opened> opened, String why) {
    socket.handler(null);
    socket.close();
    opened.tryFail(why);
  }
}
