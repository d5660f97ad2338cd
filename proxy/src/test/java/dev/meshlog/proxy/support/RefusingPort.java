package dev.meshlog.proxy.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A loopback port that refuses connections and that no listener can be given while it is held:
 * a socket bound to it that never listens. A connect to it is refused at once (RST), and the
 * kernel does not hand a bound port to another port-0 bind, so a sidecar started afterwards
 * cannot end up listening on it. (A port taken from a {@code ServerSocket} just closed can be
 * handed to the next port-0 listener — the sidecar's own — which made an "unreachable" endpoint
 * the sidecar itself: a request loop, and once the JVM's file descriptors.)
 */
public final class RefusingPort implements AutoCloseable {

  private final Socket socket = new Socket();

  /** Binds a free loopback port, without listening. */
  public RefusingPort() {
    try {
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port to hold", e);
    }
  }

  /** The port held. */
  public int port() {
    return socket.getLocalPort();
  }

  /** Releases the port. */
  @Override
  public void close() throws IOException {
    socket.close();
  }
}
