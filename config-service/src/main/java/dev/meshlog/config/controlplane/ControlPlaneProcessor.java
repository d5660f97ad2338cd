package dev.meshlog.config.controlplane;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.config.FieldError;
import dev.meshlog.events.config.RejectionReason;
import dev.meshlog.events.discovery.ChangeTrigger;
import dev.meshlog.events.discovery.ResourceRevision;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Judges config commands, tracks instances and their leases, and publishes the views that change.
 * One instance runs in the single control-plane task; see {@link ControlPlaneTopology}.
 */
final class ControlPlaneProcessor implements Processor<String, byte[], String, Object> {

  static final String APPLICATION = "meshlog-config-service";
  /**
   * The largest view content (encoded bytes) published ({@link Topics#MAX_VIEW_BYTES}, which
   * leaves room for its key, version, time and trigger within the views topic's
   * {@code max.message.bytes}): a larger one would fail the transaction's send, the stream
   * thread with it, and every retry of the same command after it.
   */
  static final int MAX_VIEW_BYTES = ViewLimits.DEFAULT.maxViewBytes();
  /** How long a deregistered instance record is kept when its service has others. */
  static final Duration GHOST_RETENTION = Duration.ofHours(1);
  private static final Logger LOG = LoggerFactory.getLogger(ControlPlaneProcessor.class);

  private final ResourceCheck check;
  /** Times each command's stages (off unless its logger is at DEBUG). */
  private final CommandStages stages;
  private final Discovery discovery;
  private final Duration leaseScanInterval;
  private final Duration commandCommitSpacing;
  private final ViewLimits limits;
  /** When the last user command was processed (processing time), or never. */
  private long lastCommandMs = Long.MIN_VALUE;
  /** A command came within the spacing of the one before: a tick requests its commit. */
  private boolean commandCommitOwed;
  /**
   * The tick, scheduled only while a commit is owed: any punctuation makes Streams consider the
   * task in need of a commit, so a standing 5 ms tick would commit an empty transaction every
   * 5 ms. Each such commit starts right after the command's own, while the broker still writes
   * that one's markers, so its offset commit is refused with CONCURRENT_TRANSACTIONS and retried
   * after the producer's retry backoff — the stream thread blocked meanwhile: the "≈100 ms
   * stalls in one apply in ten" of the benchmark's child mode (BENCHMARKS.md, run 9).
   */
  private Cancellable commitTick;

  private ProcessorContext<String, Object> context;
  private ControlPlaneState state;
  private KeyValueStore<String, InstanceRegistration> instances;
  private boolean fullSyncPending = true;
  /**
   * The lease scan's tick, armed for the next due record only (at least a scan interval ahead),
   * not every interval: Streams commits a task after each of its punctuations, so a tick every
   * second meant an empty transaction every second, and one that started right behind a
   * command's commit was refused (CONCURRENT_TRANSACTIONS) and retried, holding the next command.
   */
  private Cancellable leaseTick;
  /** When {@link #leaseTick} fires (processing time), or never. */
  private long leaseTickAt = Long.MAX_VALUE;
  /**
   * When each live instance record is next due for the lease scan (its lease end, or the end of
   * its grace after the registry resumed), and which of them are expected to heartbeat; rebuilt
   * from the store at init.
   */
  private final LeaseIndex leases = new LeaseIndex();
  /** When each deregistered record's retention ends; rebuilt from the store at init. */
  private final LeaseIndex retention = new LeaseIndex();
  /**
   * Whether the registry delivers: while it is silent nothing lapses, and after it resumes every
   * instance gets a whole lease to heartbeat again. Starts silent: a restarted or rebalanced task
   * resumes at its first registry record, whatever its restored leases say.
   */
  private final RegistryFlow flow = new RegistryFlow();
  /**
   * Deregistered records kept past their retention because they are the last record of their
   * service (key prefix {@code namespace/service/} → instance key); another record of the service
   * makes its ghost due again at once.
   */
  private final java.util.Map<String, String> loneGhosts = new java.util.HashMap<>();
  /**
   * The views held back for size now, by host: the store's {@code ~hold/} entries, loaded at
   * init (so a restart neither forgets a hold nor keeps a stale one: the first tick recompiles
   * each held host) and kept in step with every hold record and tombstone sent.
   */
  private final java.util.Map<String, ViewHold> holds = new java.util.HashMap<>();
  /**
   * The encoded size of each host's view when it was last compiled (published or not): which
   * hosts' registry changes are coalesced ({@link ViewLimits}). Unknown after a start until the
   * host is compiled: the first tick compiles every host.
   */
  private final java.util.Map<String, Integer> viewBytes = new java.util.HashMap<>();
  /** Hosts of large views with registry changes not compiled yet: when each is due, why. */
  private final java.util.Map<String, Coalesced> coalesced = new java.util.HashMap<>();
  /** The tick that compiles {@link #coalesced} hosts, armed only while there are any. */
  private Cancellable coalesceTick;
  /** When {@link #coalesceTick} fires (processing time), or never. */
  private long coalesceTickAt = Long.MAX_VALUE;

