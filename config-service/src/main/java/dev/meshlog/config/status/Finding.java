package dev.meshlog.config.status;

import java.util.List;

import dev.meshlog.events.discovery.ViewHold;

/**
 * One problem the control plane found in a resource while compiling views, or a view it holds
 * back for size.
 *
 * @param severity ERROR, or WARNING when the message starts with {@code warning:}
 * @param path the field path in the resource
 * @param message what is wrong (without the {@code warning:} prefix)
 * @param hosts the views it was found in, sorted
 * @param hold for a view held back for size, the hold as on {@code mesh.discovery.holds};
 *     otherwise null
 */
public record Finding(Severity severity, String path, String message, List<String> hosts,
                      ViewHold hold) {

  /** How bad a finding is. */
  public enum Severity {
    /** The part was left out of the views. */
    ERROR,
    /** Worth a look; the views are still what the user asked for. */
    WARNING
  }

  public Finding {
    hosts = List.copyOf(hosts);
  }

  /** A problem found while compiling views (no hold). */
  public Finding(Severity severity, String path, String message, List<String> hosts) {
    this(severity, path, message, hosts, null);
  }
}
