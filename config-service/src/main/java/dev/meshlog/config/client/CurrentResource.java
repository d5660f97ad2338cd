package dev.meshlog.config.client;

import java.time.Instant;

import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.ConfigEvent;

/**
 * A resource as it is now: its latest accepted document and the event that made it so.
 *
 * @param id the resource id
 * @param revision its current revision
 * @param resource the current document
 * @param event the event of that revision
 */
public record CurrentResource(ResourceId id, long revision, Resource resource, ConfigEvent event) {

  /** When the current revision was accepted. */
  public Instant updatedAt() {
    return event.getAcceptedAt();
  }

  /** Who made the current revision. */
  public String actor() {
    return event.getActor();
  }

  /** Where the current revision came from. */
  public ChangeSource source() {
    return event.getSource();
  }
}
