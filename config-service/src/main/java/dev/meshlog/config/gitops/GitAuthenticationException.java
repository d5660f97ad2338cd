package dev.meshlog.config.gitops;

/**
 * A git server refused the bridge: it asked for credentials that were not given, or refused the
 * ones given. The message names the repository and the user, never the password.
 */
public final class GitAuthenticationException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  GitAuthenticationException(String message, Throwable cause) {
    super(message, cause);
  }
}
