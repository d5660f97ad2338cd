package dev.meshlog.config.controlplane;

import java.time.Duration;

import dev.meshlog.schemas.Topics;

/**
 * How large a view the control plane publishes, and how often it republishes a large one when
 * registrations change it.
 *
 * <p>A registration that changes a host's endpoints recompiles and republishes the host's whole
 * view. For a small view that is cheap, and done at once. For a large one it is not: 50,000 pods
 * of one service registering one by one would publish 50,000 views of up to ≈5–7 MB each (a
 * quadratic 125–175 GB), and every proxy tracking the host would apply each one. So a registry
 * change of a host whose last compiled view was over {@link #coalesceAboveBytes} waits, with
 * every other change of that host meanwhile, and the host is compiled and published once when
 * the wait ends: {@link #coalesceDelay} after the first change, longer for a larger view, so a
 * registration storm republishes a host's view at most about 10 MiB/s (Istio coalesces its
 * pushes the same way: {@code PILOT_DEBOUNCE_AFTER}, 100 ms by default). Config commands are
 * never delayed: their views are compiled and published in the command's transaction, as before.
 *
 * @param maxViewBytes the largest view published, encoded; a larger one is held back
 * @param coalesceAboveBytes a host whose last compiled view was larger has its registry changes
 *     coalesced; {@link Integer#MAX_VALUE}: never
 * @param coalescePerMib how long registry changes of a host wait per MiB of its view
 * @param coalesceAtLeast the shortest wait
 */
record ViewLimits(int maxViewBytes, int coalesceAboveBytes, Duration coalescePerMib,
                  Duration coalesceAtLeast) {

  /**
   * What runs: views up to {@link Topics#MAX_VIEW_BYTES}; registry changes of a host whose view
   * is over 64 KiB (≈500 endpoints) wait 100 ms per MiB of it, at least 100 ms — 0.5–0.7 s for a
   * host of 50,000 endpoints, 1.6 s at the limit.
   */
  static final ViewLimits DEFAULT = new ViewLimits(Topics.MAX_VIEW_BYTES, 64 * 1024,
      Duration.ofMillis(100), Duration.ofMillis(100));

  ViewLimits {
    if (maxViewBytes < 1) {
      throw new IllegalArgumentException("maxViewBytes: " + maxViewBytes + " (expected: >= 1)");
    }
    if (coalesceAboveBytes < 0) {
      throw new IllegalArgumentException("coalesceAboveBytes: " + coalesceAboveBytes
          + " (expected: >= 0)");
    }
    if (coalescePerMib.isNegative() || coalesceAtLeast.isNegative() || coalesceAtLeast.isZero()) {
      throw new IllegalArgumentException("coalescePerMib: " + coalescePerMib + ", coalesceAtLeast: "
          + coalesceAtLeast + " (expected: >= 0 and > 0)");
    }
  }

  /** These limits with views up to {@code bytes} (tests of holds use small views). */
  ViewLimits withMaxViewBytes(int bytes) {
    return new ViewLimits(bytes, coalesceAboveBytes, coalescePerMib, coalesceAtLeast);
  }

  /** These limits with every registry change published at once, whatever the view's size. */
  ViewLimits withoutCoalescing() {
    return new ViewLimits(maxViewBytes, Integer.MAX_VALUE, coalescePerMib, coalesceAtLeast);
  }

  /**
   * How much a held view's size must change before its hold record is rewritten: 1% of
   * {@link #maxViewBytes}. Heartbeats recompile a held view without changing it, and an
   * endpoint more or less moves it by a few hundred bytes; a record per such change would be
   * noise on the topic and in the log.
   */
  int holdSizeStep() {
    return maxViewBytes / 100;
  }

  /** Whether registry changes of a host whose last view was {@code viewBytes} are coalesced. */
  boolean coalesces(int viewBytes) {
    return viewBytes > coalesceAboveBytes;
  }

  /** How long registry changes of a host whose last view was {@code viewBytes} wait. */
  Duration coalesceDelay(int viewBytes) {
    Duration scaled = Duration.ofNanos((long) (coalescePerMib.toNanos()
        * (viewBytes / (double) (1 << 20))));
    return scaled.compareTo(coalesceAtLeast) < 0 ? coalesceAtLeast : scaled;
  }
}
