package dev.meshlog.config.gitops;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.meshlog.config.resource.ResourceParser;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;

/**
 * A timing harness, not a test (run by hand under the bench lock, see the README's GitOps
 * bridge): a repository of {@code files} VirtualServices under {@code mesh/}, then
 * {@code commits} commits changing one file each; times {@link CommitChanges#between} over those
 * commits, as one sync of them does, without the cache of parsed blobs (A) and with a fresh one
 * (B), in interleaved pairs; then B's commits again with its cache warm (every blob parsed).
 *
 * <p>{@code java -cp ... dev.meshlog.config.gitops.CommitChangesTiming [files] [commits] [pairs]}
 */
public final class CommitChangesTiming {

  private CommitChangesTiming() {}

  public static void main(String[] args) throws Exception {
    int files = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
    int commits = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int pairs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    Path dir = Files.createTempDirectory("meshlog-gitops-timing");
    try (Git git = Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call()) {
      for (int i = 0; i < files; i++) {
        Path file = dir.resolve("mesh/team-" + (i % 30) + "/vs-" + i + ".yaml");
        Files.createDirectories(file.getParent());
        Files.writeString(file, virtualService(i, 90));
      }
      List<RevCommit> history = new ArrayList<>();
      history.add(commit(git, "all"));
      for (int c = 0; c < commits; c++) {
        int i = (c * 137) % files;
        Files.writeString(dir.resolve("mesh/team-" + (i % 30) + "/vs-" + i + ".yaml"),
            virtualService(i, 50 + c));
        history.add(commit(git, "change " + i));
      }
      System.out.printf("repository: %d files, %d commits changing one file each%n", files, commits);
      run(git, history, ParsedBlobs.none()); // warm-up: JIT, JGit's caches
      run(git, history, new ParsedBlobs(ParsedBlobs.DEFAULT_MAX_BYTES));
      for (int p = 0; p < pairs; p++) {
        long a = run(git, history, ParsedBlobs.none());
        ParsedBlobs cache = new ParsedBlobs(ParsedBlobs.DEFAULT_MAX_BYTES);
        long b = run(git, history, cache);
        long warm = run(git, history, cache); // every blob parsed: a watch's later syncs
        System.out.printf("pair %d: A (no cache) %d ms, B (cache) %d ms; B again, warm: %d ms%n",
            p + 1, a / 1_000_000, b / 1_000_000, warm / 1_000_000);
      }
    }
  }

  /** The time of {@link CommitChanges#between} for every commit after the first. */
  private static long run(Git git, List<RevCommit> history, ParsedBlobs parsed) throws Exception {
    ResourceParser parser = new ResourceParser();
    // The cache starts as a sync's does after the commit it last applied: with nothing in it.
    long start = System.nanoTime();
    int changed = 0;
    for (int c = 1; c < history.size(); c++) {
      changed += CommitChanges.between(git.getRepository(), history.get(c - 1).getTree(),
          history.get(c).getTree(), "mesh", parser, "default", parsed).applies().size();
    }
    long took = System.nanoTime() - start;
    if (changed != history.size() - 1) {
      throw new IllegalStateException("expected one change per commit, got " + changed);
    }
    return took;
  }

  private static RevCommit commit(Git git, String message) throws Exception {
    git.add().addFilepattern(".").call();
    return git.commit().setMessage(message).setSign(false).setAuthor("t", "t@example.com")
        .setCommitter("t", "t@example.com").call();
  }

  private static String virtualService(int i, int weight) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: vs-%d, namespace: team-%d}
        spec:
          hosts: [svc-%d]
          http:
          - match:
            - uri: {prefix: /api/v1}
            route:
            - destination: {host: svc-%d, subset: v1}
              weight: %d
            - destination: {host: svc-%d, subset: v2}
              weight: %d
            timeout: 3s
            retries: {attempts: 3, perTryTimeout: 1s}
        """.formatted(i, i % 30, i, i, weight, i, 100 - weight);
  }
}
