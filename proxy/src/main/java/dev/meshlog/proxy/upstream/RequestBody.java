package dev.meshlog.proxy.upstream;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.streams.WriteStream;

/**
 * A request body's way onto an {@link Http1Connection}, as the {@code WriteStream} the proxy's
 * replayable body writes to: each buffer goes out as one HTTP content (a view of the buffer, not
 * a copy, so a retry can send the same buffer again), the queue is full while the channel is not
 * writable, and no promise is made per write.
 */
public final class RequestBody implements WriteStream<Buffer> {

  private final Http1Connection connection;
  /** Which of the connection's requests this is the body of. */
  private final int request;
  private Handler<Void> drainHandler;

  /** The body of the request in flight on {@code connection}. */
  public RequestBody(Http1Connection connection) {
    this.connection = connection;
    this.request = connection.requests();
  }

  /**
   * Whether the connection still carries this body's request: once it went back to the pool
   * (its response ended first) and carries another, what comes late of this body is dropped.
   */
  private boolean current() {
    return connection.requests() == request;
  }

  /** Called by the exchange when the connection's writability changed. */
  public void writabilityChanged(boolean writable) {
    Handler<Void> h = drainHandler;
    if (writable && h != null) {
      drainHandler = null;
      h.handle(null);
    }
  }

  @Override
  public Future<Void> write(Buffer data) {
    // Vert.x's heap buffers ignore release, other buffers come back as unreleasable views: the
    // caller's copy (kept for a replay) survives the write either way.
    if (current()) {
      connection.write(((BufferInternal) data).getByteBuf());
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> end() {
    if (current()) {
      connection.end();
    }
    return Future.succeededFuture();
  }

  @Override
  public boolean writeQueueFull() {
    return current() && !connection.writable();
  }

  @Override
  public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
    this.drainHandler = handler;
    return this;
  }

  @Override
  public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    // A failed write closes the connection; the exchange hears it as a reset.
    return this;
  }

  @Override
  public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
    return this;
  }
}
