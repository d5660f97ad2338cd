package dev.meshlog.proxy.tcp;

import java.util.Locale;

import io.vertx.core.buffer.Buffer;

/**
 * The server name (SNI, RFC 6066 {@code server_name}) of a TLS ClientHello, read from the first
 * bytes a client sent without terminating TLS, as Envoy's {@code tls_inspector} does: TLS
 * records of type handshake, reassembled when the ClientHello spans several, then the
 * ClientHello's extensions. The bytes themselves are left alone, to be relayed as they are.
 * Netty parses this too, but only inside a pipeline handler ({@code SslClientHelloHandler},
 * whose SNI extraction is package-private): using it would mean reaching into the pipeline of
 * Vert.x's {@code NetSocket}, an internal, where this reads the socket's own buffers.
 */
final class ClientHello {

  /** The most a client may send before its ClientHello is whole (as Envoy's inspector). */
  static final int MAX_BYTES = 64 * 1024;

  private static final int HANDSHAKE = 22;
  private static final int CLIENT_HELLO = 1;
  private static final int SERVER_NAME = 0;
  private static final int HOST_NAME = 0;
  private static final int MAX_RECORD = 16 * 1024 + 2048;

  /** How far the bytes seen so far go. */
  enum Status {
    /** Not a whole ClientHello yet: read more. */
    NEED_MORE,
    /** Not a TLS ClientHello (another protocol, or a malformed or oversized one). */
    NOT_TLS,
    /** A whole ClientHello without a server name. */
    NO_SNI,
    /** A whole ClientHello naming a server. */
    FOUND
  }

  /**
   * What the bytes say.
   *
   * @param status how far they go
   * @param sni the server name, lower case, when {@link Status#FOUND}; else {@code null}
   */
  record Result(Status status, String sni) {
    static final Result NEED_MORE = new Result(Status.NEED_MORE, null);
    static final Result NOT_TLS = new Result(Status.NOT_TLS, null);
    static final Result NO_SNI = new Result(Status.NO_SNI, null);
  }

  private ClientHello() {}

  /** Reads the ClientHello at the start of {@code bytes} (everything the client sent so far). */
  static Result parse(Buffer bytes) {
    Buffer handshake = null;
    int pos = 0;
    while (true) {
      if (bytes.length() - pos < 5) {
        return bytes.length() >= MAX_BYTES ? Result.NOT_TLS : Result.NEED_MORE;
      }
      int type = bytes.getUnsignedByte(pos);
      int major = bytes.getUnsignedByte(pos + 1);
      int length = bytes.getUnsignedShort(pos + 3);
      if (type != HANDSHAKE || major != 3 || length == 0 || length > MAX_RECORD) {
        return Result.NOT_TLS;
      }
      if (bytes.length() - pos - 5 < length) {
        return pos + 5 + length > MAX_BYTES ? Result.NOT_TLS : Result.NEED_MORE;
      }
      if (handshake == null) {
        // Nearly always one record: read it in place.
        handshake = bytes.slice(pos + 5, pos + 5 + length);
      } else {
        handshake = Buffer.buffer().appendBuffer(handshake).appendBuffer(bytes, pos + 5, length);
      }
      pos += 5 + length;
      if (handshake.length() < 4) {
        continue;
      }
      if (handshake.getUnsignedByte(0) != CLIENT_HELLO) {
        return Result.NOT_TLS;
      }
      int bodyLength = handshake.getMedium(1) & 0xFFFFFF;
      if (handshake.length() - 4 >= bodyLength) {
        return serverName(handshake, 4, 4 + bodyLength);
      }
      if (4 + bodyLength > MAX_BYTES) {
        return Result.NOT_TLS;
      }
    }
  }

  /** The server name among the extensions of the ClientHello body at {@code [from, to)}. */
  private static Result serverName(Buffer b, int from, int to) {
    int p = from + 2 + 32; // client_version, random
    if (p + 1 > to) {
      return Result.NOT_TLS;
    }
    p += 1 + b.getUnsignedByte(p); // session_id
    if (p + 2 > to) {
      return Result.NOT_TLS;
    }
    p += 2 + b.getUnsignedShort(p); // cipher_suites
    if (p + 1 > to) {
      return Result.NOT_TLS;
    }
    p += 1 + b.getUnsignedByte(p); // compression_methods
    if (p == to) {
      return Result.NO_SNI; // no extensions at all
    }
    if (p + 2 > to) {
      return Result.NOT_TLS;
    }
    int end = p + 2 + b.getUnsignedShort(p);
    p += 2;
    if (end > to) {
      return Result.NOT_TLS;
    }
    while (p + 4 <= end) {
      int type = b.getUnsignedShort(p);
      int length = b.getUnsignedShort(p + 2);
      p += 4;
      if (p + length > end) {
        return Result.NOT_TLS;
      }
      if (type == SERVER_NAME) {
        return hostName(b, p, p + length);
      }
      p += length;
    }
    return p == end ? Result.NO_SNI : Result.NOT_TLS;
  }

  /** The {@code host_name} of a {@code server_name} extension's list at {@code [from, to)}. */
  private static Result hostName(Buffer b, int from, int to) {
    if (from + 2 > to) {
      return Result.NOT_TLS;
    }
    int end = from + 2 + b.getUnsignedShort(from);
    int p = from + 2;
    if (end > to) {
      return Result.NOT_TLS;
    }
    while (p + 3 <= end) {
      int type = b.getUnsignedByte(p);
      int length = b.getUnsignedShort(p + 1);
      p += 3;
      if (p + length > end) {
        return Result.NOT_TLS;
      }
      if (type == HOST_NAME) {
        return name(b, p, p + length);
      }
      p += length;
    }
    return Result.NO_SNI;
  }

  /** A host name as RFC 6066 has it: ASCII letters, digits, hyphens and dots, no trailing dot. */
  private static Result name(Buffer b, int from, int to) {
    if (from == to) {
      return Result.NOT_TLS;
    }
    StringBuilder out = new StringBuilder(to - from);
    for (int i = from; i < to; i++) {
      int c = b.getUnsignedByte(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_';
      if (!ok) {
        return Result.NOT_TLS;
      }
      out.append((char) c);
    }
    return new Result(Status.FOUND, out.toString().toLowerCase(Locale.ROOT));
  }
}
