package dev.meshlog.config.status;

/** Where one proxy stands with one view, compared with the latest version of that view. */
public enum SyncState {
  /** The proxy acknowledged the latest version. */
  SYNCED,
  /** A newer version exists that the proxy has not acknowledged yet. */
  STALE,
  /** The proxy rejected the version it was sent and keeps serving the last good one. */
  NACK,
  /** The control plane has published no view of this host (yet, or any more). */
  UNKNOWN
}
