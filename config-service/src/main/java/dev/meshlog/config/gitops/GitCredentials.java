package dev.meshlog.config.gitops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;

/**
 * What the bridge authenticates to a git server with over HTTP(S): a user name and a password or
 * access token, as Argo CD's and Flux's repository secrets hold them. Never printed:
 * {@link #toString()} names the user only.
 *
 * @param username the user name (any non-empty name for most hosts' access tokens, e.g. {@code git})
 * @param password the password or access token
 */
public record GitCredentials(String username, String password) {

  private static final GitCredentials NONE = new GitCredentials("", "");

  public GitCredentials {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    if (username.isEmpty() != password.isEmpty()) {
      throw new IllegalArgumentException(password.isEmpty()
          ? "git password: empty for user " + username + " (expected: a password or access token)"
          : "git username: empty (expected: a user name with the password; for an access token, any"
              + " name such as git)");
    }
    if (username.indexOf('\n') >= 0 || username.indexOf('\r') >= 0 || password.indexOf('\n') >= 0
        || password.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("git credentials: a line break inside the user name or"
          + " password (expected: one line each)");
    }
  }

  /**
   * The credentials of {@code username} with the password or token in {@code file} (one line; a
   * trailing newline is fine).
   *
   * @param what how the user named the file, for errors ({@code --git-password-file})
   * @throws IllegalArgumentException naming the file if it cannot be read, is empty or has
   *     several lines
   */
  public static GitCredentials fromFile(String username, Path file, String what) {
    String password;
    try {
      password = Files.readString(file).strip();
    } catch (IOException | UncheckedIOException e) {
      throw new IllegalArgumentException(what + " " + file + ": cannot be read ("
          + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
    }
    if (password.isEmpty() || password.lines().count() > 1) {
      throw new IllegalArgumentException(what + " " + file + ": "
          + (password.isEmpty() ? "empty" : "several lines")
          + " (expected: the password or access token, on one line)");
    }
    return new GitCredentials(username, password);
  }

  /** No credentials: the repository needs none (a local path, a public URL). */
  public static GitCredentials none() {
    return NONE;
  }

  /** Whether these are {@link #none()}. */
  public boolean isNone() {
    return username.isEmpty();
  }

  /** JGit's provider for these credentials, or null for none. */
  CredentialsProvider provider() {
    return isNone() ? null : new UsernamePasswordCredentialsProvider(username, password);
  }

  @Override
  public String toString() {
    return isNone() ? "no credentials" : "user " + username + " (password not shown)";
  }
}
