package dev.meshlog.config.controlplane;

/**
 * Whether the registry topic is delivering records, and since when: what keeps a registry that
 * stopped flowing (Kafka unreachable, a network partition, the control plane down and restarted
 * on old state) from lapsing every lease in the mesh by the wall clock.
 *
 * <p>The rule (config-service/README.md, "Registry"): time in which the control plane received no
 * registry record does not count against any lease. The registry is <em>silent</em> once no record
 * came for longer than half the shortest lease of the instances expected to heartbeat (each
 * heartbeats every third of its lease, so a healthy registry is never that quiet, while a lease
 * that ends in an outage ends at least two thirds of it after the last record), and before its
 * first record since the processor started. The record that ends a silence <em>resumes</em> it. A
 * live instance lapses only when its lease ended, the registry is not silent, and a whole lease of
 * its own has passed since the registry resumed.
 *
 * <p>Processing time (the task's wall clock) throughout. Not thread-safe (the task's thread only).
 */
final class RegistryFlow {

  private static final long NEVER = Long.MIN_VALUE;

  /** When the last registry record was processed, or never since the processor started. */
  private long lastRecordAt = NEVER;
  /** When the registry last resumed after a silence (or first delivered), or never. */
  private long resumedAt = NEVER;
  /** How long the registry may be quiet before it counts as silent. */
  private long silentAfterMillis;

  /**
   * Notes a registry record processed at {@code now}; returns whether it resumes the registry (the
   * first since the processor started, or the first after a silence).
   */
  boolean recordArrived(long now) {
    boolean resumes = silent(now);
    if (resumes) {
      resumedAt = now;
    }
    lastRecordAt = now;
    return resumes;
  }

  /**
   * Sets how quiet the registry may be before it counts as silent, from the shortest lease of the
   * instances now expected to heartbeat ({@link Long#MAX_VALUE}: none is, so any quiet is silence:
   * no lease the control plane expects to be renewed would lapse by it).
   */
  void expectHeartbeatsWithin(long shortestLeaseMillis) {
    silentAfterMillis = shortestLeaseMillis == Long.MAX_VALUE ? 0 : shortestLeaseMillis / 2;
  }

  /** Whether the registry is silent at {@code now}: nothing lapses then. */
  boolean silent(long now) {
    return lastRecordAt == NEVER || now - lastRecordAt > silentAfterMillis;
  }

  /** Whether a live instance with this heartbeat and lease lapses at {@code now}. */
  boolean lapses(long heartbeatAt, long leaseMillis, long now) {
    return heartbeatAt + leaseMillis <= now && !silent(now) && resumedAt + leaseMillis <= now;
  }

  /**
   * The earliest an instance whose lease already ended may lapse: a whole lease after the registry
   * resumed; {@link Long#MIN_VALUE} before the first record since the start (that record is when
   * the instance's grace begins).
   */
  long graceEnd(long leaseMillis) {
    return resumedAt == NEVER ? Long.MIN_VALUE : resumedAt + leaseMillis;
  }
}
