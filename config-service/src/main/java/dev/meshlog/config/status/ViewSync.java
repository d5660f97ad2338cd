package dev.meshlog.config.status;

import java.time.Instant;

/**
 * One proxy's state for one view host.
 *
 * @param host the view's host
 * @param state SYNCED, STALE, NACK or UNKNOWN
 * @param latestVersion the latest version published, or null when none is known
 * @param reportedVersion the version the proxy's last ACK or NACK was about
 * @param appliedVersion the version the proxy serves, or null when it did not say
 * @param error the proxy's error for a NACK, else null
 * @param updatedAt when the proxy reported it
 */
public record ViewSync(String host, SyncState state, Long latestVersion, long reportedVersion,
                       Long appliedVersion, String error, Instant updatedAt) {}
