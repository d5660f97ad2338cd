package dev.meshlog.proxy.tcp;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;

/** A write stream that counts the bytes written through it, for the access log and metrics. */
final class CountingStream implements WriteStream<Buffer> {

  private final WriteStream<Buffer> delegate;
  private long bytes;

  CountingStream(WriteStream<Buffer> delegate) {
    this.delegate = delegate;
  }

  /** Bytes written so far. */
  long bytes() {
    return bytes;
  }

  @Override
  public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    delegate.exceptionHandler(handler);
    return this;
  }

  @Override
  public Future<Void> write(Buffer data) {
    bytes += data.length();
    return delegate.write(data);
  }

  @Override
  public Future<Void> end() {
    return delegate.end();
  }

  @Override
  public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
    delegate.setWriteQueueMaxSize(maxSize);
    return this;
  }

  @Override
  public boolean writeQueueFull() {
    return delegate.writeQueueFull();
  }

  @Override
  public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
    delegate.drainHandler(handler);
    return this;
  }
}
