package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.allTo;
import static dev.meshlog.proxy.support.Views.sidecarEndpoint;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.meshlog.proxy.Sidecar;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The 60 KiB header limit (Envoy's {@code max_request_headers_kb}, which Istio keeps) over h2c
 * with prior knowledge, HPACK-coded, through two sidecars: 50 KiB of headers reach an HTTP/2
 * app, more than 60 KiB are answered 431 on that stream by the first sidecar, and the connection
 * goes on serving. The oversized request is written by a raw HTTP/2 client whose encoder ignores
 * the proxy's {@code SETTINGS_MAX_HEADER_LIST_SIZE}, as a conforming client's would not.
 */
class Http2HeaderLimitIT {

  private TestMesh mesh;
  private Sidecar client;
  /** The x-big header of every request the app saw, with the version it came in. */
  private final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    int app = mesh.vertx.createHttpServer(new HttpServerOptions().setMaxHeaderSize(64 * 1024)
            .setInitialSettings(new Http2Settings().setMaxHeaderListSize(64 * 1024)))
        .requestHandler(req -> {
          String big = req.getHeader("x-big");
          seen.add(req.version() + " " + (big == null ? 0 : big.length()));
          req.response().end("ok");
        })
        .listen(0, "127.0.0.1").await().actualPort();
    Sidecar server = mesh.serverSidecar("reviews", "v1", "zone-a", app);
    client = mesh.clientSidecar(allTo("reviews", "v1",
        sidecarEndpoint("reviews", "v1", server.inboundPort())));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  @Test
  void fiftyKibOfHeadersReachAnHttp2AppThroughTwoSidecars() {
    HttpClientAgent h2c = mesh.vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
        .setInitialSettings(new Http2Settings().setMaxHeaderListSize(64 * 1024)));
    String big = "b".repeat(50 * 1024);

    int status = h2c.request(new RequestOptions().setHost("127.0.0.1")
            .setPort(client.outboundPort()).setMethod(HttpMethod.GET).setURI("/")
            .putHeader("x-big", big))
        .compose(r -> {
          r.authority(io.vertx.core.net.HostAndPort.create("reviews", 9080));
          return r.send().compose(resp -> resp.body().map(b -> resp.statusCode()));
        })
        .await();

    assertThat(status).isEqualTo(200);
    assertThat(seen).containsExactly("HTTP_2 " + big.length());
  }

  @Test
  void moreThanSixtyKibOfHeadersAre431AndTheConnectionGoesOn() throws Exception {
    try (RawH2 h2 = new RawH2(client.outboundPort())) {
      String tooBig = h2.get(1, "c".repeat(62 * 1024));
      String next = h2.get(3, "small");

      assertThat(tooBig).isEqualTo("431");
      assertThat(next).isEqualTo("200 ok");
    }
    assertThat(seen).containsExactly("HTTP_2 5");
  }

  /** A bare HTTP/2 client on a socket: one connection, requests one after another. */
  private static final class RawH2 implements AutoCloseable {
    private static final int HEADERS = 1;
    private static final int DATA = 0;
    private static final int RST_STREAM = 3;
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

    RawH2(int port) throws IOException {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
      socket.setSoTimeout(20_000);
      out = new DataOutputStream(socket.getOutputStream());
      in = new DataInputStream(socket.getInputStream());
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      frame(SETTINGS, 0, 0, new byte[0]);
    }

    private void frame(int type, int flags, int stream, byte[] payload) throws IOException {
      out.writeByte(payload.length >>> 16);
      out.writeShort(payload.length & 0xFFFF);
      out.writeByte(type);
      out.writeByte(flags);
      out.writeInt(stream);
      out.write(payload);
      out.flush();
    }

    /**
     * A GET with an {@code x-big} header of {@code value} on {@code stream}: the answer's status
     * and body, or {@code reset}/{@code goaway}.
     */
    String get(int stream, String value) throws IOException, Http2Exception {
      Http2Headers h = new DefaultHttp2Headers().method("GET").scheme("http").path("/")
          .authority("reviews:9080").add("x-big", value);
      ByteBuf block = Unpooled.buffer();
      encoder.encodeHeaders(stream, h, block);
      byte[] bytes = new byte[block.readableBytes()];
      block.readBytes(bytes);
      block.release();
      for (int off = 0; off < bytes.length || off == 0; off += MAX_FRAME) {
        int n = Math.min(MAX_FRAME, bytes.length - off);
        boolean last = off + n >= bytes.length;
        int flags = (last ? 0x4 : 0) | (off == 0 ? 0x1 : 0);
        frame(off == 0 ? HEADERS : CONTINUATION, flags, stream,
            java.util.Arrays.copyOfRange(bytes, off, off + n));
        if (last) {
          break;
        }
      }
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
          frame(SETTINGS, 0x1, 0, new byte[0]);
        } else if (type == GOAWAY) {
          return "goaway";
        } else if (id == stream && type == RST_STREAM) {
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

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
