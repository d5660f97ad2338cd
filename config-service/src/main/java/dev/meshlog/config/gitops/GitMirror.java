package dev.meshlog.config.gitops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.TransportConfigCallback;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.TransportHttp;

/**
 * A bare copy of a repository in a cache directory, fetched before each sync, so the bridge never
 * touches the user's checkout and reads remote and local repositories the same way.
 */
final class GitMirror implements AutoCloseable {

  private final String repository;
  private final String uri;
  private final Supplier<GitCredentials> credentials;
  private final Repository mirror;

  /**
   * Opens (or creates) the mirror of {@code repository} under {@code cacheRoot}.
   *
   * @param repository a path or URL without credentials (the cache directory is named by it)
   * @param credentials what to authenticate with over HTTP(S), asked at each fetch (a token
   *     file may be rotated under a running watch)
   * @throws UncheckedIOException if the cache directory cannot be used
   */
  GitMirror(String repository, Supplier<GitCredentials> credentials, Path cacheRoot) {
    this.repository = repository;
    this.uri = uriOf(repository);
    this.credentials = credentials;
    Path dir = cacheRoot.resolve(hash(repository) + ".git");
    try {
      if (!Files.isDirectory(dir.resolve("objects"))) {
        Files.createDirectories(dir);
        Git.init().setBare(true).setDirectory(dir.toFile()).call().close();
      }
      this.mirror = new FileRepositoryBuilder().setGitDir(dir.toFile()).setBare().build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the git cache " + dir + ": " + e.getMessage(), e);
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot create the git cache " + dir + ": " + e.getMessage(), e);
    }
  }

  /** A local directory becomes its absolute path; anything else is taken as a URL. */
  static String uriOf(String repository) {
    Path local = Path.of(repository.startsWith("file://") ? repository.substring(7) : repository);
    try {
      if (Files.isDirectory(local)) {
        return local.toAbsolutePath().normalize().toString();
      }
    } catch (SecurityException | java.nio.file.InvalidPathException e) {
      // not a local path
    }
    return repository;
  }

