package dev.meshlog.config.api;

import java.util.Objects;

/**
 * Who a request of the HTTP API comes from, as its bearer token says.
 *
 * @param user the user a per-user token stands for, recorded as the actor of the commands it
 *     sends; {@code null} for the one shared token of a one-token file and for an open API,
 *     whose commands name the {@code X-Meshlog-Actor} header, else {@code api}
 * @param access what the caller may do
 */
public record Caller(String user, Access access) {

  /** The caller of an open API, or of the one shared token: may do everything, names nobody. */
  public static final Caller SHARED = new Caller(null, Access.WRITE);

  public Caller {
    Objects.requireNonNull(access, "access");
  }

  /** How the caller reads in an error: {@code user ana}, or {@code the shared token}. */
  String describe() {
    return user == null ? "the shared token" : "user " + user;
  }
}
