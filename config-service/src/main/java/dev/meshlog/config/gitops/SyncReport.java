package dev.meshlog.config.gitops;

import java.util.List;

/**
 * What one sync did: the commits it submitted, oldest first, and where it started and ended.
 *
 * @param source the repository, branch and path
 * @param fromCommit the last commit submitted before this sync, or null on the first sync
 * @param toCommit the branch head it got to (equal to {@code fromCommit} when nothing was new)
 * @param commits one report per commit submitted
 * @param notes anything unusual, e.g. a rewritten history
 */
public record SyncReport(GitSource source, String fromCommit, String toCommit,
                         List<CommitReport> commits, List<String> notes) {

  public SyncReport {
    commits = List.copyOf(commits);
    notes = List.copyOf(notes);
  }

  /** Whether every commit was clean. */
  public boolean clean() {
    return commits.stream().allMatch(CommitReport::clean);
  }
}