  /** Registry changes of one large host waiting to be compiled together. */
  private static final class Coalesced {
    final long due;
    final String firstCause;
    int changes = 1;

    Coalesced(long due, String firstCause) {
      this.due = due;
      this.firstCause = firstCause;
    }

    String cause() {
      return changes == 1 ? firstCause
          : firstCause + " and " + (changes - 1) + " more registry changes";
    }
  }

  ControlPlaneProcessor(ResourceCheck check, Discovery discovery, Duration leaseScanInterval,
                        Duration commandCommitSpacing) {
    this(check, discovery, leaseScanInterval, commandCommitSpacing, CommandStages.OFF);
  }

  ControlPlaneProcessor(ResourceCheck check, Discovery discovery, Duration leaseScanInterval,
                        Duration commandCommitSpacing, CommandStages stages) {
    this(check, discovery, leaseScanInterval, commandCommitSpacing, stages, ViewLimits.DEFAULT);
  }

  ControlPlaneProcessor(ResourceCheck check, Discovery discovery, Duration leaseScanInterval,
                        Duration commandCommitSpacing, CommandStages stages, ViewLimits limits) {
    this.limits = java.util.Objects.requireNonNull(limits, "limits");
    this.stages = stages;
    this.check = check;
    this.discovery = discovery;
    this.leaseScanInterval = leaseScanInterval;
    this.commandCommitSpacing = commandCommitSpacing;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    this.state = new ControlPlaneState(context.getStateStore(ControlPlaneTopology.REVISIONS_STORE),
        context.getStateStore(ControlPlaneTopology.VIEWS_STORE));
    this.instances = context.getStateStore(ControlPlaneTopology.INSTANCES_STORE);
    // Rebuild the in-memory model from the restored stores; the first tick republishes
    // whatever compiles differently from what was last published.
    List<ConfigEvent> current = state.currentResources();
    java.util.Map<String, InstanceRegistration> records = new java.util.HashMap<>();
    long now = now();
    try (KeyValueIterator<String, InstanceRegistration> it = instances.all()) {
      it.forEachRemaining(kv -> {
        records.put(kv.key, kv.value);
        schedule(kv.key, kv.value, now);
      });
    }
    discovery.load(current, records);
    holds.clear();
    holds.putAll(state.holds());
    armLeaseTick(); // the first tick also republishes what compiles differently (fullSyncPending)
  }

  /**
   * Makes the lease tick fire when the earliest record is due, but no sooner than a scan interval
   * from now (a lapse is noticed at most one interval late, as with a tick every interval), and
   * keeps a tick that fires sooner. While the registry is silent no lease can lapse, so only a
   * retention is waited for; the record that ends the silence arms the tick again.
   */
  private void armLeaseTick() {
    long now = now();
    long next = fullSyncPending ? now
        : Math.min(retention.nextDue(), flow.silent(now) ? Long.MAX_VALUE : leases.nextDue());
    if (next == Long.MAX_VALUE) {
      return; // nothing will ever be due; a registration arms it
    }
    long at = Math.max(next, now + leaseScanInterval.toMillis());
    if (leaseTick != null && leaseTickAt <= at) {
      return;
    }
    if (leaseTick != null) {
      leaseTick.cancel();
    }
    leaseTick = context.schedule(Duration.ofMillis(at - now), PunctuationType.WALL_CLOCK_TIME,
        this::onTick);
    leaseTickAt = at;
  }

  @Override
  public void process(Record<String, byte[]> record) {
    String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("");
    if (topic.equals(Topics.CONFIG_COMMANDS.name())) {
      ConfigCommand command;
      try {
        command = Topics.CONFIG_COMMANDS.deserializeValue(record.value());
      } catch (RuntimeException e) {
        deadLetter(record, e);
        return;
      }
      if (command == null) {
        return; // a tombstone on the commands topic means nothing
      }
      stages.started(command.getCommandId(),
          context.recordMetadata().map(RecordMetadata::offset).orElse(-1L), record.timestamp());
      handleCommand(record.key(), command);
      // A user command is rare and someone is waiting for its views: commit now rather than at
      // the next interval. Registry traffic (heartbeats, lease ticks) keeps the interval, so an
      // idle or heartbeat-only control plane commits no more often than before.
      requestCommandCommit(now());
      stages.processed();
    } else if (topic.equals(Topics.REGISTRY_INSTANCES.name())) {
      // Any record shows the registry delivers, an undecodable one too.
      registryRecordArrived(now());
      try {
        InstanceRegistration instance;
        try {
          instance = Topics.REGISTRY_INSTANCES.deserializeValue(record.value());
        } catch (RuntimeException e) {
          deadLetter(record, e);
          return;
        }
        handleInstance(record.key(), instance);
      } finally {
        flow.expectHeartbeatsWithin(leases.shortestExpectedLease());
        armLeaseTick();
      }
    }
  }

