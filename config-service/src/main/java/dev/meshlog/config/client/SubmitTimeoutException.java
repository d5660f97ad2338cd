package dev.meshlog.config.client;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import dev.meshlog.events.config.ConfigCommand;

/**
 * Some submitted commands got no answer in time; the message names each one. They are in the
 * log and will still be judged when the control plane gets to them.
 */
public final class SubmitTimeoutException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient List<Outcome> answered;
  private final transient List<ConfigCommand> unanswered;

  /** A timeout after {@code timeout} with these outcomes and missing answers. */
  public SubmitTimeoutException(Duration timeout, List<Outcome> answered,
                                List<ConfigCommand> unanswered) {
    super(message(timeout, unanswered));
    this.answered = List.copyOf(answered);
    this.unanswered = List.copyOf(unanswered);
  }

  private static String message(Duration timeout, List<ConfigCommand> unanswered) {
    return "no answer from the control plane within " + timeout.toSeconds() + "s for "
        + unanswered.size() + " command(s): " + unanswered.stream()
            .map(c -> ConfigCommands.id(c.getResource()).key() + " (" + c.getOperation()
                + ", command " + c.getCommandId() + ")")
            .collect(Collectors.joining(", "))
        + "; they are in mesh.config.commands and will be judged when config-service runs";
  }

  /** The outcomes that did arrive, in command order. */
  public List<Outcome> answered() {
    return answered;
  }

  /** The commands with no outcome yet. */
  public List<ConfigCommand> unanswered() {
    return unanswered;
  }
}
