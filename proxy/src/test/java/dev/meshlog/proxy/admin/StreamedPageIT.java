package dev.meshlog.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A page written on a worker thread through {@link StreamedPage} to a real socket: it arrives
 * whole, and a client that stops reading holds the writer back (a bounded amount handed over)
 * until it is given up, instead of the page piling up in memory.
 */
class StreamedPageIT {

  private static final int CHUNK = 64 * 1024;
  private int chunks = 4;

  private final Vertx vertx = Vertx.vertx();
  private final AtomicLong handedOver = new AtomicLong();
  private final CompletableFuture<Throwable> writerEnded = new CompletableFuture<>();
  private final CompletableFuture<Throwable> pageSent = new CompletableFuture<>();
  private HttpServer server;
  private long pageBytes;
  private Duration deadline;

  @BeforeEach
  void start() {
    server = vertx.createHttpServer().requestHandler(req -> {
      HttpServerResponse response = req.response().setChunked(true);
      Context context = Vertx.currentContext();
      StreamedPage page = new StreamedPage(context, req, CHUNK, chunks, deadline);
      response.closeHandler(v -> page.abort(new IOException("the connection closed")));
      page.sent().onComplete(ar -> pageSent.complete(ar.cause()));
      context.executeBlocking(() -> {
        try {
          writePage(page);
          page.close();
          writerEnded.complete(null);
        } catch (IOException e) {
          writerEnded.complete(e);
          context.runOnContext(v -> response.reset());
        }
        return null;
      }, false);
    });
    server.listen(0, "127.0.0.1").await();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  /** The page: line after numbered line, {@code pageBytes} in all, counted as written. */
  private void writePage(OutputStream out) throws IOException {
    byte[] line = "istio_requests_total{reporter=\"source\",source_workload=\"productpage-v1\"} 1\n"
        .getBytes(StandardCharsets.UTF_8);
    for (long written = 0; written < pageBytes; written += line.length) {
      int n = (int) Math.min(line.length, pageBytes - written);
      out.write(line, 0, n);
      handedOver.addAndGet(n);
    }
  }

  private static long crc(long bytes) {
    byte[] line = "istio_requests_total{reporter=\"source\",source_workload=\"productpage-v1\"} 1\n"
        .getBytes(StandardCharsets.UTF_8);
    CRC32 crc = new CRC32();
    for (long written = 0; written < bytes; written += line.length) {
      crc.update(line, 0, (int) Math.min(line.length, bytes - written));
    }
    return crc.getValue();
  }

  private Socket get() throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), server.actualPort());
    s.getOutputStream().write("GET /stats/prometheus HTTP/1.1\r\nHost: admin\r\n\r\n"
        .getBytes(StandardCharsets.US_ASCII));
    return s;
  }

  /** Reads a chunked HTTP/1.1 response's body: its length and CRC. */
  private static long[] readChunkedBody(InputStream in) throws IOException {
    while (!readLine(in).isEmpty()) {
      // status line and headers
    }
    CRC32 crc = new CRC32();
    long total = 0;
    byte[] buf = new byte[CHUNK];
    while (true) {
      int size = Integer.parseInt(readLine(in).trim(), 16);
      if (size == 0) {
        readLine(in);
        return new long[] {total, crc.getValue()};
      }
      int left = size;
      while (left > 0) {
        int n = in.read(buf, 0, Math.min(buf.length, left));
        if (n < 0) {
          throw new IOException("body cut short");
        }
        crc.update(buf, 0, n);
        left -= n;
      }
      total += size;
      readLine(in);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new IOException("connection closed");
      }
      if (c != '\r') {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }

  @Test
  void aPageLargerThanAnyHeapWeGiveItArrivesWholeInChunks() throws Exception {
    pageBytes = 40L * 1024 * 1024 + 17;
    deadline = Duration.ofSeconds(60);

    try (Socket s = get()) {
      long[] body = readChunkedBody(s.getInputStream());

      assertThat(body[0]).isEqualTo(pageBytes);
      assertThat(body[1]).isEqualTo(crc(pageBytes));
    }
    assertThat(writerEnded.get(30, TimeUnit.SECONDS)).isNull();
  }

  @Test
  void aClientThatHangsUpStopsTheWriterWithoutWaitingOutTheStall() throws Exception {
    pageBytes = 400L * 1024 * 1024;
    deadline = Duration.ofMinutes(10);

    try (Socket s = get()) {
      s.getInputStream().readNBytes(1024);
    }

    // Long before the stall: the close wakes the writer.
    Throwable ended = writerEnded.get(60, TimeUnit.SECONDS);
    assertThat(ended).isInstanceOf(IOException.class).hasMessageContaining("response failed");
    assertThat(handedOver.get()).isLessThan(pageBytes);
  }

  @Test
  void aClientThatStopsReadingHoldsTheWriterBackUntilItIsGivenUp() throws Exception {
    pageBytes = 400L * 1024 * 1024;
    deadline = Duration.ofMillis(500);

    try (Socket s = get()) {
      s.setReceiveBufferSize(64 * 1024);
      // Reads nothing: the writer must stop, having handed over no more than the socket's
      // buffers and a few chunks, and fail rather than wait for ever.
      Throwable ended = writerEnded.get(60, TimeUnit.SECONDS);

      assertThat(ended).isInstanceOf(IOException.class)
          .hasMessageContaining("the page was not sent within 500 ms");
      assertThat(handedOver.get()).isLessThan(64L * 1024 * 1024);
    }
    assertThatThrownBy(() -> {
      throw writerEnded.get();
    }).isInstanceOf(IOException.class);
  }

  @Test
  void aPageThatFitsInFlightFreesTheWriterAndIsCutAtTheDeadlineIfNotRead() throws Exception {
    // More than the sockets' buffers hold (4 MB each way at most here), all of it in flight.
    chunks = 512;
    pageBytes = 24L * 1024 * 1024;
    deadline = Duration.ofSeconds(1);

    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(16 * 1024);
      s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(),
          server.actualPort()));
      s.getOutputStream().write("GET /stats/prometheus HTTP/1.1\r\nHost: admin\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      // Reads nothing: the whole page is handed over, so the writer (a worker) is free at once.
      assertThat(writerEnded.get(30, TimeUnit.SECONDS)).isNull();
      assertThat(handedOver.get()).isEqualTo(pageBytes);

      // The deadline then resets the connection: what is read after it is not the whole page.
      assertThat(pageSent.get(30, TimeUnit.SECONDS)).isInstanceOf(IOException.class)
          .hasMessageContaining("the page was not sent within 1000 ms");
      assertThatThrownBy(() -> readChunkedBody(s.getInputStream()))
          .isInstanceOf(IOException.class);
    }
  }
}
