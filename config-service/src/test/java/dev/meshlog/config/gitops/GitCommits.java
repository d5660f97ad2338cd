package dev.meshlog.config.gitops;

import java.nio.file.Files;
import java.nio.file.Path;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;

/** Commits the GitOps integration tests make in their work tree ({@code mesh/} under it). */
final class GitCommits {

  private GitCommits() {}

  /**
   * Writes {@code mesh/<name>.yaml} in {@code git}'s work tree — a VirtualService of
   * {@code namespace} sending {@code v1Weight} percent to {@code name} and the rest to
   * {@code name-canary} — and commits it as ana.
   */
  static RevCommit virtualService(Git git, String namespace, String name, int v1Weight)
      throws Exception {
    Path file = git.getRepository().getWorkTree().toPath().resolve("mesh/" + name + ".yaml");
    Files.createDirectories(file.getParent());
    Files.writeString(file, """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: %s}
        spec:
          hosts: [%s]
          http:
          - route:
            - destination: {host: %s}
              weight: %d
            - destination: {host: %s-canary}
              weight: %d
        """.formatted(name, namespace, name, name, v1Weight, name, 100 - v1Weight));
    git.add().addFilepattern(".").call();
    return git.commit().setMessage(name + " " + v1Weight).setSign(false)
        .setAuthor("ana", "ana@example.com").setCommitter("ana", "ana@example.com").call();
  }
}
