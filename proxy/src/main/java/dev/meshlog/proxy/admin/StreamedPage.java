package dev.meshlog.proxy.admin;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * A page written on a worker thread and sent as it is written: the bytes go to the response in
 * chunks of {@code chunkBytes}, at most {@code maxChunksInFlight} of them handed to the event
 * loop and not yet written to the socket, so a page of any size takes a bounded amount of memory
 * (a sidecar's heap is 64 MB; Istio's metrics page grows by ≈53 KB per label set). A page that
 * fits in those chunks leaves the worker as soon as it is rendered, whatever the client does;
 * a larger one holds the worker while the client is slow. The whole page, its end written to the
 * socket included, must go within {@code deadline} of the page's start: then a timer on the
 * event loop fails the writer (which wakes at once) and resets the response, so a client that
 * stops reading, or reads a byte now and then, holds a worker and the page's memory for no
 * longer than that. The writer fails with an {@link IOException} too once the response failed
 * (the client went away). Only the response's event loop touches the response.
 */
final class StreamedPage extends OutputStream {

  private final Context context;
  private final HttpServerRequest request;
  private final HttpServerResponse response;
  private final Semaphore inFlight;
  private final int maxChunksInFlight;
  private final Duration deadline;
  private final long deadlineNanos;
  private final long timer;
  private final byte[] chunk;
  private int filled;
  private volatile Throwable failure;
  private boolean closed;
  /** Loop only: the end reached the socket. */
  private boolean sent;
  private final Promise<Void> outcome = Promise.promise();

  /** A page answering {@code request}; made on {@code context}'s event loop. */
  StreamedPage(Context context, HttpServerRequest request, int chunkBytes,
               int maxChunksInFlight, Duration deadline) {
    this.context = context;
    this.request = request;
    this.response = request.response();
    this.inFlight = new Semaphore(maxChunksInFlight);
    this.maxChunksInFlight = maxChunksInFlight;
    this.deadline = deadline;
    this.deadlineNanos = System.nanoTime() + deadline.toNanos();
    this.chunk = new byte[chunkBytes];
    this.timer = context.owner().setTimer(Math.max(1, deadline.toMillis()), id -> expire());
  }

  /** The deadline passed (on the loop): the page is given up, its connection reset. */
  private void expire() {
    if (sent) {
      return;
    }
    IOException late = new IOException("the page was not sent within " + deadline.toMillis()
        + " ms");
    abort(late);
    outcome.tryFail(late);
    if (!response.ended()) {
      response.reset();
    }
    // A reset of an HTTP/1.x response, and Vert.x's close of its connection, still let what was
    // written drain to the client first: the channel itself is closed, with a TCP reset
    // (SO_LINGER 0), so the page's memory goes at once and the scraper sees it partial.
    if (request.connection() instanceof ConnectionBase c) {
      Channel channel = c.channel();
      try {
        channel.config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException e) {
        // a transport without the option: an orderly close then
      }
      channel.close();
    } else {
      request.connection().close();
    }
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
      // The loop's timer fails the page at the deadline; this bound is the writer's own.
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0 || !inFlight.tryAcquire(left, TimeUnit.NANOSECONDS)) {
        throw new IOException("the page was not sent within " + deadline.toMillis() + " ms");
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
   * wakes at once and fails instead of waiting out the deadline.
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
    context.runOnContext(v -> response.end().onComplete(ar -> {
      sent = true;
      context.owner().cancelTimer(timer);
      if (ar.succeeded()) {
        outcome.tryComplete();
      } else {
        outcome.tryFail(ar.cause());
      }
    }));
  }

  /**
   * The page is answered otherwise (a 500 before any of it was written, on the loop): its
   * deadline no longer applies, and the connection stays.
   */
  void answeredOtherwise() {
    sent = true;
    context.owner().cancelTimer(timer);
  }

  /**
   * Completes once the page's end reached the socket; fails when the page was given up at its
   * deadline or the end could not be written.
   */
  Future<Void> sent() {
    return outcome.future();
  }

}
