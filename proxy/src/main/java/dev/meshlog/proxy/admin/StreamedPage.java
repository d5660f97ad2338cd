package dev.meshlog.proxy.admin;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/**
 * A page written on a worker thread and sent as it is written: the bytes go to the response in
 * chunks of {@code chunkBytes}, at most {@code maxChunksInFlight} of them handed to the event
 * loop and not yet written to the socket, so a page of any size takes a bounded amount of memory
 * (a sidecar's heap is 64 MB; Istio's metrics page grows by ≈53 KB per label set). The writer
 * waits while the client is slow, up to {@code stall} per chunk, then fails with an
 * {@link IOException}, as it does once the response failed (the client went away). Only the
 * response's event loop touches the response.
 */
final class StreamedPage extends OutputStream {

  private final Context context;
  private final HttpServerResponse response;
  private final Semaphore inFlight;
  private final int maxChunksInFlight;
  private final Duration stall;
  private final byte[] chunk;
  private int filled;
  private volatile Throwable failure;
  private boolean closed;

  StreamedPage(Context context, HttpServerResponse response, int chunkBytes,
               int maxChunksInFlight, Duration stall) {
    this.context = context;
    this.response = response;
    this.inFlight = new Semaphore(maxChunksInFlight);
    this.maxChunksInFlight = maxChunksInFlight;
    this.stall = stall;
    this.chunk = new byte[chunkBytes];
  }

  @Override
  public void write(int b) throws IOException {
    if (filled == chunk.length) {
      send();
    }
    chunk[filled++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    while (len > 0) {
      if (filled == chunk.length) {
        send();
      }
      int n = Math.min(len, chunk.length - filled);
      System.arraycopy(b, off, chunk, filled, n);
      filled += n;
      off += n;
      len -= n;
    }
  }

  /** Hands the filled part of the chunk to the event loop once fewer than the most are in flight. */
  private void send() throws IOException {
    checkFailure();
    try {
      if (!inFlight.tryAcquire(stall.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new IOException("the client read nothing for " + stall.toMillis() + " ms");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    checkFailure();
    Buffer b = Buffer.buffer(filled).appendBytes(chunk, 0, filled);
    filled = 0;
    context.runOnContext(v -> response.write(b).onComplete(ar -> {
      if (ar.failed()) {
        failure = ar.cause();
      }
      inFlight.release();
    }));
  }

  /**
   * Fails the page from outside the writer (the connection closed): a writer waiting for room
   * wakes at once and fails instead of waiting out the stall.
   */
  void abort(Throwable cause) {
    if (failure == null) {
      failure = cause;
    }
    inFlight.release(maxChunksInFlight);
  }

  private void checkFailure() throws IOException {
    Throwable t = failure;
    if (t != null) {
      throw new IOException("response failed: " + t, t);
    }
  }

  /** Sends what is left and ends the response. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    if (filled > 0) {
      send();
    }
    checkFailure();
    context.runOnContext(v -> response.end());
  }

}
