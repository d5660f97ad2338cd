package dev.meshlog.proxy.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.x upstream on a plain {@link ServerSocket} on loopback (port 0), one thread per
 * connection, scripted by the test byte for byte: it can close idle connections, answer
 * {@code Connection: close} or HTTP/1.0, send conflicting framing, stall, or flood.
 */
final class RawUpstream implements AutoCloseable {

  /** What one connection does; {@code index} counts accepted connections from 0. */
  interface Script {
    void run(Conn conn, int index) throws IOException;
  }

  /** One accepted connection, with small helpers to read requests and write raw bytes. */
  static final class Conn {
    final Socket socket;
    final InputStream in;
    final OutputStream out;
    volatile boolean sawEof;

    Conn(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.out = socket.getOutputStream();
    }

    /** The next request's head lines (request line first); {@code null} at end of stream. */
    List<String> readHead() throws IOException {
      List<String> lines = new ArrayList<>();
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) >= 0) {
        if (b == '\n') {
          String l = line.toString(StandardCharsets.ISO_8859_1);
          if (l.endsWith("\r")) {
            l = l.substring(0, l.length() - 1);
          }
          line.reset();
          if (l.isEmpty()) {
            return lines;
          }
          lines.add(l);
        } else {
          line.write(b);
        }
      }
      sawEof = true;
      return null;
    }

    /** The request's body per its head: Content-Length or chunked; empty otherwise. */
    byte[] readBody(List<String> head) throws IOException {
      String cl = header(head, "content-length");
      if (cl != null) {
        return in.readNBytes(Integer.parseInt(cl.trim()));
      }
      String te = header(head, "transfer-encoding");
      if (te == null || !te.toLowerCase(Locale.ROOT).contains("chunked")) {
        return new byte[0];
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        String size = readLine();
        int n = Integer.parseInt(size.trim(), 16);
        if (n == 0) {
          while (!readLine().isEmpty()) {
            // trailers
          }
          return body.toByteArray();
        }
        body.write(in.readNBytes(n));
        readLine();
      }
    }

    private String readLine() throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) >= 0 && b != '\n') {
        if (b != '\r') {
          line.write(b);
        }
      }
      return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** Writes {@code text} as ISO-8859-1 bytes and flushes. */
    void write(String text) throws IOException {
      out.write(text.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    }

    /** Reads until the peer closes; true when it did. */
    boolean awaitEof() throws IOException {
      try {
        while (in.read() >= 0) {
          // discard
        }
      } catch (IOException e) {
        // a reset counts as closed too
      }
      sawEof = true;
      return true;
    }

    void close() throws IOException {
      socket.close();
    }
  }

  /** The value of {@code name} in {@code head}, or {@code null}. */
  static String header(List<String> head, String name) {
    for (String l : head) {
      int colon = l.indexOf(':');
      if (colon > 0 && l.substring(0, colon).trim().equalsIgnoreCase(name)) {
        return l.substring(colon + 1).trim();
      }
    }
    return null;
  }

  private final ServerSocket server;
  final AtomicInteger accepted = new AtomicInteger();
  final List<Conn> connections = new CopyOnWriteArrayList<>();
  final List<List<String>> requests = new CopyOnWriteArrayList<>();
  final List<Throwable> failures = new CopyOnWriteArrayList<>();

  /** Listens on a free loopback port and runs {@code script} on each connection. */
  RawUpstream(Script script) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          int index = accepted.getAndIncrement();
          Conn c = new Conn(s);
          connections.add(c);
          Thread t = new Thread(() -> {
            try {
              script.run(c, index);
            } catch (IOException e) {
              // the proxy closed it: the script's business
            } catch (Throwable e) {
              failures.add(e);
            } finally {
              try {
                s.close();
              } catch (IOException ignored) {
                // closing anyway
              }
            }
          }, "raw-upstream-" + index);
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }, "raw-upstream-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Reads a request head and body, recording the head; {@code null} at end of stream. */
  List<String> nextRequest(Conn c) throws IOException {
    List<String> head = c.readHead();
    if (head != null) {
      c.readBody(head);
      requests.add(head);
    }
    return head;
  }

  int port() {
    return server.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Conn c : connections) {
      c.close();
    }
  }
}