  private static String hash(String repository) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(uriOf(repository).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The branch the repository's HEAD points to ({@code main} when it cannot tell).
   *
   * @throws IllegalStateException if the repository cannot be reached
   */
  static String defaultBranch(String repository, GitCredentials credentials) {
    CredentialsProvider provider = credentials.provider(uriOf(repository));
    try (GitSsh ssh = sshFor(repository, credentials)) {
      try {
        Map<String, Ref> refs = Git.lsRemoteRepository().setRemote(uriOf(repository))
            .setHeads(false).setCredentialsProvider(provider)
            .setTransportConfigCallback(transports(ssh, provider, uriOf(repository))).callAsMap();
        return headBranch(refs);
      } catch (GitAPIException e) {
        throw failure("cannot read " + repository, repository, credentials, provider, ssh, e);
      }
    }
  }

  private static String headBranch(Map<String, Ref> refs) {
    Ref head = refs.get(Constants.HEAD);
    if (head != null && head.isSymbolic()) {
      return Repository.shortenRefName(head.getTarget().getName());
    }
    if (head != null && head.getObjectId() != null) {
      for (String preferred : List.of("main", "master")) {
        Ref ref = refs.get(Constants.R_HEADS + preferred);
        if (ref != null && head.getObjectId().equals(ref.getObjectId())) {
          return preferred;
        }
      }
      for (Ref ref : refs.values()) {
        if (ref.getName().startsWith(Constants.R_HEADS)
            && head.getObjectId().equals(ref.getObjectId())) {
          return Repository.shortenRefName(ref.getName());
        }
      }
    }
    return "main";
  }

  /**
   * What each transport is set up with: over SSH, {@code ssh}; over HTTP(S) with credentials,
   * Authorization headers bound to the repository's origin ({@link OriginBoundHttp}).
   */
  private static TransportConfigCallback transports(GitSsh ssh, CredentialsProvider provider,
                                                    String uri) {
    return transport -> {
      if (ssh != null) {
        ssh.configure(transport);
      }
      if (provider != null && transport instanceof TransportHttp http) {
        OriginBoundHttp.bind(http, uri);
      }
    };
  }

  /** SSH settings for {@code repository} if it is an SSH URL, else null (nothing to close). */
  private static GitSsh sshFor(String repository, GitCredentials credentials) {
    return GitUrls.isSsh(repository) ? new GitSsh(credentials) : null;
  }

  /**
   * Fetches {@code branch} (force: a rewritten history replaces the old one) and returns its head.
   *
   * @throws IllegalStateException if the repository cannot be fetched or has no such branch
   */
  ObjectId fetch(String branch) {
    String ref = Constants.R_HEADS + branch;
    GitCredentials credentials = this.credentials.get();
    // Over SSH, made anew for each fetch: the key and known_hosts files are read again.
    CredentialsProvider provider = credentials.provider(uri);
    try (GitSsh ssh = sshFor(repository, credentials); Git git = new Git(mirror)) {
      try {
        git.fetch().setRemote(uri).setRefSpecs(new RefSpec("+" + ref + ":" + ref))
            .setCredentialsProvider(provider).setTransportConfigCallback(transports(ssh, provider, uri))
            .setRemoveDeletedRefs(false).call();
      } catch (GitAPIException e) {
        throw failure("cannot fetch " + branch + " of " + repository, repository, credentials,
            provider, ssh, e);
      }
      Ref fetched = mirror.exactRef(ref);
      if (fetched == null || fetched.getObjectId() == null) {
        throw new IllegalStateException(repository + " has no branch " + branch);
      }
      return fetched.getObjectId();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The error for a failed fetch or listing: a refused authentication says so and what to pass,
   * instead of JGit's "not authorized"; over SSH, a refused host key says whose and why; anything
   * else keeps JGit's message. None holds the password (JGit is only ever given the URL without
   * credentials) or the private key.
   */
  static IllegalStateException failure(String what, String repository, GitCredentials credentials,
                                       CredentialsProvider provider, GitSsh ssh,
                                       GitAPIException e) {
    String message = String.valueOf(e.getMessage());
    String lower = message.toLowerCase(java.util.Locale.ROOT);
    if (provider instanceof GitCredentials.OriginBoundCredentials bound
        && bound.refusedOrigin() != null) {
      return new GitAuthenticationException(what + ": the server redirected to "
          + bound.refusedOrigin() + ", which asks for credentials: they were not sent, the"
          + " password goes only to " + GitCredentials.OriginBoundCredentials.origin(uriOf(repository))
          + " as git sends it (expected: the repository's URL after its redirects, if that host"
          + " is meant to have the password)", e);
    }
    if (ssh != null) {
      return sshFailure(what, repository, credentials, ssh, message, lower, e);
    }
    // JGit's texts (JGitText notAuthorized, noCredentialsProvider, authenticationNotSupported).
    boolean refused = lower.contains("not authorized") || lower.contains("authentication is required")
        || lower.contains("authentication not supported");
    if (refused) {
      return new GitAuthenticationException(credentials.isNone()
          ? what + ": the server asks for credentials (expected: --git-username and"
              + " --git-password-file, or $MESHLOG_GIT_PASSWORD_FILE, with a password or access"
              + " token that may read the repository)"
          : what + ": the server refused user " + credentials.username() + " (expected: a password or access"
              + " token that may read " + repository + "; check the token, its expiry and its"
              + " scopes)", e);
    }
    return new IllegalStateException(what + ": " + message, e);
  }

  private static IllegalStateException sshFailure(String what, String repository,
                                                  GitCredentials credentials, GitSsh ssh,
                                                  String message, String lower, Exception e) {
    if (ssh.hostKeyRefusal() != null) {
      return new GitAuthenticationException(what + ": " + ssh.hostKeyRefusal(), e);
    }
    String user = GitUrls.sshUser(repository).orElse(System.getProperty("user.name"));
    // JGit's SSH texts (SshdText authenticationFailed "Cannot log in at ...", and sshd's
    // "No more authentication methods available").
    boolean refused = lower.contains("cannot log in") || lower.contains("no more authentication")
        || lower.contains("authentication failed") || lower.contains("auth fail");
    if (refused) {
      return new GitAuthenticationException(credentials.sshKey() == null
          ? what + ": the server asks user " + user + " for a key (expected: --git-ssh-key FILE or"
              + " $MESHLOG_GIT_SSH_KEY_FILE, an OpenSSH private key whose public half the server"
              + " accepts for " + user + ", such as the repository's deploy key)"
          : what + ": the server refused user " + user + " with " + credentials.sshKey()
              + " (expected: a key whose public half the server accepts for " + user
              + " and that may read " + repository + ", such as the repository's deploy key)", e);
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root instanceof java.net.ConnectException || lower.contains("connection refused")) {
      return new IllegalStateException(what + ": connection refused (expected: an SSH server"
          + " listening at the URL's host and port)", e);
    }
    return new IllegalStateException(what + ": " + message, e);
  }

  /** The mirror's repository, for reading commits and trees. */
  Repository repository() {
    return mirror;
  }

  @Override
  public void close() {
    mirror.close();
  }
}
