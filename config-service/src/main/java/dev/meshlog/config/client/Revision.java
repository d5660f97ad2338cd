package dev.meshlog.config.client;

import java.time.Instant;

import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigEvent;

/**
 * One revision in a resource's history: what changed, who changed it, from where, and when.
 *
 * @param revision the revision number (1, 2, ...)
 * @param changeType CREATED, UPDATED or DELETED
 * @param actor who asked
 * @param source where it came from (CLI, API, or a git commit with author and path)
 * @param requestedAt when the command was sent
 * @param acceptedAt when the control plane accepted it
 * @param rolledBackTo the revision whose spec it restored, or null
 * @param commandId the command that made it
 * @param document the resource after the change as JSON, null for a deletion
 */
public record Revision(long revision, ChangeType changeType, String actor, ChangeSource source,
                       Instant requestedAt, Instant acceptedAt, Long rolledBackTo, String commandId,
                       String document) {

  /** The revision recorded by {@code event}. */
  public static Revision of(ConfigEvent event) {
    return new Revision(event.getRevision(), event.getChangeType(), event.getActor(),
        event.getSource(), event.getRequestedAt(), event.getAcceptedAt(),
        event.getRolledBackToRevision(), event.getCommandId(), event.getDocument());
  }
}
