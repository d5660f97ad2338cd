package dev.meshlog.proxy.cluster;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's current {@link Dataplane}, swapped atomically when a new snapshot is applied: the
 * only place the subscriber and the request path meet.
 */
public final class SnapshotHolder {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotHolder.class);

  private final ProxyIdentity identity;
  private final Clock clock;
  private final AtomicReference<Dataplane> current;
  private final List<Consumer<Dataplane>> listeners = new CopyOnWriteArrayList<>();
  /** Whether the snapshot in force is the proxy's config, not the empty one it starts with. */
  private volatile BooleanSupplier configured = () -> true;
  /** The proxy's listeners an endpoint must not be; guarded by this. */
  private LoopGuard guard = LoopGuard.NONE;
  /** Endpoints left out as request loops, once per snapshot built. */
  private final AtomicLong loopsLeftOut = new AtomicLong();

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
    Dataplane next = Dataplane.build(snapshot, current.get(), identity, clock, guard);
    for (LoopGuard.Loop loop : next.loops()) {
      LOG.error("host {}: endpoint {} ({}) left out: it is this proxy's own {} listener {}:{},"
              + " which routes by Host, so a request sent there would come back here and be"
              + " sent there again (a request loop); fix the ServiceEntry or registration that"
              + " names it", loop.host(), loop.endpoint().hostPort(),
          loop.endpoint().instanceId(), loop.listener().name(), loop.listener().host(),
          loop.listener().port());
    }
    loopsLeftOut.addAndGet(next.loops().size());
    current.set(next);
    listeners.forEach(l -> l.accept(next));
    return next;
  }

  /**
   * Makes every snapshot from now on, the one in force included (it is built again), leave out
   * endpoints that are one of {@code guard}'s listeners. Called once the listeners are bound,
   * when their ports are known.
   */
  public synchronized Dataplane guardLoops(LoopGuard guard) {
    this.guard = java.util.Objects.requireNonNull(guard, "guard");
    return apply(snapshot());
  }

  /**
   * How many endpoints have been left out as request loops: each snapshot built counts each
   * such endpoint of each host once. See {@link Dataplane#loops()} for those of the one in force.
   */
  public long loopsLeftOut() {
    return loopsLeftOut.get();
  }

  /**
   * Whether the proxy has its config: a snapshot read from the views topic up to its end, from
   * the last good snapshot on disk, or given at start. Until then a host missing from the
   * snapshot is not known to be missing from the mesh.
   */
  public boolean configured() {
    return configured.getAsBoolean();
  }

  /** Makes {@link #configured()} ask {@code check} (the views' subscriber); true by default. */
  public void configuredWhen(BooleanSupplier check) {
    this.configured = check;
  }

  /** Calls {@code listener} after every swap. */
  public void onSwap(Consumer<Dataplane> listener) {
    listeners.add(listener);
  }
}
