package dev.meshlog.proxy.http;

import java.util.ArrayList;
import java.util.List;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;

/**
 * A request body streamed to one upstream try at a time with backpressure, keeping a copy of up to
 * {@code limit} bytes so a retry (or a mirror) can replay it. Once a byte went upstream without
 * being kept, the body can no longer be replayed and retries stop. Everything runs on the
 * request's event loop.
 */
final class ReplayableBody {

  /** Told when the body fails: a chunk that does not decode, or the caller gone. */
  interface FailureListener {
    /** The body failed with {@code cause}; the body is no longer replayable. */
    void bodyFailed(Throwable cause);
  }

  private final ReadStream<Buffer> source;
  private final FailureListener listener;
  private final long limit;
  private final List<Buffer> kept = new ArrayList<>();
  /** Created when someone asks for the whole body (a mirror): most requests never do. */
  private Promise<Buffer> complete;
  private Throwable failure;
  private long keptBytes;
  private long bytes;
  private boolean overflowed;
  private boolean ended;
  private boolean failed;
  private Buffer held;
  private WriteStream<Buffer> sink;
  /** Told once whether the body has any bytes, when {@link #whenKnown} asked. */
  private Handler<Boolean> probe;

  /**
   * Starts reading {@code source}, which must be paused.
   *
   * @param limit bytes to keep for replays; 0 keeps none
   */
  ReplayableBody(ReadStream<Buffer> source, long limit) {
    this(source, limit, null);
  }

  /**
   * Starts reading {@code source}, which must be paused, telling {@code listener} (when not
   * {@code null}) if it fails. The listener rides on the handler a failure reaches anyway: it
   * costs the body's reads nothing.
   */
  ReplayableBody(ReadStream<Buffer> source, long limit, FailureListener listener) {
    this.source = source;
    this.limit = limit;
    this.listener = listener;
    source.handler(this::onData);
    source.endHandler(v -> onEnd());
    source.exceptionHandler(t -> {
      failed = true;
      fail(t);
      if (listener != null) {
        listener.bodyFailed(t);
      }
      answerProbe(true);
    });
  }

  /** Whether every byte sent so far was kept, so the body can be sent again from the start. */
  boolean canReplay() {
    return !overflowed && !failed;
  }

  /** Body bytes read from the caller so far. */
  long bytesRead() {
    return bytes;
  }

  /** Completes with the whole body when it ended and was kept whole; fails otherwise. */
  Future<Buffer> whole() {
    if (complete == null) {
      complete = Promise.promise();
      if (failure != null) {
        complete.fail(failure);
      } else if (overflowed) {
        complete.fail(tooLarge());
      } else if (ended) {
        complete.complete(concat());
      }
    }
    return complete.future();
  }

  private void fail(Throwable t) {
    if (failure == null) {
      failure = t;
    }
    if (complete != null) {
      complete.tryFail(t);
    }
  }

  /**
   * Sends the body to {@code next} from the start, then whatever arrives, ending it when the body
   * ends. Returns false, sending nothing, when the body can no longer be replayed.
   */
  boolean attach(WriteStream<Buffer> next) {
    if (!canReplay()) {
      return false;
    }
    sink = next;
    for (Buffer b : kept) {
      next.write(b);
    }
    if (held != null) {
      Buffer b = held;
      held = null;
      overflow();
      next.write(b);
    }
    if (ended) {
      next.end();
    } else if (next.writeQueueFull()) {
      awaitDrain(next);
    } else {
      source.resume();
    }
    return true;
  }

  /**
   * Tells {@code then} whether the body has any bytes, as soon as its first bytes or its end
   * arrived: what an HTTP/1.1 request made from an HTTP/2 one without a content length needs
   * to know to choose its framing (none, or chunked), as HTTP/2 says it only by ending the stream
   * with the headers. Reads at most the first buffer beyond what is kept for replays; a failed
   * body answers true (the try that follows sees the failure).
   */
  void whenKnown(Handler<Boolean> then) {
    if (bytes > 0 || failed) {
      then.handle(true);
    } else if (ended) {
      then.handle(false);
    } else {
      probe = then;
      source.resume();
    }
  }

  private void answerProbe(boolean hasBytes) {
    Handler<Boolean> then = probe;
    if (then != null) {
      probe = null;
      then.handle(hasBytes);
    }
  }

  /** Stops sending to the current try (it failed); the body keeps being kept up to the limit. */
  void detach() {
    sink = null;
  }

  private void onData(Buffer b) {
    bytes += b.length();
    if (!overflowed && keptBytes + b.length() <= limit) {
      kept.add(b);
      keptBytes += b.length();
      if (sink != null) {
        write(b);
      } else if (probe != null) {
        source.pause();
        answerProbe(true);
      }
      return;
    }
    if (sink == null) {
      held = b;
      source.pause();
      answerProbe(true);
      return;
    }
    overflow();
    write(b);
  }

  private void overflow() {
    overflowed = true;
    kept.clear();
    keptBytes = 0;
    // The reason is made only for a mirror waiting for the whole body: most bodies that pass
    // the limit (every inbound one, whose limit is 0) have nobody to tell.
    if (complete != null) {
      complete.tryFail(tooLarge());
    }
  }

  private VertxException tooLarge() {
    return new VertxException("request body larger than the " + limit + " byte replay buffer",
        true);
  }

  private void write(Buffer b) {
    WriteStream<Buffer> s = sink;
    s.write(b);
    if (s.writeQueueFull()) {
      source.pause();
      awaitDrain(s);
    }
  }

  private void awaitDrain(WriteStream<Buffer> s) {
    s.drainHandler(v -> {
      if (sink == s) {
        source.resume();
      }
    });
  }

  private void onEnd() {
    ended = true;
    answerProbe(bytes > 0);
    if (!overflowed && complete != null) {
      complete.tryComplete(concat());
    }
    if (sink != null) {
      sink.end();
    }
  }

  private Buffer concat() {
    if (kept.isEmpty()) {
      return Buffer.buffer();
    }
    Buffer all = Buffer.buffer((int) keptBytes);
    kept.forEach(all::appendBuffer);
    return all;
  }
}
