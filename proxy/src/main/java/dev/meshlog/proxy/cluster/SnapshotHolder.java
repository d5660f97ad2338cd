package dev.meshlog.proxy.cluster;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;

/**
 * The proxy's current {@link Dataplane}, swapped atomically when a new snapshot is applied: the
 * only place the subscriber and the request path meet.
 */
public final class SnapshotHolder {

  private final ProxyIdentity identity;
  private final Clock clock;
  private final AtomicReference<Dataplane> current;
  private final List<Consumer<Dataplane>> listeners = new CopyOnWriteArrayList<>();

  /** A holder starting with {@code initial}. */
  public SnapshotHolder(ProxySnapshot initial, ProxyIdentity identity, Clock clock) {
    this.identity = identity;
    this.clock = clock;
    this.current = new AtomicReference<>(Dataplane.build(initial, null, identity, clock));
  }

  /** The generation a new request should use. */
  public Dataplane current() {
    return current.get();
  }

  /** The snapshot in force. */
  public ProxySnapshot snapshot() {
    return current.get().snapshot();
  }

  /** The proxy this holder serves. */
  public ProxyIdentity identity() {
    return identity;
  }

  /** The clock every timer of the data plane reads. */
  public Clock clock() {
    return clock;
  }

  /** Builds the runtime for {@code snapshot} and swaps it in; requests in flight finish on theirs. */
  public synchronized Dataplane apply(ProxySnapshot snapshot) {
    Dataplane next = Dataplane.build(snapshot, current.get(), identity, clock);
    current.set(next);
    listeners.forEach(l -> l.accept(next));
    return next;
  }

  /** Calls {@code listener} after every swap. */
  public void onSwap(Consumer<Dataplane> listener) {
    listeners.add(listener);
  }
}
