package dev.meshlog.config.gitops;

import java.time.Instant;
import java.util.List;

import dev.meshlog.config.client.Outcome;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.Operation;
import dev.meshlog.events.config.RejectionReason;

/**
 * What happened to one commit: the outcome of each command made from it, the documents that
 * could not be read, and the commands still unanswered when the wait ended.
 *
 * @param commitId the full commit id
 * @param author {@code Name <email>}
 * @param message the commit's first line
 * @param committedAt the commit time
 * @param outcomes one per answered command, in command order
 * @param problems documents that could not be read or resources left alone, one line each
 * @param warnings what applied but deserves a look (a resource defined twice, identically)
 * @param unanswered commands submitted but not judged in time (they will be)
 */
public record CommitReport(String commitId, String author, String message, Instant committedAt,
                           List<Outcome> outcomes, List<String> problems, List<String> warnings,
                           List<ConfigCommand> unanswered) {

  public CommitReport {
    outcomes = List.copyOf(outcomes);
    problems = List.copyOf(problems);
    warnings = List.copyOf(warnings);
    unanswered = List.copyOf(unanswered);
  }

  /** The first seven characters of the commit id. */
  public String shortId() {
    return commitId.substring(0, Math.min(7, commitId.length()));
  }

  /**
   * The outcomes that count as failures: rejections, except a delete of a resource that is
   * already gone (the desired state holds).
   */
  public List<Outcome> rejections() {
    return outcomes.stream().filter(o -> !o.accepted())
        .filter(o -> !(o.command().getOperation() == Operation.DELETE
            && o.reason() == RejectionReason.NOT_FOUND))
        .toList();
  }

  /** Whether every resource of the commit was read, submitted and accepted. */
  public boolean clean() {
    return rejections().isEmpty() && problems.isEmpty() && unanswered.isEmpty();
  }
}