  // ---- commands -------------------------------------------------------------------------------

  private void handleCommand(String key, ConfigCommand command) {
    long now = now();
    ResourceId id = new ResourceId(command.getResource().getKind(),
        command.getResource().getNamespace(), command.getResource().getName());
    if (!id.key().equals(key)) {
      reject(key, command, RejectionReason.MALFORMED, null, List.of(FieldProblem.of("key",
          "record key " + key + " does not match the command's resource " + id.key())), now);
      return;
    }
    ConfigEvent latest = state.latest(key);
    // A deleted resource keeps counting: its next revision follows the deletion's.
    long currentRevision = latest == null ? 0L : latest.getRevision();
    ConfigEvent current = latest == null || latest.getChangeType() == ChangeType.DELETED
        ? null : latest;
    Long expected = command.getExpectedRevision();
    if (expected != null && expected != (current == null ? 0L : current.getRevision())) {
      reject(key, command, RejectionReason.CONFLICT, currentRevision, List.of(new FieldProblem(
          "expectedRevision", Long.toString(expected), current == null
              ? "conflict: " + key + " does not exist (expected revision 0 to create it)"
              : "conflict: " + key + " is at revision " + current.getRevision())), now);
      return;
    }
    switch (command.getOperation()) {
      case APPLY -> apply(key, id, command, current, currentRevision, command.getDocument(), null, now);
      case DELETE -> delete(key, command, current, currentRevision, now);
      case ROLLBACK -> rollback(key, id, command, current, currentRevision, now);
      default -> reject(key, command, RejectionReason.MALFORMED, currentRevision, List.of(
          new FieldProblem("operation", String.valueOf(command.getOperation()),
              "unknown operation (expected: APPLY, DELETE or ROLLBACK)")), now);
    }
  }

  private void apply(String key, ResourceId id, ConfigCommand command, ConfigEvent current,
                     long currentRevision, String document, Long rolledBackTo, long now) {
    if (document == null || document.isBlank()) {
      reject(key, command, RejectionReason.MALFORMED, currentRevision,
          List.of(FieldProblem.of("document", "missing (an apply carries the whole resource)")), now);
      return;
    }
    ResourceCheck.Result result;
    try {
      stages.stageStarted();
      result = check.check(document);
      stages.checked();
    } catch (RuntimeException e) {
      // A validator bug must cost one command, never the control plane.
      LOG.error("checking {} failed", key, e);
      reject(key, command, RejectionReason.MALFORMED, currentRevision, List.of(FieldProblem.of(
          "document", "could not be checked: " + e)), now);
      return;
    }
    if (!result.ok()) {
      reject(key, command, RejectionReason.INVALID, currentRevision, result.problems(), now);
      return;
    }
    Resource resource = result.resource();
    if (!resource.id().equals(id)) {
      reject(key, command, RejectionReason.MALFORMED, currentRevision, List.of(new FieldProblem(
          "metadata", resource.id().key(), "the document is " + resource.id().key()
              + " but the command is for " + id.key())), now);
      return;
    }
    String hash = resource.sha256();
    if (current != null && hash.equals(current.getDocumentHash())) {
      emitEvent(key, event(command, current.getRevision(), ChangeType.UNCHANGED,
          current.getDocument(), hash, rolledBackTo, now), null, null, false);
      return;
    }
    ChangeType type = current == null ? ChangeType.CREATED : ChangeType.UPDATED;
    emitEvent(key, event(command, currentRevision + 1, type, resource.canonicalJson(), hash,
        rolledBackTo, now), command, current, true);
  }

  private void delete(String key, ConfigCommand command, ConfigEvent current, long currentRevision,
                      long now) {
    if (current == null) {
      reject(key, command, RejectionReason.NOT_FOUND, currentRevision,
          List.of(FieldProblem.of("metadata.name", key + " does not exist")), now);
      return;
    }
    emitEvent(key, event(command, currentRevision + 1, ChangeType.DELETED, null, "", null, now),
        command, current, true);
  }

  private void rollback(String key, ResourceId id, ConfigCommand command, ConfigEvent current,
                        long currentRevision, long now) {
    Long target = command.getRollbackToRevision();
    ConfigEvent old = target == null ? null
        : state.revision(key, target);
    if (old == null) {
      reject(key, command, RejectionReason.NOT_FOUND, currentRevision, List.of(new FieldProblem(
          "rollbackToRevision", String.valueOf(target), "no such revision of " + key
              + (currentRevision == 0 ? " (it has none)" : " (expected: 1.." + currentRevision + ")"))),
          now);
      return;
    }
    if (old.getDocument() == null) {
      reject(key, command, RejectionReason.INVALID, currentRevision, List.of(new FieldProblem(
          "rollbackToRevision", target.toString(), "revision " + target + " of " + key
              + " is a deletion; delete the resource instead")), now);
      return;
    }
    apply(key, id, command, current, currentRevision, old.getDocument(), target, now);
  }

