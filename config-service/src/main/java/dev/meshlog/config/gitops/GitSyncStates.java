package dev.meshlog.config.gitops;

import java.time.Instant;
import java.util.Optional;

import dev.meshlog.config.client.LogReader;
import dev.meshlog.events.gitops.GitSyncState;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Reads and writes the bridge's progress on {@code mesh.gitops.state} (compacted). */
final class GitSyncStates {

  private GitSyncStates() {}

  /** The last state written for {@code source}, if any. */
  static Optional<GitSyncState> read(LogReader reader, GitSource source) {
    String key = source.key();
    GitSyncState[] latest = new GitSyncState[1];
    reader.readToEnd(Topics.GITOPS_STATE, (k, state) -> {
      if (key.equals(k)) {
        latest[0] = state;
      }
    });
    return Optional.ofNullable(latest[0]);
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
}
