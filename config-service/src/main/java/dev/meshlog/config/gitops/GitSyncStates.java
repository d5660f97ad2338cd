package dev.meshlog.config.gitops;

import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import dev.meshlog.config.client.LogReader;
import dev.meshlog.events.gitops.GitSyncState;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Reads and writes the bridge's progress on {@code mesh.gitops.state} (compacted). */
final class GitSyncStates {

  private GitSyncStates() {}

  /**
   * A source's progress as read: the last state (null if none), and the keys with credentials in
   * them that an earlier release wrote for the same source (to be tombstoned).
   */
  record Found(GitSyncState state, List<String> keysWithCredentials) {}

  /**
   * The last state written for {@code source}, if any: under its key, else under a key an
   * earlier release wrote with the credentials of the URL in it (the same repository, branch and
   * path), so that a bridge upgraded from it neither replays nor skips a commit.
   */
  static Found read(LogReader reader, GitSource source) {
    String key = source.key();
    Map<String, GitSyncState> withCredentials = new HashMap<>();
    GitSyncState[] latest = new GitSyncState[1];
    reader.readToEnd(Topics.GITOPS_STATE, (k, state) -> {
      if (key.equals(k)) {
        latest[0] = state;
      } else if (k != null && source.isKeyWithCredentials(k)) {
        if (state == null) {
          withCredentials.remove(k);
        } else {
          withCredentials.put(k, state);
        }
      }
    });
    List<String> old = List.copyOf(new TreeSet<>(withCredentials.keySet()));
    if (latest[0] != null) {
      return new Found(latest[0], old);
    }
    // Several old keys (the token was rotated in the URL): the one applied last.
    GitSyncState last = withCredentials.values().stream()
        .max(Comparator.comparing(GitSyncState::getAppliedAt)).orElse(null);
    return new Found(last, old);
  }

  /** The record saying {@code commitId} of {@code source} was submitted at {@code at}. */
  static ProducerRecord<String, byte[]> record(GitSource source, String commitId, Instant at) {
    GitSyncState state = GitSyncState.newBuilder()
        .setRepository(source.repository())
        .setBranch(source.branch())
        .setPath(source.path())
        .setCommitId(commitId)
        .setAppliedAt(at)
        .build();
    return new ProducerRecord<>(Topics.GITOPS_STATE.name(), source.key(),
        Topics.GITOPS_STATE.serializeValue(state));
  }

  /** A tombstone for {@code key}: compaction then drops the credentials it carries. */
  static ProducerRecord<String, byte[]> tombstone(String key) {
    return new ProducerRecord<>(Topics.GITOPS_STATE.name(), key, null);
  }
}