  private static ConfigEvent event(ConfigCommand command, long revision, ChangeType type,
                                   String document, String hash, Long rolledBackTo, long now) {
    return ConfigEvent.newBuilder()
        .setCommandId(command.getCommandId())
        .setResource(command.getResource())
        .setApiVersion(command.getApiVersion())
        .setRevision(revision)
        .setChangeType(type)
        .setDocument(document)
        .setDocumentHash(hash)
        .setRolledBackToRevision(rolledBackTo)
        .setActor(command.getActor())
        .setSource(command.getSource())
        .setRequestedAt(command.getRequestedAt())
        .setAcceptedAt(Instant.ofEpochMilli(now))
        .build();
  }

  /**
   * Publishes an accepted command's event and, for a change, the views it alters — or, when one
   * of those views would be too large for a Kafka record, rejects the command and leaves the
   * model as it was.
   *
   * @param command the command (for a rejection), null when unchanged
   * @param current the resource's current event before the change (to restore the model), or null
   */
  private void emitEvent(String key, ConfigEvent event, ConfigCommand command, ConfigEvent current,
                         boolean changed) {
    if (!changed) {
      forwardEvent(key, event);
      return;
    }
    // The event, the views and the store's changelog records commit in one transaction. The
    // views are compiled before anything is forwarded, so that a change whose view would not fit
    // in a record can still be refused (sending the event first, while the views compiled, made
    // no difference that showed: config-service/README.md, "What the broker does per apply").
    stages.stageStarted();
    Set<String> hosts = discovery.applyConfig(event);
    long now = now();
    Set<String> failed = new java.util.HashSet<>();
    List<Compiled> views = compileChanged(hosts, now, failed);
    Compiled tooLarge = firstTooLarge(views);
    if (tooLarge != null) {
      discovery.applyConfig(current != null ? current : deletion(event));
      reject(key, command, RejectionReason.INVALID, event.getRevision() - 1, List.of(new FieldProblem(
          "spec", tooLarge.host(), "with this change the view of " + tooLarge.host() + " would be "
              + tooLarge.bytes() + " bytes (expected: at most " + limits.maxViewBytes()
              + " bytes, what one Kafka record carries); split its routes or endpoints over more hosts")),
          now);
      return;
    }
    forwardEvent(key, event);
    int published = forwardViews(views, ChangeTrigger.newBuilder().setCommandId(event.getCommandId())
        .setResource(key).setRevision(event.getRevision())
        .setRequestedAt(event.getRequestedAt()).build(), now);
    stages.viewsPublished(published);
    releaseHolds(hosts, failed, now); // a change that fits ends the holds of the hosts it touched
    if (!coalesced.isEmpty()) {
      for (String host : hosts) {
        if (!failed.contains(host)) {
          coalesced.remove(host); // compiled just now, with every registry change so far
        }
      }
    }
    // The one store of config state: the latest revision of a resource is its current state
    // (a store of current resources beside it cost one more changelog partition, so one more
    // produce and one more commit marker, in every change's transaction). The views' stamps
    // are in it too, for the same reason.
    state.putRevision(key, event);
  }

  private void forwardEvent(String key, ConfigEvent event) {
    context.forward(new Record<>(key, (Object) event, event.getAcceptedAt().toEpochMilli()),
        ControlPlaneTopology.EVENTS_SINK);
  }

  /** A deletion of {@code event}'s resource: what undoes its creation in the model. */
  private static ConfigEvent deletion(ConfigEvent event) {
    return ConfigEvent.newBuilder(event).setChangeType(ChangeType.DELETED).setDocument(null)
        .setDocumentHash("").build();
  }

  private void reject(String key, ConfigCommand command, RejectionReason reason, Long revision,
                      List<FieldProblem> problems, long now) {
    List<FieldError> errors = new ArrayList<>();
    for (FieldProblem p : problems) {
      errors.add(FieldError.newBuilder().setPath(p.path()).setValue(p.value())
          .setMessage(p.message()).build());
    }
    ConfigRejection rejection = ConfigRejection.newBuilder()
        .setCommandId(command.getCommandId())
        .setResource(command.getResource())
        .setReason(reason)
        .setErrors(errors)
        .setCurrentRevision(revision)
        .setActor(command.getActor())
        .setCommitId(command.getSource() == null ? null : command.getSource().getCommitId())
        .setRequestedAt(command.getRequestedAt())
        .setRejectedAt(Instant.ofEpochMilli(now))
        .build();
    context.forward(new Record<>(key, (Object) rejection, now), ControlPlaneTopology.REJECTIONS_SINK);
  }

