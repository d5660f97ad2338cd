package dev.meshlog.config.gitops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

import dev.meshlog.config.client.ConfigCommands;
import dev.meshlog.config.client.FencedException;
import dev.meshlog.config.client.LogReader;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.client.Outcome;
import dev.meshlog.config.client.SubmitTimeoutException;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.config.resource.ResourceParser;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.SourceType;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevSort;
import org.eclipse.jgit.revwalk.RevTree;
import org.eclipse.jgit.revwalk.RevWalk;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the mesh's config in step with a branch of a git repository, one commit at a time.
 *
 * <p>Each sync fetches the branch into a cache directory and walks the commits after the last one
 * it submitted, oldest first (following first parents). For each commit, the YAML and JSON files
 * under the path that the commit added or changed become apply commands for the resources that
 * are new or different, and resources that disappeared (file removed, or document removed from a
 * file) become deletes; every command names the commit, its author, the repository and the file.
 *
 * <p>A commit's commands and the record of its id on {@code mesh.gitops.state} are written in one
 * Kafka transaction, under a transactional id derived from the source, so a restarted bridge
 * neither replays nor skips a commit, and a second bridge for the same source fences the first.
 * Rejected resources are reported with the commit id; the other resources of the commit still
 * apply, and the bridge moves past it.
 */
