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

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.RefSpec;

/**
 * A bare copy of a repository in a cache directory, fetched before each sync, so the bridge never
 * touches the user's checkout and reads remote and local repositories the same way.
 */
final class GitMirror implements AutoCloseable {

  private final String repository;
  private final String uri;
  private final Repository mirror;

  /**
   * Opens (or creates) the mirror of {@code repository} under {@code cacheRoot}.
   *
   * @throws UncheckedIOException if the cache directory cannot be used
   */
  GitMirror(String repository, Path cacheRoot) {
    this.repository = repository;
    this.uri = uriOf(repository);
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
  static String defaultBranch(String repository) {
    try {
      Map<String, Ref> refs = Git.lsRemoteRepository().setRemote(uriOf(repository)).setHeads(false)
          .callAsMap();
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
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot read " + repository + ": " + e.getMessage(), e);
    }
  }

  /**
   * Fetches {@code branch} (force: a rewritten history replaces the old one) and returns its head.
   *
   * @throws IllegalStateException if the repository cannot be fetched or has no such branch
   */
  ObjectId fetch(String branch) {
    String ref = Constants.R_HEADS + branch;
    try (Git git = new Git(mirror)) {
      git.fetch().setRemote(uri).setRefSpecs(new RefSpec("+" + ref + ":" + ref))
          .setRemoveDeletedRefs(false).call();
      Ref fetched = mirror.exactRef(ref);
      if (fetched == null || fetched.getObjectId() == null) {
        throw new IllegalStateException(repository + " has no branch " + branch);
      }
      return fetched.getObjectId();
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot fetch " + branch + " of " + repository + ": "
          + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