  /**
   * Requests a commit for a command that came alone (no command in the spacing before it) at once.
   * In a burst, where a commit per command would block this thread for a coordinator round trip
   * each, the commit interval commits as before, and a tick requests a commit once the burst has
   * been quiet for the spacing (so its last commands never wait for a long interval).
   */
  private void requestCommandCommit(long now) {
    boolean alone = lastCommandMs == Long.MIN_VALUE
        || now - lastCommandMs >= commandCommitSpacing.toMillis();
    lastCommandMs = now;
    if (alone) {
      context.commit();
      commandCommitOwed = false;
      // A burst that ended less than a spacing before this command left its tick standing, and
      // this commit covers what it owed: a tick left running would never find a commit owed, so
      // it would never cancel itself, and each of its runs would make Streams commit an empty
      // transaction right behind every command's own.
      cancelCommitTick();
    } else {
      commandCommitOwed = true;
      if (commitTick == null) {
        commitTick = context.schedule(commandCommitSpacing, PunctuationType.WALL_CLOCK_TIME,
            this::onCommitTick);
      }
    }
  }

  private void onCommitTick(long timestamp) {
    if (!commandCommitOwed) {
      cancelCommitTick();
    } else if (timestamp - lastCommandMs >= commandCommitSpacing.toMillis()) {
      context.commit();
      commandCommitOwed = false;
      cancelCommitTick();
    }
  }

  private void cancelCommitTick() {
    if (commitTick != null) {
      commitTick.cancel();
      commitTick = null;
    }
  }

  // ---- registry -------------------------------------------------------------------------------

  /**
   * Notes a registry record; when it ends a silence (or is the first since the task started),
   * every instance whose lease ended meanwhile gets a whole lease from now to heartbeat again.
   * Costs what is overdue, once per silence.
   */
  private void registryRecordArrived(long now) {
    if (!flow.recordArrived(now)) {
      return;
    }
    int held = 0;
    for (String key : leases.takeDue(now)) {
      InstanceRegistration record = instances.get(key);
      if (record != null && record.getState() != RegistrationState.DEREGISTERED) {
        schedule(key, record, now);
        held++;
      }
    }
    if (held > 0) {
      LOG.info("the registry delivers again; {} instances whose lease ended while it was silent"
          + " keep their endpoints for one more lease", held);
    }
  }

  private void handleInstance(String key, InstanceRegistration instance) {
    long now = now();
    InstanceRegistration previous = instances.get(key);
    if (instance == null) {
      // A tombstone forgets the instance entirely (an operator's or adapter's clean-up).
      if (previous != null) {
        forgetInstance(key);
        publishRegistryChange(discovery.applyInstance(key, null), "tombstone of " + key);
      }
      return;
    }
    if (instance.getState() == RegistrationState.DEREGISTERED || lapses(instance, now)) {
      // Kept, marked DEREGISTERED: it leaves every view's endpoints, but the service's host
      // stays (a service scaled to zero still exists; callers then see 503 UH, not a new config).
      InstanceRegistration gone = deregistered(instance);
      if (!gone.equals(previous)) {
        storeInstance(key, gone);
        publishRegistryChange(discovery.applyInstance(key, gone), "deregistration of " + key);
      }
      return;
    }
    storeInstance(key, instance);
    publishRegistryChange(discovery.applyInstance(key, instance), "registration of " + key);
  }

  /**
   * Publishes the views a registry record changed: small ones at once, large ones (by their last
   * compiled size, {@link ViewLimits}) when their coalescing tick comes, together with every
   * other change of the host until then.
   */
  private void publishRegistryChange(Set<String> hosts, String cause) {
    if (hosts.isEmpty()) {
      return;
    }
    Set<String> now = hosts;
    long at = now();
    for (String host : hosts) {
      Integer bytes = viewBytes.get(host);
      if (bytes == null || !limits.coalesces(bytes)) {
        continue;
      }
      if (now == hosts) {
        now = new TreeSet<>(hosts);
      }
      now.remove(host);
      Coalesced waiting = coalesced.get(host);
      if (waiting == null) {
        coalesced.put(host, new Coalesced(at + limits.coalesceDelay(bytes).toMillis(), cause));
      } else {
        waiting.changes++;
      }
    }
    publish(now, cause);
    armCoalesceTick();
  }

  /** Makes the coalescing tick fire when the first waiting host is due; keeps a sooner one. */
  private void armCoalesceTick() {
    long next = Long.MAX_VALUE;
    for (Coalesced waiting : coalesced.values()) {
      next = Math.min(next, waiting.due);
    }
    if (next == Long.MAX_VALUE || (coalesceTick != null && coalesceTickAt <= next)) {
      return;
    }
    if (coalesceTick != null) {
      coalesceTick.cancel();
    }
    coalesceTick = context.schedule(Duration.ofMillis(Math.max(1, next - now())),
        PunctuationType.WALL_CLOCK_TIME, this::onCoalesceTick);
    coalesceTickAt = next;
  }

