package dev.meshlog.config.status;

import java.util.List;

/**
 * One problem the control plane found in a resource while compiling views.
 *
 * @param severity ERROR, or WARNING when the message starts with {@code warning:}
 * @param path the field path in the resource
 * @param message what is wrong (without the {@code warning:} prefix)
 * @param hosts the views it was found in, sorted
 */
public record Finding(Severity severity, String path, String message, List<String> hosts) {

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
}