public final class GitOpsBridge implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GitOpsBridge.class);

  private final GitSource source;
  private final Map<String, Object> kafkaConfig;
  private final Duration timeout;
  private final GitMirror mirror;
  private final MeshClient client;
  private final ConfigCommands commands;
  private final ResourceParser parser = new ResourceParser();
  /** Each blob parsed once across commits and syncs: most commits touch one file of many. */
  private final ParsedBlobs parsed = new ParsedBlobs(ParsedBlobs.DEFAULT_MAX_BYTES);
  private final String defaultNamespace;
  private final Clock clock;
  private boolean loaded;
  private String lastCommit;
  /** Progress keys with credentials an earlier release wrote: tombstoned with the next record. */
  private List<String> keysWithCredentials = List.of();
  private volatile boolean fenced;

  /**
   * A bridge for {@code source}.
   *
   * @param kafkaConfig Kafka client config (at least {@code bootstrap.servers})
   * @param cacheDir where repositories are mirrored
   * @param defaultNamespace the namespace of resources that name none
   * @param timeout how long to wait for the control plane's answers to one commit
   * @param clock gives commands their {@code requestedAt}
   */
  public GitOpsBridge(GitSource source, Map<String, Object> kafkaConfig, Path cacheDir,
                      String defaultNamespace, Duration timeout, Clock clock) {
    this(source, GitCredentials.none(), kafkaConfig, cacheDir, defaultNamespace, timeout, clock);
  }

  /**
   * A bridge for {@code source} that authenticates with {@code credentials} (HTTP(S) basic: a
   * user name and a password or access token).
   *
   * @param kafkaConfig Kafka client config (at least {@code bootstrap.servers})
   * @param cacheDir where repositories are mirrored
   * @param defaultNamespace the namespace of resources that name none
   * @param timeout how long to wait for the control plane's answers to one commit
   * @param clock gives commands their {@code requestedAt}
   */
  public GitOpsBridge(GitSource source, GitCredentials credentials, Map<String, Object> kafkaConfig,
                      Path cacheDir, String defaultNamespace, Duration timeout, Clock clock) {
    this(source, () -> credentials, kafkaConfig, cacheDir, defaultNamespace, timeout, clock);
  }

  /**
   * A bridge for {@code source} that asks {@code credentials} before each fetch, so a token
   * rotated in its file is used by a running {@link #watch} from its next sync (as Argo CD and
   * Flux re-read their repository secrets).
   *
   * @param credentials gives the credentials; what it throws fails that sync, not the watch
   */
  public GitOpsBridge(GitSource source, Supplier<GitCredentials> credentials,
                      Map<String, Object> kafkaConfig, Path cacheDir, String defaultNamespace,
                      Duration timeout, Clock clock) {
    this.source = source;
    this.kafkaConfig = Map.copyOf(kafkaConfig);
    this.timeout = timeout;
    this.defaultNamespace = defaultNamespace;
    this.clock = clock;
    this.mirror = new GitMirror(source.repository(), credentials, cacheDir);
    Map<String, Object> transactional = new HashMap<>(kafkaConfig);
    transactional.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, source.transactionalId());
    this.client = new MeshClient(transactional, timeout);
    this.commands = ConfigCommands.of("gitops", SourceType.GIT, clock);
  }

  /** The branch {@code repository}'s HEAD names, for when the user names none. */
  public static String defaultBranch(String repository) {
    return defaultBranch(repository, GitCredentials.none());
  }

  /**
   * The branch {@code repository}'s HEAD names, authenticating with {@code credentials}.
   *
   * @param repository a path or URL; credentials in the URL are not used (pass them)
   * @throws GitAuthenticationException if the server refuses the credentials or wants some
   */
  public static String defaultBranch(String repository, GitCredentials credentials) {
    return GitMirror.defaultBranch(GitUrls.withoutCredentials(repository), credentials);
  }

  /** What this bridge follows. */
  public GitSource source() {
    return source;
  }

  /**
   * Fetches the branch and submits every commit after the last one submitted, oldest first.
   *
   * @throws IllegalStateException if the repository cannot be fetched or Kafka cannot be written
   *     (commits submitted before that stay submitted)
   * @throws FencedException if another bridge for the same source took over
   */
  public synchronized SyncReport sync() {
    ObjectId head = mirror.fetch(source.branch());
    if (!loaded) {
      client.claim(); // fence an older bridge before reading the progress it wrote
      GitSyncStates.Found found;
      try (LogReader reader = new LogReader(kafkaConfig, timeout)) {
        found = GitSyncStates.read(reader, source);
      }
      lastCommit = found.state() == null ? null : found.state().getCommitId();
      keysWithCredentials = found.keysWithCredentials();
      if (!keysWithCredentials.isEmpty()) {
        // A bridge of an earlier release, still running with the URL's credentials, writes under
        // another transactional id: fence it too, as a bridge of this source would be.
        keysWithCredentials.forEach(key -> client.fence(GitSource.transactionalIdOf(key)));
        LOG.warn("{}: progress found under {} key(s) with credentials in the URL, written by an"
            + " earlier release; going on from {} and deleting those keys", source,
            keysWithCredentials.size(), lastCommit == null ? "the start" : shortId(lastCommit));
      }
      loaded = true;
    }
    String from = lastCommit;
    List<String> notes = new ArrayList<>();
    List<CommitReport> reports = new ArrayList<>();
    Repository repo = mirror.repository();
    try {
      if (!source.path().isEmpty() && !pathExists(repo, head)) {
        if (lastCommit == null) {
          // A first sync of a path that is not there is a mistake (a typo, the wrong branch), as
          // Argo CD holds it; "up to date" let a CI pipeline pass while it deployed nothing.
          throw new IllegalStateException("path " + source.path() + " does not exist in "
              + source.branch() + " at " + shortId(head.name())
              + " (expected: a directory or file of the repository); nothing was submitted");
        }
        if (!head.name().equals(lastCommit)) {
          notes.add("path " + source.path() + " does not exist at " + shortId(head.name())
              + " any more: its resources are deleted");
        }
      }
      List<Step> steps = steps(repo, head, notes);
      String written = lastCommit;
      for (Step step : steps) {
        CommitChanges changes = CommitChanges.between(repo, step.before(), step.commit().getTree(),
            source.path(), parser, defaultNamespace, parsed);
        if (changes.isEmpty()) {
          lastCommit = step.commit().name(); // recorded with the next commit that changes something
          continue;
        }
        CommitReport report = submit(step.commit(), changes);
        reports.add(report);
        lastCommit = step.commit().name();
        written = lastCommit;
        if (!report.unanswered().isEmpty()) {
          notes.add("stopped after " + report.shortId() + ": the control plane did not answer in "
              + timeout.toSeconds() + "s; its commands are in the log, and the next sync goes on"
              + " from the next commit");
          break;
        }
      }
      if (lastCommit != null && (!lastCommit.equals(written) || !keysWithCredentials.isEmpty())) {
        client.submit(List.of(), progress(lastCommit));
        keysWithCredentials = List.of();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + source + ": " + e.getMessage(), e);
    } catch (FencedException e) {
      fenced = true;
      throw e;
    }
    return new SyncReport(source, from, lastCommit, reports, notes);
  }

  private boolean pathExists(Repository repo, ObjectId head) throws IOException {
    try (RevWalk walk = new RevWalk(repo);
         org.eclipse.jgit.treewalk.TreeWalk found = org.eclipse.jgit.treewalk.TreeWalk.forPath(
             repo, source.path(), walk.parseCommit(head).getTree())) {
      return found != null;
    }
  }

  /** One commit to submit and the tree it is compared with (null = empty). */
  private record Step(RevCommit commit, RevTree before) {}

  private List<Step> steps(Repository repo, ObjectId head, List<String> notes) throws IOException {
    List<Step> steps = new ArrayList<>();
    try (RevWalk walk = new RevWalk(repo)) {
      RevCommit headCommit = walk.parseCommit(head);
      RevCommit last = null;
      if (lastCommit != null) {
        try {
          last = walk.parseCommit(ObjectId.fromString(lastCommit));
        } catch (MissingObjectException | IllegalArgumentException e) {
          last = null;
        }
        if (last != null && last.equals(headCommit)) {
          return steps;
        }
        if (last == null || !walk.isMergedInto(last, headCommit)) {
          notes.add("history rewritten: " + shortId(lastCommit) + " is not on " + source.branch()
              + " any more; applying " + shortId(headCommit.name()) + " as one step"
              + (last == null ? " (the old commit is unknown, so nothing is deleted)" : ""));
          RevCommit parsedHead = walk.parseCommit(head);
          steps.add(new Step(parsedHead, last == null ? null : walk.parseTree(last.getTree())));
          return steps;
        }
      }
    }
    try (RevWalk walk = new RevWalk(repo)) {
      walk.setFirstParent(true);
      walk.sort(RevSort.TOPO);
      walk.sort(RevSort.REVERSE, true);
      walk.markStart(walk.parseCommit(head));
      if (lastCommit != null) {
        walk.markUninteresting(walk.parseCommit(ObjectId.fromString(lastCommit)));
      }
      for (RevCommit commit : walk) {
        RevTree before = commit.getParentCount() == 0 ? null
            : repo.parseCommit(commit.getParent(0)).getTree();
        steps.add(new Step(commit, before));
      }
    }
    return steps;
  }

  private CommitReport submit(RevCommit commit, CommitChanges changes) {
    PersonIdent author = commit.getAuthorIdent();
    String authorText = author.getName() + " <" + author.getEmailAddress() + ">";
    ConfigCommands byAuthor = commands.withActor(author.getEmailAddress().isEmpty()
        ? author.getName() : author.getEmailAddress());
    List<ConfigCommand> batch = new ArrayList<>();
    for (CommitChanges.Located<Resource> apply : changes.applies()) {
      batch.add(byAuthor.withSource(changeSource(commit, authorText, apply.file()))
          .apply(apply.value()));
    }
    for (CommitChanges.Located<ResourceId> delete : changes.deletes()) {
      batch.add(byAuthor.withSource(changeSource(commit, authorText, delete.file()))
          .delete(delete.value()));
    }
    List<Outcome> outcomes;
    List<ConfigCommand> unanswered = List.of();
    try {
      outcomes = client.submit(batch, progress(commit.name()));
    } catch (SubmitTimeoutException e) {
      outcomes = e.answered();
      unanswered = e.unanswered();
    }
    keysWithCredentials = List.of(); // their tombstones went with the commands (a throw keeps them)
    CommitReport report = new CommitReport(commit.name(), authorText, commit.getShortMessage(),
        author.getWhenAsInstant(), outcomes, changes.problems(), changes.warnings(), unanswered);
    if (!report.clean()) {
      LOG.warn("commit {} of {}: {} rejected, {} not read or not applied, {} unanswered", report.shortId(),
          source, report.rejections().size(), report.problems().size(), unanswered.size());
    }
    return report;
  }

  /**
   * The progress record for {@code commitId}, and tombstones for the keys with credentials an
   * earlier release wrote (in the same transaction: the old key goes only when the new one is
   * there); after the first write there are none left to delete.
   */
  private List<ProducerRecord<String, byte[]>> progress(String commitId) {
    List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
    records.add(GitSyncStates.record(source, commitId, clock.instant()));
    keysWithCredentials.forEach(key -> records.add(GitSyncStates.tombstone(key)));
    return records;
  }

  private ChangeSource changeSource(RevCommit commit, String author, String file) {
    return ChangeSource.newBuilder().setType(SourceType.GIT).setCommitId(commit.name())
        .setCommitAuthor(author).setRepository(source.repository()).setPath(file).build();
  }

  private static String shortId(String commitId) {
    return commitId.substring(0, Math.min(7, commitId.length()));
  }

  /**
   * Syncs now and then every {@code interval} until {@code stop} counts down or another bridge
   * takes over; reports syncs that did something, and errors (a failed sync is retried next time).
   */
  public void watch(Duration interval, Consumer<SyncReport> onReport,
                    Consumer<RuntimeException> onError, CountDownLatch stop)
      throws InterruptedException {
    do {
      try {
        SyncReport report = sync();
        if (!report.commits().isEmpty() || !report.notes().isEmpty()) {
          onReport.accept(report);
        }
      } catch (RuntimeException e) {
        onError.accept(e);
        if (fenced) {
          return;
        }
      }
    } while (!stop.await(interval.toMillis(), TimeUnit.MILLISECONDS));
  }

  @Override
  public void close() {
    client.close();
    mirror.close();
  }
}