  private void onCoalesceTick(long timestamp) {
    coalesceTick.cancel();
    coalesceTick = null;
    coalesceTickAt = Long.MAX_VALUE;
    List<String> due = new ArrayList<>();
    coalesced.forEach((host, waiting) -> {
      if (waiting.due <= timestamp) {
        due.add(host);
      }
    });
    due.sort(null);
    for (String host : due) {
      publish(Set.of(host), coalesced.remove(host).cause());
    }
    armCoalesceTick();
  }

  /** Writes an instance record and keeps the lease indexes in step with the store. */
  private void storeInstance(String key, InstanceRegistration record) {
    instances.put(key, record);
    schedule(key, record, now());
    String prefix = servicePrefix(key);
    String ghost = loneGhosts.get(prefix);
    if (ghost != null) {
      loneGhosts.remove(prefix);
      if (!ghost.equals(key)) {
        retention.schedule(ghost, Long.MIN_VALUE); // no longer the last record of its service
      }
    }
    armLeaseTick();
  }

  private void forgetInstance(String key) {
    instances.delete(key);
    leases.remove(key);
    retention.remove(key);
    loneGhosts.remove(servicePrefix(key), key);
  }

  /**
   * Indexes a record by when it is next due: a deregistered one when its retention ends; a live one
   * when its lease ends, counted among the instances expected to heartbeat, or, if its lease
   * already ended, when its grace after the registry resumed ends (before the first registry
   * record since the start: its lease end, so that record finds it overdue).
   */
  private void schedule(String key, InstanceRegistration record, long now) {
    long heartbeat = record.getHeartbeatAt().toEpochMilli();
    if (record.getState() == RegistrationState.DEREGISTERED) {
      leases.remove(key);
      retention.schedule(key, heartbeat + GHOST_RETENTION.toMillis() + 1);
      return;
    }
    retention.remove(key);
    long lease = record.getLeaseDurationMillis();
    long leaseEnd = heartbeat + lease;
    if (leaseEnd > now) {
      leases.schedule(key, leaseEnd, lease);
    } else {
      leases.schedule(key, Math.max(leaseEnd, flow.graceEnd(lease)));
    }
  }

  private static String servicePrefix(String key) {
    return key.substring(0, key.lastIndexOf('/') + 1);
  }

  private static InstanceRegistration deregistered(InstanceRegistration instance) {
    return instance.getState() == RegistrationState.DEREGISTERED ? instance
        : InstanceRegistration.newBuilder(instance).setState(RegistrationState.DEREGISTERED).build();
  }

  private boolean lapses(InstanceRegistration instance, long now) {
    return flow.lapses(instance.getHeartbeatAt().toEpochMilli(),
        instance.getLeaseDurationMillis(), now);
  }

  private void onTick(long timestamp) {
    leaseTick.cancel();
    leaseTick = null;
    leaseTickAt = Long.MAX_VALUE;
    try {
      scanLeases(timestamp);
    } finally {
      armLeaseTick();
    }
  }

  private void scanLeases(long timestamp) {
    if (fullSyncPending) {
      fullSyncPending = false;
      int moved = state.migrateLegacyViews();
      if (moved > 0) {
        LOG.info("moved {} view stamps from the {} store into {}", moved,
            ControlPlaneTopology.VIEWS_STORE, ControlPlaneTopology.REVISIONS_STORE);
      }
      Set<String> all = new TreeSet<>(discovery.hosts());
      all.addAll(state.viewHosts());
      all.addAll(holds.keySet()); // a held host never published and gone since: its hold ends
      publish(all, "the control plane's start (every view compiled from its restored state)");
    }
    // Only the records the indexes say are due: a tick costs what expires, not the registry's size.
    List<KeyValue<String, InstanceRegistration>> lapsed = new ArrayList<>();
    List<KeyValue<String, InstanceRegistration>> forgotten = new ArrayList<>();
    if (!flow.silent(timestamp)) {
      // While the registry is silent, leases stay due: the record that ends the silence finds them.
      for (String key : leases.takeDue(timestamp)) {
        InstanceRegistration record = instances.get(key);
        if (record == null || record.getState() == RegistrationState.DEREGISTERED) {
          continue;
        }
        if (lapses(record, timestamp)) {
          lapsed.add(KeyValue.pair(key, record));
        } else {
          schedule(key, record, timestamp); // renewed, or in its grace after the registry resumed
        }
      }
    }
    for (String key : retention.takeDue(timestamp)) {
      InstanceRegistration record = instances.get(key);
      if (record == null || record.getState() != RegistrationState.DEREGISTERED) {
        continue;
      }
      if (record.getHeartbeatAt().toEpochMilli() + GHOST_RETENTION.toMillis() < timestamp) {
        forgotten.add(KeyValue.pair(key, record));
      } else {
        schedule(key, record, timestamp);
      }
    }
    Set<String> hosts = new TreeSet<>();
    for (KeyValue<String, InstanceRegistration> kv : lapsed) {
      LOG.info("lease of {} lapsed; removing it from every view", kv.key);
      InstanceRegistration gone = deregistered(kv.value);
      storeInstance(kv.key, gone);
      hosts.addAll(discovery.applyInstance(kv.key, gone));
    }
    for (KeyValue<String, InstanceRegistration> kv : forgotten) {
      // Old deregistered records go, except the last one of a service, which keeps its host.
      if (otherRecordsOfService(kv.key)) {
        forgetInstance(kv.key);
        hosts.addAll(discovery.applyInstance(kv.key, null));
      } else {
        loneGhosts.put(servicePrefix(kv.key), kv.key);
      }
    }
    publish(hosts, "lease expiry");
  }

