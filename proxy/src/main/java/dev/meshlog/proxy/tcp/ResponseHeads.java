package dev.meshlog.proxy.tcp;

import java.nio.charset.StandardCharsets;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

/**
 * Reading an HTTP/1.1 response head off a raw socket, up to where it ends: the
 * {@code CONNECT} tunnel's {@code 200} and a WebSocket upgrade's {@code 101} are read off a raw
 * socket, and what follows the head is already the tunnel's payload.
 */
public final class ResponseHeads {

  private static final byte[] END = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** The length of the blank line that ends a head ({@code CRLF CRLF}). */
  public static final int END_LENGTH = END.length;

  private ResponseHeads() {}

  /** What to do with a head once read. */
  @FunctionalInterface
  public interface OnHead {
    /**
     * Called once, with the socket paused and its handler cleared: {@code received} holds the
     * head up to {@code end} (the blank line's start) and whatever payload came after it.
     */
    void head(Buffer received, int end);
  }

  /**
   * Reads {@code socket} until a response head ends, then pauses it and hands the bytes to
   * {@code onHead}; a head over {@code maxBytes} clears the handler and runs {@code onTooLarge}
   * instead (the caller closes the socket and answers). Called on the socket's event loop,
   * before the request goes out.
   */
  public static void read(NetSocket socket, int maxBytes, OnHead onHead, Runnable onTooLarge) {
    Buffer received = Buffer.buffer();
    socket.handler(b -> {
      received.appendBuffer(b);
      int end = end(received);
      if (end < 0) {
        if (received.length() > maxBytes) {
          socket.handler(null);
          onTooLarge.run();
        }
        return;
      }
      socket.pause();
      socket.handler(null);
      onHead.head(received, end);
    });
  }

  /** Where the blank line ending a head starts in {@code received}, or -1 when not there yet. */
  public static int end(Buffer received) {
    outer:
    for (int i = 0; i + END.length <= received.length(); i++) {
      for (int j = 0; j < END.length; j++) {
        if (received.getByte(i + j) != END[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
