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
 * @param repository a local path or a URL, as the user gave it
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

  /** The key of its progress in {@code mesh.gitops.state}: {@code repository#branch#path}. */
  public String key() {
    return repository + "#" + branch + "#" + path;
  }

  /**
   * The transactional id of its bridge: one per source, so a restarted bridge fences the one
   * before it and no two bridges ever write the same source's progress.
   */
  public String transactionalId() {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key().getBytes(StandardCharsets.UTF_8));
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