  private boolean otherRecordsOfService(String key) {
    String prefix = servicePrefix(key);
    try (KeyValueIterator<String, InstanceRegistration> it =
             instances.prefixScan(prefix, org.apache.kafka.common.serialization.Serdes.String().serializer())) {
      while (it.hasNext()) {
        if (!it.next().key.equals(key)) {
          return true;
        }
      }
    }
    return false;
  }

  // ---- views ----------------------------------------------------------------------------------

  /**
   * Compiles and publishes the views of {@code hosts} that changed, for registry changes and
   * ticks; returns how many it published. A view too large for a record is not published
   * (proxies keep its last version): it is held, on {@code mesh.discovery.holds}, until its
   * host's view is published again or needs no publishing (it compiles to what proxies have).
   *
   * @param cause what changed, named in a new hold
   */
  private int publish(Set<String> hosts, String cause) {
    if (hosts.isEmpty()) {
      return 0;
    }
    long now = now();
    // Hosts whose hold stands: still too large, or not compiled (nothing known of their size).
    Set<String> keep = new java.util.HashSet<>();
    List<Compiled> views = compileChanged(hosts, now, keep);
    Compiled tooLarge = firstTooLarge(views);
    if (tooLarge != null) {
      List<Compiled> fitting = new ArrayList<>(views.size());
      for (Compiled view : views) {
        if (view.bytes() > limits.maxViewBytes()) {
          hold(view, cause, now);
          keep.add(view.host());
        } else {
          fitting.add(view);
        }
      }
      views = fitting;
    }
    int published = forwardViews(views, null, now);
    releaseHolds(hosts, keep, now);
    return published;
  }

  /**
   * Records that {@code view} is held back: a new hold, or a held view whose size moved by more
   * than {@link ViewLimits#holdSizeStep()} (keeping when it was first held), is sent on {@code
   * mesh.discovery.holds} and stored, in this transaction; a recompilation of about the same
   * size (a heartbeat) sends nothing.
   */
  private void hold(Compiled view, String cause, long now) {
    ViewHold existing = holds.get(view.host());
    Long kept = view.previous() == null ? null : view.previous().version();
    if (existing != null && Math.abs(existing.getViewBytes() - view.bytes()) <= limits.holdSizeStep()
        && java.util.Objects.equals(existing.getKeptVersion(), kept)) {
      return;
    }
    ServiceView content = view.view();
    List<String> resources = new ArrayList<>();
    for (ResourceRevision r : content.getSourceRevisions()) {
      resources.add(r.getKind() + "/" + r.getNamespace() + "/" + r.getName() + "@" + r.getRevision());
    }
    resources.sort(null);
    ViewHold hold = ViewHold.newBuilder()
        .setHost(view.host())
        .setService(content.getService())
        .setNamespace(content.getNamespace())
        .setViewBytes(view.bytes())
        .setLimitBytes(limits.maxViewBytes())
        .setSince(existing == null ? Instant.ofEpochMilli(now) : existing.getSince())
        .setUpdatedAt(Instant.ofEpochMilli(now))
        .setKeptVersion(kept)
        .setEndpoints(content.getEndpoints().size())
        .setHttpRoutes(content.getHttpRoutes().size())
        .setResources(resources)
        .setCause(existing == null ? String.valueOf(cause) : existing.getCause())
        .build();
    LOG.error("the view of {} would be {} bytes (at most {} fit in a record; {} endpoints, {} http"
            + " routes); keeping version {}{}", view.host(), view.bytes(), limits.maxViewBytes(),
        hold.getEndpoints(), hold.getHttpRoutes(), kept == null ? "none" : kept,
        existing == null ? " (held after " + cause + ")" : " (held since " + existing.getSince() + ")");
    holds.put(view.host(), hold);
    state.putHold(view.host(), hold);
    context.forward(new Record<>(view.host(), (Object) hold, now), ControlPlaneTopology.HOLDS_SINK);
  }

