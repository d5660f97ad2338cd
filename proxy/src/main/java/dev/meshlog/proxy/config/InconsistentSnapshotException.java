package dev.meshlog.proxy.config;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Thrown when a snapshot would be inconsistent; carries the reason for each offending host, the
 * text a NACK reports.
 */
public final class InconsistentSnapshotException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Map<String, List<String>> problemsByHost;

  /** Problems found, keyed by the host whose config is at fault. */
  public InconsistentSnapshotException(Map<String, List<String>> problemsByHost) {
    super(problemsByHost.entrySet().stream()
        .map(e -> e.getKey() + ": " + String.join("; ", e.getValue()))
        .collect(Collectors.joining(" | ")));
    this.problemsByHost = Map.copyOf(problemsByHost);
  }

  /** Problems found, keyed by the host whose config is at fault. */
  public Map<String, List<String>> problemsByHost() {
    return problemsByHost;
  }

  /** The problems of one host, joined, or {@code null} when it has none. */
  public String reasonFor(String host) {
    List<String> p = problemsByHost.get(host);
    return p == null ? null : String.join("; ", p);
  }
}
