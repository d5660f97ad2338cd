package dev.meshlog.config.discovery;

import java.time.Instant;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.registry.InstanceRegistration;

/**
 * The mesh's current config and registry, indexed by host and namespace and kept up to date one
 * change at a time; each change answers which hosts' views it may alter, and any host's view
 * compiles from it. A change or a compile costs work proportional to the resources and hosts it
 * touches, not to the size of the mesh. Not thread-safe: one owner applies and compiles.
 *
 * <p>Views compiled here equal those {@link ViewCompiler#compile(String, ConfigSnapshot,
 * java.util.Collection, Instant)} compiles from the same config and instances.
 */
public final class MeshModel {

  private final ViewCompiler compiler;
  private final Mesh mesh;

  MeshModel(ViewCompiler compiler, Mesh mesh) {
    this.compiler = Objects.requireNonNull(compiler, "compiler");
    this.mesh = Objects.requireNonNull(mesh, "mesh");
  }

  /**
   * Adds or replaces {@code resource} (validated) at {@code revision}.
   *
   * @return the hosts whose views may have changed (never fewer than change)
   */
  public Set<String> put(Resource resource, long revision) {
    ConfigSnapshot.Entry before = mesh.get(resource.id());
    Set<String> out = touched(before == null ? null : before.resource(), resource);
    mesh.put(resource, revision);
    out.addAll(touched(before == null ? null : before.resource(), resource));
    return out;
  }

  /**
   * Removes resource {@code id} (nothing when absent).
   *
   * @return the hosts whose views may have changed
   */
  public Set<String> remove(ResourceId id) {
    ConfigSnapshot.Entry before = mesh.get(id);
    if (before == null) {
      return new TreeSet<>();
    }
    Set<String> out = touched(before.resource(), null);
    mesh.remove(id);
    out.addAll(touched(before.resource(), null));
    return out;
  }

  /** Adds or replaces the registration under {@code key} without computing what it affects (bulk loading). */
  public void load(String key, InstanceRegistration instance) {
    mesh.putInstance(key, instance);
  }

  /** Adds or replaces {@code resource} at {@code revision} without computing what it affects (bulk loading). */
  public void load(Resource resource, long revision) {
    mesh.put(resource, revision);
  }

  /**
   * Sets the registration under {@code key} to {@code instance}, or forgets it when null.
   *
   * @return the registration it replaced (null if none) and the hosts whose views may have changed
   */
  public InstanceChange putInstance(String key, InstanceRegistration instance) {
    InstanceRegistration before = instance == null ? mesh.removeInstance(key) : mesh.putInstance(key, instance);
    return new InstanceChange(before, before == null && instance == null ? new TreeSet<>()
        : compiler.touchedByInstance(mesh, before, instance));
  }

  /** What {@link #putInstance} replaced and which hosts it may affect. */
  public record InstanceChange(InstanceRegistration before, Set<String> affectedHosts) {}

  /** The registration under {@code key}, or null. */
  public InstanceRegistration instance(String key) {
    return mesh.instance(key);
  }

  /** Every host that has a view now, sorted. */
  public NavigableSet<String> hosts() {
    return new TreeSet<>(mesh.hostNames());
  }

  /** The view of {@code host} at {@code now}, as {@link ViewCompiler#compile} describes it. */
  public CompiledView compile(String host, Instant now) {
    return compiler.compile(host, mesh, now);
  }

  /**
   * The view of {@code host} generated at {@code now} with every registered instance alive, for a
   * caller that judges leases itself: the control plane, whose lease scan stores a lapsed lease as
   * a deregistration and holds leases while the registry is silent (a lease that ended by the
   * wall clock is not enough there).
   */
  public CompiledView compileJudgedLeases(String host, Instant now) {
    return compiler.compile(host, mesh, now, null);
  }

  /** The number of resources and registrations held (for logs and benchmarks). */
  public Map<String, Integer> sizes() {
    return Map.of("resources", mesh.resourceCount(), "instances", mesh.allInstances().size(),
        "hosts", mesh.hostNames().size());
  }

  private Set<String> touched(Resource before, Resource after) {
    Set<String> out = new TreeSet<>();
    if (before != null) {
      out.addAll(compiler.touchedBy(mesh, before));
    }
    if (after != null) {
      out.addAll(compiler.touchedBy(mesh, after));
    }
    return out;
  }
}
