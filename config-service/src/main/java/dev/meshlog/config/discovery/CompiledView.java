package dev.meshlog.config.discovery;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewProblem;

/**
 * One view as the compiler built it, with the problems found on the way inside it; the caller
 * sets {@code version}, {@code generatedAt} and {@code triggeredBy} before publishing.
 */
public record CompiledView(ServiceView view) {

  /** Prefix of the messages of problems that left nothing out of the view. */
  public static final String WARNING = "warning: ";

  public CompiledView {
    Objects.requireNonNull(view, "view");
  }

  /** The view's host. */
  public String host() {
    return view.getHost();
  }

  /** Whether the host no longer exists (no registered service, ServiceEntry or Gateway names it). */
  public boolean removed() {
    return view.getRemoved();
  }

  /** Every problem, errors (config left out) and warnings. */
  public List<ViewProblem> problems() {
    return view.getProblems();
  }

  /** The problems that left config out of the view (not warnings). */
  public List<ViewProblem> errors() {
    return view.getProblems().stream().filter(p -> !p.getMessage().startsWith(WARNING)).toList();
  }

  /**
   * Whether {@code published} says the same as this view, ignoring the fields the caller sets
   * (version, generatedAt, triggeredBy): when it does, there is nothing new to publish.
   */
  public boolean sameContentAs(ServiceView published) {
    return published != null && withoutCallerFields(view).equals(withoutCallerFields(published));
  }

  private static ServiceView withoutCallerFields(ServiceView v) {
    return ServiceView.newBuilder(v).setVersion(0).setGeneratedAt(Instant.EPOCH).setTriggeredBy(null).build();
  }
}
