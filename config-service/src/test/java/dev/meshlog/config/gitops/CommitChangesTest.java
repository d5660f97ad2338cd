package dev.meshlog.config.gitops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.meshlog.config.model.ResourceId;
import dev.meshlog.config.resource.ResourceParser;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommitChangesTest {

  @TempDir
  Path dir;

  private Git git;

  @BeforeEach
  void init() throws Exception {
    git = Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call();
  }

  @AfterEach
  void close() {
    git.close();
  }

  private static String vs(String name, String host) {
    return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: " + name
        + "}\nspec:\n  hosts: [" + host + "]\n  http:\n  - route:\n    - destination: {host: "
        + host + "}\n";
  }

  private RevCommit commit(String file, String text) throws Exception {
    Path path = dir.resolve(file);
    Files.createDirectories(path.getParent());
    if (text == null) {
      Files.delete(path);
    } else {
      Files.writeString(path, text);
    }
    git.add().addFilepattern(".").call();
    git.add().setUpdate(true).addFilepattern(".").call();
    return git.commit().setMessage(file).setSign(false).setAuthor("t", "t@example.com")
        .setCommitter("t", "t@example.com").call();
  }

  private CommitChanges changes(RevCommit before, RevCommit after) throws Exception {
    return CommitChanges.between(git.getRepository(), before == null ? null : before.getTree(),
        after.getTree(), "mesh", new ResourceParser(), "default");
  }

  @Test
  void aCommitTouchingOneFileOfManyParsesOnlyThatFileAndChangesTheSame() throws Exception {
    for (int i = 0; i < 40; i++) {
      Files.createDirectories(dir.resolve("mesh"));
      Files.writeString(dir.resolve("mesh/vs-" + i + ".yaml"), vs("vs-" + i, "h" + i));
    }
    RevCommit all = commit("mesh/vs-0.yaml", vs("vs-0", "h0"));
    RevCommit one = commit("mesh/vs-7.yaml", vs("vs-7", "changed"));
    ParsedBlobs parsed = new ParsedBlobs(ParsedBlobs.DEFAULT_MAX_BYTES);

    CommitChanges first = CommitChanges.between(git.getRepository(), null, all.getTree(), "mesh",
        new ResourceParser(), "default", parsed);
    assertThat(parsed.misses()).isEqualTo(40);
    CommitChanges second = CommitChanges.between(git.getRepository(), all.getTree(), one.getTree(),
        "mesh", new ResourceParser(), "default", parsed);

    // The changed file's new blob is the one parse; its old blob and the 39 others were parsed.
    assertThat(parsed.misses()).isEqualTo(41);
    assertThat(parsed.hits()).isEqualTo(40);
    assertThat(first).isEqualTo(changes(null, all));
    assertThat(second).isEqualTo(changes(all, one));
    assertThat(second.applies()).extracting(a -> a.value().name()).containsExactly("vs-7");
  }

  @Test
  void aCacheTooSmallForTheRepositoryEvictsAndChangesTheSame() throws Exception {
    RevCommit a = commit("mesh/a.yaml", vs("a", "a") + "---\n" + vs("b", "b"));
    RevCommit z = commit("mesh/z.yaml", vs("a", "other"));
    RevCommit fixed = commit("mesh/z.yaml", vs("c", "c"));
    RevCommit gone = commit("mesh/a.yaml", null);
    ParsedBlobs parsed = new ParsedBlobs(600); // two small files' worth

    RevCommit before = null;
    for (RevCommit after : new RevCommit[] {a, z, fixed, gone}) {
      assertThat(CommitChanges.between(git.getRepository(), before == null ? null : before.getTree(),
          after.getTree(), "mesh", new ResourceParser(), "default", parsed))
          .isEqualTo(changes(before, after));
      before = after;
    }
    assertThat(parsed.size()).isLessThanOrEqualTo(2);
  }

  @Test
  void aDocumentRemovedFromAFileIsDeletedAndTheOthersAreLeftAlone() throws Exception {
    RevCommit first = commit("mesh/vs.yaml", vs("a", "a") + "---\n" + vs("b", "b"));
    RevCommit second = commit("mesh/vs.yaml", vs("a", "a"));

    CommitChanges changes = changes(first, second);
    assertThat(changes.applies()).isEmpty();
    assertThat(changes.deletes()).extracting(CommitChanges.Located::value)
        .containsExactly(new ResourceId("VirtualService", "default", "b"));
    assertThat(changes.deletes().get(0).file()).isEqualTo("mesh/vs.yaml");
  }

  @Test
  void aResourceRemovedFromOneFileButStillInAnotherIsNotDeleted() throws Exception {
    // Moving a resource in two commits: added to the new file first, then removed from the old.
    commit("mesh/old.yaml", vs("a", "a") + "---\n" + vs("b", "b"));
    RevCommit copied = commit("mesh/new.yaml", vs("a", "a"));
    RevCommit removed = commit("mesh/old.yaml", vs("b", "b"));

    // Only old.yaml was touched; reading it alone, a was gone, and deleted from the mesh while
    // new.yaml at the same commit still defined it.
    CommitChanges changes = changes(copied, removed);
    assertThat(changes.deletes()).isEmpty();
    assertThat(changes.applies()).isEmpty();
    assertThat(changes.problems()).isEmpty();
  }

  @Test
  void aResourceDefinedDifferentlyInAnotherFileIsAnErrorNamingBothAndTheRestApplies()
      throws Exception {
    RevCommit first = commit("mesh/a.yaml", vs("a", "a") + "---\n" + vs("b", "b"));
    RevCommit second = commit("mesh/z.yaml", vs("a", "other") + "---\n" + vs("c", "c"));

    // z.yaml alone, the file the commit touched, used to win without a word.
    CommitChanges changes = changes(first, second);
    assertThat(changes.applies()).extracting(l -> l.value().name()).containsExactly("c");
    assertThat(changes.deletes()).isEmpty();
    assertThat(changes.problems()).containsExactly("VirtualService/default/a is defined "
        + "differently in mesh/a.yaml and mesh/z.yaml: not applied (expected: one definition of "
        + "a resource under the path)");
    assertThat(changes.warnings()).isEmpty();
  }

  @Test
  void twoDifferentDefinitionsInOneCommitOrOneFileAreErrorsToo() throws Exception {
    commit("mesh/a.yaml", vs("a", "a"));
    RevCommit both = commit("mesh/b.yaml", vs("a", "b"));
    assertThat(changes(null, both).applies()).isEmpty();
    assertThat(changes(null, both).problems()).containsExactly("VirtualService/default/a is "
        + "defined differently in mesh/a.yaml and mesh/b.yaml: not applied (expected: one "
        + "definition of a resource under the path)");

    RevCommit twice = commit("mesh/c.yaml", vs("c", "c") + "---\n" + vs("c", "d"));
    assertThat(changes(both, twice).applies()).isEmpty();
    assertThat(changes(both, twice).problems()).containsExactly("VirtualService/default/c is "
        + "defined differently twice in mesh/c.yaml: not applied (expected: one definition of a "
        + "resource under the path)");
  }

  @Test
  void anIdenticalDefinitionInAnotherFileIsAWarningAndAppliesOnce() throws Exception {
    RevCommit first = commit("mesh/a.yaml", vs("b", "b"));
    RevCommit second = commit("mesh/z.yaml", vs("a", "a") + "---\n" + vs("b", "b"));

    // One command for b (the control plane answers UNCHANGED when it is already so), not two.
    CommitChanges changes = changes(first, second);
    assertThat(changes.applies()).extracting(l -> l.value().name()).containsExactly("a", "b");
    assertThat(changes.problems()).isEmpty();
    assertThat(changes.warnings()).containsExactly("VirtualService/default/b is defined in "
        + "mesh/a.yaml and mesh/z.yaml, identically (keep one)");
  }

  @Test
  void removingTheConflictingCopyAppliesTheOneLeft() throws Exception {
    RevCommit first = commit("mesh/a.yaml", vs("a", "a"));
    RevCommit conflict = commit("mesh/z.yaml", vs("a", "other"));
    RevCommit changed = commit("mesh/a.yaml", vs("a", "changed"));
    RevCommit resolved = commit("mesh/z.yaml", null);

    assertThat(changes(conflict, changed).applies()).isEmpty(); // still two definitions
    CommitChanges changes = changes(changed, resolved);
    assertThat(changes.deletes()).isEmpty();
    assertThat(changes.problems()).isEmpty();
    assertThat(changes.applies()).extracting(l -> l.value().name() + " " + l.file())
        .containsExactly("a mesh/a.yaml");
  }

  @Test
  void aResourceRemovedFromTheCommitButDefinedDifferentlyInTwoOtherFilesIsAnError()
      throws Exception {
    commit("mesh/a.yaml", vs("a", "a"));
    commit("mesh/b.yaml", vs("a", "b"));
    RevCommit third = commit("mesh/c.yaml", vs("a", "c"));
    RevCommit removed = commit("mesh/c.yaml", null);

    // Not deleted (two files still define it), not applied (which one?), and said so.
    CommitChanges changes = changes(third, removed);
    assertThat(changes.deletes()).isEmpty();
    assertThat(changes.applies()).isEmpty();
    assertThat(changes.problems()).containsExactly("VirtualService/default/a is defined "
        + "differently in mesh/a.yaml and mesh/b.yaml: not applied (expected: one definition of "
        + "a resource under the path)");
  }

  @Test
  void onlyChangedResourcesAreApplied() throws Exception {
    RevCommit first = commit("mesh/vs.yaml", vs("a", "a") + "---\n" + vs("b", "b"));
    RevCommit second = commit("mesh/vs.yaml", vs("a", "a") + "---\n" + vs("b", "c"));

    assertThat(changes(first, second).applies()).extracting(l -> l.value().name())
        .containsExactly("b");
    assertThat(changes(null, first).applies()).hasSize(2);
  }

  @Test
  void aFileThatCannotBeReadDeletesNothingAndSaysWhere() throws Exception {
    RevCommit first = commit("mesh/vs.yaml", vs("a", "a"));
    RevCommit second = commit("mesh/vs.yaml", "kind: [broken\n");

    CommitChanges changes = changes(first, second);
    assertThat(changes.deletes()).isEmpty();
    assertThat(changes.problems()).hasSize(2);
    assertThat(changes.problems().get(0)).startsWith("mesh/vs.yaml:1: ");
    assertThat(changes.problems().get(1)).contains("VirtualService/default/a not deleted");
  }

  @Test
  void filesOutsideThePathHiddenFilesAndOtherExtensionsAreNotConfig() throws Exception {
    RevCommit first = commit("mesh/vs.yaml", vs("a", "a"));
    commit("other/vs.yaml", vs("x", "x"));
    commit("mesh/.hidden/vs.yaml", vs("y", "y"));
    RevCommit last = commit("mesh/notes.txt", "not yaml");

    assertThat(changes(first, last).isEmpty()).isTrue();
    assertThat(CommitChanges.isConfig("mesh/a.yml", "mesh")).isTrue();
    assertThat(CommitChanges.isConfig("mesh/a.json", "mesh")).isTrue();
    assertThat(CommitChanges.isConfig("mesh/.a.yaml", "mesh")).isFalse();
    assertThat(CommitChanges.isConfig(".github/a.yaml", "")).isFalse();
  }
}
