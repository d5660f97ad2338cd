package dev.meshlog.config.client;

import java.util.List;
import java.util.Objects;

import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.config.FieldError;
import dev.meshlog.events.config.RejectionReason;

/**
 * The control plane's answer to one command: the accepted {@link ConfigEvent} or the
 * {@link ConfigRejection} (exactly one is set), with where it was read in the log.
 *
 * @param command the command as sent
 * @param event the accepted change, or null
 * @param rejection the refusal, or null
 * @param partition the partition of the outcome's record
 * @param offset the offset of the outcome's record
 */
public record Outcome(ConfigCommand command, ConfigEvent event, ConfigRejection rejection,
                      int partition, long offset) {

  public Outcome {
    Objects.requireNonNull(command, "command");
    if ((event == null) == (rejection == null)) {
      throw new IllegalArgumentException("an outcome is either an event or a rejection");
    }
  }

  /** Whether the command was accepted (its change may be UNCHANGED). */
  public boolean accepted() {
    return event != null;
  }

  /** The resource the command was about. */
  public ResourceId resource() {
    return ConfigCommands.id(command.getResource());
  }

  /** The change made, or null when rejected. */
  public ChangeType changeType() {
    return event == null ? null : event.getChangeType();
  }

  /** The resource's revision after an accepted command, or null when rejected. */
  public Long revision() {
    return event == null ? null : event.getRevision();
  }

  /** Why it was rejected, or null when accepted. */
  public RejectionReason reason() {
    return rejection == null ? null : rejection.getReason();
  }

  /** The field errors of a rejection; empty when accepted. */
  public List<FieldError> errors() {
    return rejection == null ? List.of() : rejection.getErrors();
  }
}
