package dev.meshlog.proxy.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

/** The SNI read from ClientHellos the JDK's own TLS client writes, whole, in pieces and split. */
class ClientHelloTest {

  /** The first flight of a JDK TLS client, asking for {@code sni} (null: none). */
  private static Buffer clientHello(String sni) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, null, null);
    SSLEngine engine = sni == null ? context.createSSLEngine()
        : context.createSSLEngine(sni, 443);
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
    engine.setSSLParameters(parameters);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.beginHandshake();
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] bytes = new byte[out.remaining()];
    out.get(bytes);
    return Buffer.buffer(bytes);
  }

  @Test
  void readsTheServerNameOfAWholeClientHelloInLowerCase() throws Exception {
    ClientHello.Result r = ClientHello.parse(clientHello("Login.Example.COM"));

    assertThat(r.status()).isEqualTo(ClientHello.Status.FOUND);
    assertThat(r.sni()).isEqualTo("login.example.com");
  }

  @Test
  void asksForMoreUntilTheClientHelloIsWhole() throws Exception {
    Buffer hello = clientHello("shop.example.com");
    for (int n = 0; n < hello.length(); n++) {
      assertThat(ClientHello.parse(hello.getBuffer(0, n)).status())
          .as("after %d of %d bytes", n, hello.length())
          .isEqualTo(ClientHello.Status.NEED_MORE);
    }
    assertThat(ClientHello.parse(hello).sni()).isEqualTo("shop.example.com");
  }

  @Test
  void reassemblesAClientHelloSplitOverTwoRecords() throws Exception {
    Buffer hello = clientHello("split.example.com");
    Buffer handshake = hello.getBuffer(5, hello.length());
    int half = handshake.length() / 2;
    Buffer split = Buffer.buffer()
        .appendBuffer(record(hello, handshake.getBuffer(0, half)))
        .appendBuffer(record(hello, handshake.getBuffer(half, handshake.length())));

    assertThat(ClientHello.parse(split.getBuffer(0, 5 + half + 5 + 1)).status())
        .isEqualTo(ClientHello.Status.NEED_MORE);
    assertThat(ClientHello.parse(split).sni()).isEqualTo("split.example.com");
  }

  private static Buffer record(Buffer like, Buffer fragment) {
    return Buffer.buffer().appendBuffer(like, 0, 3).appendUnsignedShort(fragment.length())
        .appendBuffer(fragment);
  }

  @Test
  void tellsAClientHelloWithoutServerName() throws Exception {
    assertThat(ClientHello.parse(clientHello(null)).status())
        .isEqualTo(ClientHello.Status.NO_SNI);
  }

  @Test
  void refusesWhatIsNotTls() {
    assertThat(ClientHello.parse(Buffer.buffer("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).status())
        .isEqualTo(ClientHello.Status.NOT_TLS);
    assertThat(ClientHello.parse(Buffer.buffer(new byte[] {22, 3, 1, 0, 0})).status())
        .isEqualTo(ClientHello.Status.NOT_TLS);
  }

  @Test
  void refusesAClientHelloWhoseLengthsRunPastItsEnd() throws Exception {
    Buffer hello = clientHello("a.example.com");
    byte[] bytes = hello.getBytes();
    // The server name's own length, just before the name: one more than there is.
    byte[] name = "a.example.com".getBytes(StandardCharsets.US_ASCII);
    int at = indexOf(bytes, name);
    bytes[at - 1] = (byte) (name.length + 40);

    assertThat(ClientHello.parse(Buffer.buffer(bytes)).status())
        .isEqualTo(ClientHello.Status.NOT_TLS);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
