package dev.meshlog.config.client;

import java.time.Clock;
import java.util.Objects;
import java.util.UUID;

import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.Operation;
import dev.meshlog.events.config.ResourceRef;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.schemas.AvroLimits;

/**
 * Builds config commands (apply, delete, rollback) on behalf of one actor and source, each with a
 * fresh command id and the current time as {@code requestedAt}.
 */
public final class ConfigCommands {

  static {
    // Building Avro records checks that their classes are trusted; serdes install that, but a
    // command may be built before any serde is loaded.
    AvroLimits.install();
  }

  private final String actor;
  private final ChangeSource source;
  private final Clock clock;

  /**
   * @param actor who asks: a user name, a service account or a git author
   * @param source where the change comes from (copied into every command)
   * @param clock gives {@code requestedAt}, from which convergence is measured
   */
  public ConfigCommands(String actor, ChangeSource source, Clock clock) {
    this.actor = Objects.requireNonNull(actor, "actor");
    this.source = ChangeSource.newBuilder(Objects.requireNonNull(source, "source")).build();
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Commands from {@code actor} of the given source type, with no commit or path. */
  public static ConfigCommands of(String actor, SourceType type, Clock clock) {
    return new ConfigCommands(actor, ChangeSource.newBuilder().setType(type).build(), clock);
  }

  /** The same factory for another actor. */
  public ConfigCommands withActor(String newActor) {
    return new ConfigCommands(newActor, source, clock);
  }

  /** The same factory for another source (a commit, a file). */
  public ConfigCommands withSource(ChangeSource newSource) {
    return new ConfigCommands(actor, newSource, clock);
  }

  /** The actor every command names. */
  public String actor() {
    return actor;
  }

  /** Applies {@code resource} whatever its current revision. */
  public ConfigCommand apply(Resource resource) {
    return apply(resource, null);
  }

  /**
   * Applies {@code resource} only if it is at {@code expectedRevision} (0 = must not exist yet;
   * null = any).
   */
  public ConfigCommand apply(Resource resource, Long expectedRevision) {
    return base(resource.id(), Operation.APPLY)
        .setApiVersion(resource.apiVersion())
        .setDocument(resource.canonicalJson())
        .setExpectedRevision(expectedRevision)
        .build();
  }

  /** Deletes the resource {@code id}. */
  public ConfigCommand delete(ResourceId id) {
    return base(id, Operation.DELETE).build();
  }

  /** Makes revision {@code toRevision}'s spec of {@code id} current again, as a new revision. */
  public ConfigCommand rollback(ResourceId id, long toRevision) {
    return base(id, Operation.ROLLBACK).setRollbackToRevision(toRevision).build();
  }

  private ConfigCommand.Builder base(ResourceId id, Operation operation) {
    return ConfigCommand.newBuilder()
        .setCommandId(UUID.randomUUID().toString())
        .setResource(ref(id))
        .setOperation(operation)
        .setActor(actor)
        .setSource(ChangeSource.newBuilder(source).build())
        .setRequestedAt(clock.instant());
  }

  /** The Avro reference of {@code id}. */
  public static ResourceRef ref(ResourceId id) {
    return ResourceRef.newBuilder().setKind(id.kind()).setNamespace(id.namespace())
        .setName(id.name()).build();
  }

  /** The id of {@code ref}. */
  public static ResourceId id(ResourceRef ref) {
    return new ResourceId(ref.getKind(), ref.getNamespace(), ref.getName());
  }
}
