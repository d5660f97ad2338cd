package dev.meshlog.proxy.tcp;

import io.vertx.core.Handler;
import io.vertx.core.net.NetSocket;

/**
 * Bytes between two sockets in both directions, with backpressure: each side is piped to the
 * other, so a reader pauses while its writer's queue is full and resumes when it drains. When
 * either side closes or fails, both are closed and {@code onClose} runs once.
 */
final class Relay {

  private final NetSocket downstream;
  private final NetSocket upstream;
  private final CountingStream toUpstream;
  private final CountingStream toDownstream;
  private boolean closed;

  /** Starts relaying; both sockets may be paused. */
  Relay(NetSocket downstream, NetSocket upstream, Handler<Relay> onClose) {
    this.downstream = downstream;
    this.upstream = upstream;
    this.toUpstream = new CountingStream(upstream);
    this.toDownstream = new CountingStream(downstream);
    Handler<Void> close = v -> {
      if (!closed) {
        closed = true;
        downstream.close();
        upstream.close();
        onClose.handle(this);
      }
    };
    downstream.closeHandler(close);
    upstream.closeHandler(close);
    downstream.exceptionHandler(t -> close.handle(null));
    upstream.exceptionHandler(t -> close.handle(null));
    downstream.pipeTo(toUpstream);
    upstream.pipeTo(toDownstream);
  }

  /** Bytes the downstream sent (written upstream). */
  long bytesFromDownstream() {
    return toUpstream.bytes();
  }

  /** Bytes the upstream sent (written downstream). */
  long bytesFromUpstream() {
    return toDownstream.bytes();
  }
}
