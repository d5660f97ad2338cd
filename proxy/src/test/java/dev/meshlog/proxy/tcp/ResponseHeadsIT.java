package dev.meshlog.proxy.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Reading a tunnel's response head off a real socket on loopback, as both tunnels do. */
class ResponseHeadsIT {

  private final Vertx vertx = Vertx.vertx();
  /** Held: Vert.x closes an unreachable client's connections (as the tunnels hold theirs). */
  private NetClient client;

  @AfterEach
  void close() {
    vertx.close().await();
  }

  /**
   * A server that answers a client's request (any bytes, as a tunnel's request head) with
   * {@code parts}, written one by one; {@code then} runs with the client's socket on its event
   * loop, as a tunnel's connect callback does, before it sends its request.
   */
  private void connectTo(Consumer<NetSocket> then, String... parts) {
    int port = vertx.createNetServer().connectHandler(s -> s.handler(request -> {
      s.handler(null);
      for (String part : parts) {
        s.write(part);
      }
    })).listen(0, "127.0.0.1").await().actualPort();
    client = vertx.createNetClient();
    client.connect(port, "127.0.0.1").onSuccess(socket -> {
      then.accept(socket);
      socket.write("GET / HTTP/1.1\r\n\r\n");
    });
  }

  @Test
  void aHeadInPiecesIsHandedOverOnceWithThePayloadAfterIt() throws Exception {
    CompletableFuture<String> head = new CompletableFuture<>();
    CompletableFuture<String> payload = new CompletableFuture<>();
    connectTo(socket -> ResponseHeads.read(socket, 1024, (received, end) -> {
      head.complete(received.getString(0, end));
      payload.complete(received.getBuffer(end + ResponseHeads.END_LENGTH, received.length())
          .toString());
    }, () -> head.completeExceptionally(new AssertionError("not too large"))),
        "HTTP/1.1 101 Switching\r\nupgrade: websocket\r", "\n", "\r\npayload");

    assertThat(head.get(10, TimeUnit.SECONDS))
        .isEqualTo("HTTP/1.1 101 Switching\r\nupgrade: websocket");
    assertThat(payload.get(10, TimeUnit.SECONDS)).isIn("", "p", "pa", "pay", "payl", "paylo",
        "payloa", "payload"); // what came in the same reads as the head's end, no more
  }

  @Test
  void aHeadOverTheLimitIsRefusedWithoutWaitingForItsEnd() throws Exception {
    CompletableFuture<Boolean> tooLarge = new CompletableFuture<>();
    connectTo(socket -> ResponseHeads.read(socket, 1024,
        (received, end) -> tooLarge.complete(false), () -> tooLarge.complete(true)),
        "HTTP/1.1 200 OK\r\nx-big: " + "a".repeat(4096));

    assertThat(tooLarge.get(10, TimeUnit.SECONDS)).isTrue();
  }
}
