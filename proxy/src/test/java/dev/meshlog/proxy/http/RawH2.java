package dev.meshlog.proxy.http;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;

/**
 * A bare HTTP/2 client (h2c, prior knowledge) on a socket, for tests: frames written by hand,
 * header blocks HPACK-coded by Netty's encoder set to ignore the peer's
 * {@code SETTINGS_MAX_HEADER_LIST_SIZE}, or field by field as written ({@link #rawHeaders}:
 * any name, value and order, which no conforming client sends), requests one after another on
 * one connection.
 */
final class RawH2 implements AutoCloseable {
  static final int HEADERS = 1;
  static final int DATA = 0;
  static final int RST_STREAM = 3;
  private static final int SETTINGS = 4;
  private static final int GOAWAY = 7;
  private static final int CONTINUATION = 9;
  private static final int MAX_FRAME = 16_384;

  private final Socket socket;
  private final DataOutputStream out;
  private final DataInputStream in;
  private final DefaultHttp2HeadersEncoder encoder =
      new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, true);
  private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder();
  /** The error code of the last RST_STREAM {@link #answer} returned on, and of the GOAWAY. */
  int lastResetError = -1;
  int lastGoAwayError = -1;

  RawH2(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(20_000);
    out = new DataOutputStream(socket.getOutputStream());
    in = new DataInputStream(socket.getInputStream());
    out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    frame(SETTINGS, 0, 0, new byte[0]);
  }

  /** Writes one frame. */
  void frame(int type, int flags, int stream, byte[] payload) throws IOException {
    out.writeByte(payload.length >>> 16);
    out.writeShort(payload.length & 0xFFFF);
    out.writeByte(type);
    out.writeByte(flags);
    out.writeInt(stream);
    out.write(payload);
    out.flush();
  }

  /** Writes a header block on {@code stream}, in HEADERS and CONTINUATION frames. */
  void headers(int stream, Http2Headers h, boolean endStream) throws IOException, Http2Exception {
    ByteBuf block = Unpooled.buffer();
    encoder.encodeHeaders(stream, h, block);
    byte[] bytes = new byte[block.readableBytes()];
    block.readBytes(bytes);
    block.release();
    for (int off = 0; off < bytes.length || off == 0; off += MAX_FRAME) {
      int n = Math.min(MAX_FRAME, bytes.length - off);
      boolean last = off + n >= bytes.length;
      int flags = (last ? 0x4 : 0) | (off == 0 && endStream ? 0x1 : 0);
      frame(off == 0 ? HEADERS : CONTINUATION, flags, stream,
          java.util.Arrays.copyOfRange(bytes, off, off + n));
      if (last) {
        break;
      }
    }
  }

  /**
   * Writes a header block on {@code stream} exactly as given — each field a HPACK literal
   * without indexing and without Huffman coding, so names, values, order and repeats are
   * whatever the test says and the decoder's table is left alone.
   */
  void rawHeaders(int stream, java.util.List<String[]> fields, boolean endStream)
      throws IOException {
    java.io.ByteArrayOutputStream block = new java.io.ByteArrayOutputStream();
    for (String[] f : fields) {
      block.write(0x00);
      literal(block, f[0]);
      literal(block, f[1]);
    }
    frame(HEADERS, 0x4 | (endStream ? 0x1 : 0), stream, block.toByteArray());
  }

  private static void literal(java.io.ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
    // RFC 7541 5.1: a 7-bit prefix integer (H = 0), then the octets.
    int n = b.length;
    if (n < 127) {
      out.write(n);
    } else {
      out.write(127);
      n -= 127;
      while (n >= 128) {
        out.write((n & 0x7F) | 0x80);
        n >>>= 7;
      }
      out.write(n);
    }
    out.write(b, 0, b.length);
  }

  /**
   * A GET with an {@code x-big} header of {@code value} on {@code stream}: the answer's status
   * and body, or {@code reset}/{@code goaway}.
   */
  String get(int stream, String value) throws IOException, Http2Exception {
    return get(stream, "reviews:9080", value);
  }

  /** {@link #get(int, String)} to {@code authority}. */
  String get(int stream, String authority, String value) throws IOException, Http2Exception {
    Http2Headers h = new DefaultHttp2Headers().method("GET").scheme("http").path("/")
        .authority(authority).add("x-big", value);
    headers(stream, h, true);
    return answer(stream);
  }

  /** Reads frames until {@code stream}'s answer ends: its status and body, or reset/goaway. */
  String answer(int stream) throws IOException, Http2Exception {
    String status = null;
    StringBuilder body = new StringBuilder();
    ByteBuf headerBlock = Unpooled.buffer();
    while (true) {
      int length = (in.readUnsignedByte() << 16) | in.readUnsignedShort();
      int type = in.readUnsignedByte();
      int flags = in.readUnsignedByte();
      int id = in.readInt() & 0x7FFFFFFF;
      byte[] payload = in.readNBytes(length);
      if (type == SETTINGS && (flags & 0x1) == 0) {
        try {
          frame(SETTINGS, 0x1, 0, new byte[0]);
        } catch (java.net.SocketException closedMeanwhile) {
          // the server may have ended the connection already; its frames are still to read
        }
      } else if (type == GOAWAY) {
        lastGoAwayError = java.nio.ByteBuffer.wrap(payload, 4, 4).getInt();
        return "goaway";
      } else if (id == stream && type == RST_STREAM) {
        lastResetError = java.nio.ByteBuffer.wrap(payload).getInt();
        return "reset";
      } else if (id == stream && (type == HEADERS || type == CONTINUATION)) {
        int from = 0;
        int to = payload.length;
        if (type == HEADERS && (flags & 0x8) != 0) {
          from = 1;
          to -= payload[0] & 0xFF;
        }
        if (type == HEADERS && (flags & 0x20) != 0) {
          from += 5;
        }
        headerBlock.writeBytes(payload, from, to - from);
        if ((flags & 0x4) != 0) {
          Http2Headers got = decoder.decodeHeaders(stream, headerBlock);
          headerBlock.clear();
          if (status == null) {
            status = String.valueOf(got.status());
          }
        }
        if ((flags & 0x1) != 0) {
          return status + (body.length() == 0 ? "" : " " + body);
        }
      } else if (id == stream && type == DATA) {
        body.append(new String(payload, StandardCharsets.UTF_8));
        if ((flags & 0x1) != 0) {
          return status + " " + body;
        }
      }
    }
  }

  /** Whether the server closes the connection now (reads to its end, skipping frames). */
  boolean closedAfter() throws IOException {
    try {
      while (in.read() >= 0) {
        // frames the server sent before closing
      }
      return true;
    } catch (java.net.SocketException reset) {
      return true;
    } catch (java.net.SocketTimeoutException stillOpen) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
