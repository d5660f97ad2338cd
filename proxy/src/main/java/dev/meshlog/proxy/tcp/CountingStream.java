package dev.meshlog.proxy.tcp;

import java.util.function.LongConsumer;
import java.util.function.Supplier;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;

/**
 * A write stream that counts the bytes written through it, for the access log, and tells the
 * metrics of each write as it passes.
 */
final class CountingStream implements WriteStream<Buffer> {

  private final WriteStream<Buffer> delegate;
  private final Supplier<Future<Void>> end;
  private final LongConsumer live;
  private long bytes;

  /**
   * Counts what is written to {@code delegate}.
   *
   * @param end what ending the stream does instead of ending {@code delegate} (e.g. a half
   *     close), or {@code null}
   * @param live told the length of each write
   */
  CountingStream(WriteStream<Buffer> delegate, Supplier<Future<Void>> end, LongConsumer live) {
    this.delegate = delegate;
    this.end = end;
    this.live = live;
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
    live.accept(data.length());
    return delegate.write(data);
  }

  @Override
  public Future<Void> end() {
    return end != null ? end.get() : delegate.end();
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
