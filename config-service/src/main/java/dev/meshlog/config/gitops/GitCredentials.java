package dev.meshlog.config.gitops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;

/**
 * What the bridge authenticates to a git server with: over HTTP(S) a user name and a password or
 * access token, as Argo CD's and Flux's repository secrets hold them; over SSH a private key
 * ({@link GitSshKey}) and the known hosts its server's key is checked against (Argo CD's
 * {@code sshPrivateKey} and {@code ssh-known-hosts}, Flux's {@code identity} and
 * {@code known_hosts}). Never printed: {@link #toString()} names the user and the key's file and
 * fingerprint only.
 *
 * @param username the user name over HTTP(S) (any non-empty name for most hosts' access tokens,
 *     e.g. {@code git}); {@code ""} for none. Over SSH the user is the URL's ({@code git@host})
 * @param password the password or access token over HTTP(S); {@code ""} for none
 * @param sshKey the private key over SSH, or null for none
 * @param knownHosts the known_hosts files an SSH server's key must be in (strictly, as
 *     {@code StrictHostKeyChecking=yes}); empty for the user's, as git reads them
 *     ({@code ~/.ssh/known_hosts}, {@code /etc/ssh/ssh_known_hosts})
 */
public record GitCredentials(String username, String password, GitSshKey sshKey,
                             List<Path> knownHosts) {

  private static final GitCredentials NONE = new GitCredentials("", "");

  /** HTTP(S) credentials: a user name and a password or access token. */
  public GitCredentials(String username, String password) {
    this(username, password, null, List.of());
  }

  public GitCredentials {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    knownHosts = List.copyOf(knownHosts == null ? List.of() : knownHosts);
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

  /**
   * SSH credentials: {@code key} (null for none) and the known_hosts files the server's key is
   * checked against (empty for the user's).
   */
  public static GitCredentials ssh(GitSshKey key, List<Path> knownHosts) {
    return new GitCredentials("", "", key, knownHosts);
  }

  /** Whether these are {@link #none()}: no password and no key. */
  public boolean isNone() {
    return username.isEmpty() && sshKey == null;
  }

  /** JGit's provider for the HTTP(S) credentials, or null for none. */
  CredentialsProvider provider() {
    return username.isEmpty() ? null : new UsernamePasswordCredentialsProvider(username, password);
  }

  /**
   * JGit's provider for the HTTP(S) credentials that answers only for the origin (scheme, host
   * and port) of {@code repositoryUri}, or null for none. JGit follows a redirect and, when the
   * server it lands on asks, hands the provider's password to it — another host, or another
   * port of the same one; git (curl) sends credentials only to where they were given.
   */
  CredentialsProvider provider(String repositoryUri) {
    CredentialsProvider provider = provider();
    return provider == null ? null : new OriginBoundCredentials(provider, repositoryUri);
  }

  /** The credentials of one origin; any other origin asking is refused and remembered. */
  static final class OriginBoundCredentials extends CredentialsProvider {
    private final CredentialsProvider delegate;
    private final String origin;
    private volatile String refusedOrigin;

    OriginBoundCredentials(CredentialsProvider delegate, String repositoryUri) {
      this.delegate = delegate;
      this.origin = origin(repositoryUri);
    }

    /** {@code scheme://host:port} of {@code uri} (the scheme's port if none is written). */
    static String origin(String uri) {
      try {
        return origin(new org.eclipse.jgit.transport.URIish(uri));
      } catch (java.net.URISyntaxException e) {
        return uri;
      }
    }

    private static String origin(org.eclipse.jgit.transport.URIish uri) {
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
      int port = uri.getPort() > 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
      String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(java.util.Locale.ROOT);
      return scheme + "://" + host + ":" + port;
    }

    /** The origin that asked for the credentials and did not get them, or null. */
    String refusedOrigin() {
      return refusedOrigin;
    }

    @Override
    public boolean isInteractive() {
      return false;
    }

    @Override
    public boolean supports(org.eclipse.jgit.transport.CredentialItem... items) {
      return delegate.supports(items);
    }

    @Override
    public boolean get(org.eclipse.jgit.transport.URIish uri,
                       org.eclipse.jgit.transport.CredentialItem... items) {
      String asking = uri == null ? origin : origin(uri);
      if (!asking.equals(origin)) {
        refusedOrigin = asking;
        return false;
      }
      return delegate.get(uri, items);
    }
  }

  @Override
  public String toString() {
    if (sshKey != null) {
      return "ssh " + sshKey;
    }
    return isNone() ? "no credentials" : "user " + username + " (password not shown)";
  }
}
