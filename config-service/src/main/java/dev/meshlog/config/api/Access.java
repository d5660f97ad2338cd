package dev.meshlog.config.api;

import java.util.Locale;

/**
 * What a route of the HTTP API asks of its caller, and what a bearer token grants: nothing
 * ({@code /healthz}), reading (the GET routes) or writing too (apply, delete, rollback). Each
 * level covers the ones before it.
 */
public enum Access {
  /** Answered without a token. */
  NONE,
  /** The GET routes: resources, history, proxy status, analyze, the index. */
  READ,
  /** Everything, and what records an event: apply, delete, rollback. */
  WRITE;

  /** Whether a caller granted this may use a route that needs {@code needed}. */
  public boolean covers(Access needed) {
    return compareTo(needed) >= 0;
  }

  /** The name users read and write: {@code none}, {@code read}, {@code write}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
