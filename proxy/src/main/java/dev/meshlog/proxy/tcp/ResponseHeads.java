package dev.meshlog.proxy.tcp;

import java.nio.charset.StandardCharsets;

import io.vertx.core.buffer.Buffer;

/**
 * Finding where an HTTP/1.1 response head ends in the bytes a tunnel has read so far: the
 * {@code CONNECT} tunnel's {@code 200} and a WebSocket upgrade's {@code 101} are read off a raw
 * socket, and what follows the head is already the tunnel's payload.
 */
public final class ResponseHeads {

  private static final byte[] END = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** The length of the blank line that ends a head ({@code CRLF CRLF}). */
  public static final int END_LENGTH = END.length;

  private ResponseHeads() {}

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
