package dev.meshlog.proxy.tcp;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TCP connections one proxy is relaying (outbound listeners, the inbound end of tunnels, a
 * gateway's TCP servers), so that a stopping proxy can end them in order: {@link #endAll} closes
 * each on its own event loop, which makes its last report (access log, the
 * {@code istio_tcp_connections_closed_total} counter, its closing telemetry report with the
 * bytes since the previous one) before the emitter's final flush, instead of the connection
 * dying with the event loops and its report with it.
 *
 * <p>A relay adds itself as it starts and removes itself as it closes: one set add and remove
 * per connection, never per byte.
 */
public final class TcpConnections {

  /** How long {@link #endAll} waits at most for the event loops to close their connections. */
  public static final Duration END_TIMEOUT = Duration.ofSeconds(5);

  private static final Logger LOG = LoggerFactory.getLogger(TcpConnections.class);

  private final Set<Relay> open = ConcurrentHashMap.newKeySet();
  /** Set by {@link #endAll}: a relay that starts from then on is closed at once. */
  private volatile boolean ending;

  /** A relay started; on its event loop. */
  void started(Relay relay) {
    open.add(relay);
    if (ending) {
      // it was connecting as the proxy stopped: it ends with the others
      relay.closeOnItsLoop(null);
    }
  }

  /** A relay closed; on its event loop. */
  void closed(Relay relay) {
    open.remove(relay);
  }

  /** The connections being relayed now. */
  public int open() {
    return open.size();
  }

  /**
   * Closes every relayed connection, each on its own event loop (both its sockets, then its
   * last report), and from now on every connection that finishes connecting; completes once
   * each has been closed and reported, or after {@code bound} (with a warning) if an event loop
   * does not get to it, so a stopping proxy never hangs here.
   */
  public Future<Void> endAll(Duration bound) {
    ending = true;
    List<Future<Void>> ended = new ArrayList<>();
    for (Relay r : open) {
      Promise<Void> done = Promise.promise();
      r.closeOnItsLoop(done);
      ended.add(done.future());
    }
    if (ended.isEmpty()) {
      return Future.succeededFuture();
    }
    LOG.info("closing {} open TCP connection(s)", ended.size());
    // Bounded by a JDK timer, not a Vert.x one: a timer would run on an event loop, the very
    // thing that may be stuck.
    CompletableFuture<Void> bounded = Future.join(ended).toCompletionStage().toCompletableFuture()
        .thenApply(cf -> (Void) null)
        .orTimeout(Math.max(1, bound.toMillis()), TimeUnit.MILLISECONDS)
        .exceptionally(e -> {
          LOG.warn("{} TCP connection(s) not closed within {}; stopping anyway",
              ended.stream().filter(f -> !f.isComplete()).count(), bound);
          return null;
        });
    return Future.fromCompletionStage(bounded);
  }

  /** {@link #endAll(Duration)} bounded by {@link #END_TIMEOUT}. */
  public Future<Void> endAll() {
    return endAll(END_TIMEOUT);
  }

  @Override
  public String toString() {
    return "TcpConnections[" + open.size() + " open" + (ending ? ", ending" : "") + "]";
  }
}
