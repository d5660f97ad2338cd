package dev.meshlog.config.controlplane;

import java.time.Instant;
import java.util.UUID;

import dev.meshlog.config.model.Resource;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.Operation;
import dev.meshlog.events.config.ResourceRef;
import dev.meshlog.events.config.SourceType;

/** Builds config commands for tests. */
final class Commands {

  /** A stand-in for the real validator: a {@code spec.weight} above 100 is the only error it knows. */
  static final ResourceCheck WEIGHT_CHECK = json -> {
    Resource r = Resource.fromJson(json);
    int weight = r.spec().path("weight").asInt(0);
    return weight > 100
        ? ResourceCheck.Result.invalid(java.util.List.of(new dev.meshlog.config.model.FieldProblem(
            "spec.weight", Integer.toString(weight), "weight: " + weight + " (expected: 0..100)")))
        : ResourceCheck.Result.valid(r);
  };

  private Commands() {}

  static ConfigCommand apply(Resource resource, Long expectedRevision) {
    return base(resource.kind(), resource.namespace(), resource.name(), Operation.APPLY)
        .setApiVersion(resource.apiVersion())
        .setDocument(resource.canonicalJson())
        .setExpectedRevision(expectedRevision)
        .build();
  }

  static ConfigCommand apply(Resource resource) {
    return apply(resource, null);
  }

  static ConfigCommand delete(String kind, String namespace, String name) {
    return base(kind, namespace, name, Operation.DELETE).build();
  }

  static ConfigCommand rollback(String kind, String namespace, String name, long revision) {
    return base(kind, namespace, name, Operation.ROLLBACK).setRollbackToRevision(revision).build();
  }

  static ConfigCommand.Builder base(String kind, String namespace, String name, Operation op) {
    return ConfigCommand.newBuilder()
        .setCommandId(UUID.randomUUID().toString())
        .setResource(ResourceRef.newBuilder().setKind(kind).setNamespace(namespace).setName(name).build())
        .setOperation(op)
        .setActor("tester")
        .setSource(ChangeSource.newBuilder().setType(SourceType.CLI).build())
        .setRequestedAt(Instant.parse("2026-11-24T12:00:00Z"));
  }
}
