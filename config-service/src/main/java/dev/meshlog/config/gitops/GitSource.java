package dev.meshlog.config.gitops;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * What the bridge follows: a repository (local path or URL), a branch, and the directory inside
 * it whose YAML and JSON files are config ({@code ""} = the whole tree).
 *
 * <p>Credentials written into a URL ({@code https://user:token@host/repo}) are taken out of
 * {@code repository} ({@link GitUrls#withoutCredentials}): the key of its progress, its
 * transactional id, the commands' source, logs and reports name the repository, never a secret.
 * Take them out first with {@link GitUrls#credentials} to authenticate with them.
 *
 * @param repository a local path or a URL, as the user gave it, without credentials
 * @param branch the branch, e.g. {@code main}
 * @param path the directory, without leading or trailing slashes
 */
public record GitSource(String repository, String branch, String path) {

  public GitSource {
    Objects.requireNonNull(repository, "repository");
    Objects.requireNonNull(branch, "branch");
    if (repository.isBlank()) {
      throw new IllegalArgumentException("repository: empty (expected: a path or URL)");
    }
    if (branch.isBlank()) {
      throw new IllegalArgumentException("branch: empty (expected: a branch name)");
    }
    repository = GitUrls.withoutCredentials(repository);
    path = normalize(path);
  }

  private static String normalize(String path) {
    String p = path == null ? "" : path.strip().replace('\\', '/');
    while (p.startsWith("./")) {
      p = p.substring(2);
    }
    while (p.startsWith("/")) {
      p = p.substring(1);
    }
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p.equals(".") ? "" : p;
  }

  /**
   * The key of its progress in {@code mesh.gitops.state}: {@code repository#branch#path}, with
   * the repository as {@link GitUrls#sourceName} spells it (the scp-like
   * {@code git@host:org/repo} as {@code ssh://git@host/org/repo}: one source, however written).
   */
  public String key() {
    return GitUrls.sourceName(repository) + "#" + branch + "#" + path;
  }

  /**
   * Whether {@code key} is this source's progress key as a release before credentials were taken
   * out of URLs wrote it: the same repository, branch and path, with credentials in the URL.
   */
  boolean isKeyWithCredentials(String key) {
    String tail = "#" + branch + "#" + path;
    if (!key.endsWith(tail) || key.equals(key())) {
      return false;
    }
    String repositoryPart = key.substring(0, key.length() - tail.length());
    return GitUrls.hasUserInfo(repositoryPart)
        && GitUrls.sourceName(GitUrls.withoutCredentials(repositoryPart))
            .equals(GitUrls.sourceName(repository));
  }

  /**
   * The transactional id of its bridge: one per source, so a restarted bridge fences the one
   * before it and no two bridges ever write the same source's progress.
   */
  public String transactionalId() {
    return transactionalIdOf(key());
  }

  /** The transactional id a bridge whose progress key is {@code key} writes with. */
  static String transactionalIdOf(String key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return "meshlog-gitops-" + HexFormat.of().formatHex(digest, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return repository + " " + branch + (path.isEmpty() ? "" : ":" + path);
  }
}