  /**
   * Ends the holds of {@code hosts} whose view is no longer held (published just now, or the same
   * as the one proxies have, or gone) with a tombstone in this transaction; {@code keep}: hosts
   * still held, or whose view could not be compiled (nothing is known of its size).
   */
  private void releaseHolds(Set<String> hosts, Set<String> keep, long now) {
    if (holds.isEmpty()) {
      return;
    }
    for (String host : hosts) {
      if (!keep.contains(host) && holds.remove(host) != null) {
        LOG.info("the view of {} fits in a record again; its hold ends", host);
        state.deleteHold(host);
        context.forward(new Record<>(host, null, now), ControlPlaneTopology.HOLDS_SINK);
      }
    }
  }

  /**
   * A compiled view that differs from the last published one, with its content hash and size.
   *
   * @param previous the stamp of the host's last published view, or null
   */
  private record Compiled(String host, ServiceView view, byte[] hash, int bytes, ViewStamp previous) {
  }

  /**
   * Compiles the views of {@code hosts} (in host order) and keeps those whose content differs from
   * their last publication: a host now gone becomes a removal, unless its removal was published.
   * Hosts whose view could not be compiled are added to {@code failed}.
   */
  private List<Compiled> compileChanged(Set<String> hosts, long now, Set<String> failed) {
    if (hosts.isEmpty()) {
      return List.of();
    }
    List<Compiled> changed = new ArrayList<>();
    for (String host : new TreeSet<>(hosts)) {
      ViewStamp previous = state.view(host);
      Optional<ServiceView> compiled;
      try {
        compiled = discovery.compile(host, Instant.ofEpochMilli(now));
      } catch (RuntimeException e) {
        // Proxies keep the last published view; the error is in the log for operators.
        LOG.error("cannot compile the view of {}; keeping version {}", host,
            previous == null ? "none" : previous.version(), e);
        failed.add(host);
        continue;
      }
      ServiceView next;
      if (compiled.isEmpty()) {
        viewBytes.remove(host);
        if (previous == null || previous.removed()) {
          continue;
        }
        next = ServiceView.newBuilder().setHost(host).setService(previous.service())
            .setNamespace(previous.namespace()).setRemoved(true).setVersion(0)
            .setGeneratedAt(Instant.ofEpochMilli(now)).build();
      } else {
        next = compiled.get();
      }
      // `next` is this call's own: hashed once (to compare, then in the new stamp) and versioned
      // in place rather than copied twice.
      ViewStamp.Content content = ViewStamp.contentInPlace(next);
      if (!next.getRemoved()) {
        viewBytes.put(host, content.bytes());
      }
      if (previous != null && previous.sameContent(content.hash())) {
        continue;
      }
      changed.add(new Compiled(host, next, content.hash(), content.bytes(), previous));
    }
    return changed;
  }

  private Compiled firstTooLarge(List<Compiled> views) {
    for (Compiled view : views) {
      if (view.bytes() > limits.maxViewBytes()) {
        return view;
      }
    }
    return null;
  }

  /** Versions and forwards {@code views}, and stores their stamps; how many. */
  private int forwardViews(List<Compiled> views, ChangeTrigger trigger, long now) {
    for (Compiled compiled : views) {
      ServiceView versioned = compiled.view();
      versioned.setVersion(compiled.previous() == null ? 1 : compiled.previous().version() + 1);
      versioned.setGeneratedAt(Instant.ofEpochMilli(now));
      versioned.setTriggeredBy(trigger);
      context.forward(new Record<>(compiled.host(), (Object) versioned, now),
          ControlPlaneTopology.VIEWS_SINK);
      // The store keeps the version and a hash of the content, not the view: the changelog
      // record in every change's transaction is ~70 bytes instead of the whole view.
      state.putView(compiled.host(), ViewStamp.of(versioned, compiled.hash()));
    }
    return views.size();
  }

  // ---- helpers --------------------------------------------------------------------------------

  private void deadLetter(Record<String, byte[]> record, RuntimeException e) {
    RecordMetadata meta = context.recordMetadata().orElse(null);
    LOG.warn("poison pill on {}: {}", meta == null ? "?" : meta.topic(), e.getMessage());
    DeadLetter letter = DeadLetter.newBuilder()
        .setApplication(APPLICATION)
        .setSourceTopic(meta == null ? "" : meta.topic())
        .setPartition(meta == null ? -1 : meta.partition())
        .setOffset(meta == null ? -1 : meta.offset())
        .setKey(record.key() == null ? null
            : ByteBuffer.wrap(record.key().getBytes(StandardCharsets.UTF_8)))
        .setValue(record.value() == null ? null : ByteBuffer.wrap(record.value()))
        .setReason(String.valueOf(e.getMessage()))
        .setExceptionClass(e.getClass().getName())
        .setFailedAt(Instant.ofEpochMilli(now()))
        .build();
    context.forward(new Record<>(APPLICATION, (Object) letter, now()),
        ControlPlaneTopology.DEAD_LETTER_SINK);
  }

  private long now() {
    return context.currentSystemTimeMs();
  }
}
