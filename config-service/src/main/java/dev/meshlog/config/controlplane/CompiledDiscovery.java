package dev.meshlog.config.controlplane;

import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.meshlog.config.discovery.CompiledView;
import dev.meshlog.config.discovery.ConfigSnapshot;
import dev.meshlog.config.discovery.ViewCompiler;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;

/**
 * {@link Discovery} backed by {@link ViewCompiler}: keeps the current {@link ConfigSnapshot} and
 * instance records, and asks the compiler which hosts a change touches and what their views are.
 */
public final class CompiledDiscovery implements Discovery {

  private final ViewCompiler compiler;
  private ConfigSnapshot config = ConfigSnapshot.EMPTY;
  private final Map<String, InstanceRegistration> instances = new HashMap<>();
  private final Collection<InstanceRegistration> instanceView =
      Collections.unmodifiableCollection(instances.values());

  public CompiledDiscovery(ViewCompiler compiler) {
    this.compiler = compiler;
  }

  @Override
  public void load(Iterable<ConfigEvent> resources, Map<String, InstanceRegistration> records) {
    java.util.List<ConfigSnapshot.Entry> entries = new java.util.ArrayList<>();
    for (ConfigEvent event : resources) {
      if (event.getDocument() != null) {
        entries.add(new ConfigSnapshot.Entry(Resource.fromJson(event.getDocument()), event.getRevision()));
      }
    }
    config = ConfigSnapshot.of(entries);
    instances.clear();
    instances.putAll(records);
  }

  @Override
  public Set<String> applyConfig(ConfigEvent event) {
    ResourceId id = new ResourceId(event.getResource().getKind(), event.getResource().getNamespace(),
        event.getResource().getName());
    ConfigSnapshot before = config;
    if (event.getChangeType() == ChangeType.DELETED) {
      config = config.without(id);
    } else if (event.getChangeType() == ChangeType.CREATED || event.getChangeType() == ChangeType.UPDATED) {
      config = config.with(Resource.fromJson(event.getDocument()), event.getRevision());
    } else {
      return Set.of();
    }
    return compiler.affectedHosts(before, config, id, instanceView);
  }

  @Override
  public Set<String> applyInstance(String key, InstanceRegistration instance) {
    InstanceRegistration before = instance == null ? instances.remove(key) : instances.put(key, instance);
    if (before != null && instance != null && sameExceptLease(before, instance)) {
      return Set.of(); // a heartbeat: the lease is longer, no view changes
    }
    return compiler.affectedHosts(before, instance, config, instanceView);
  }

  private static boolean sameExceptLease(InstanceRegistration a, InstanceRegistration b) {
    return a.equals(InstanceRegistration.newBuilder(b).setHeartbeatAt(a.getHeartbeatAt())
        .setLeaseDurationMillis(a.getLeaseDurationMillis()).build());
  }

  @Override
  public Set<String> hosts() {
    return compiler.hosts(config, instanceView);
  }

  @Override
  public Optional<ServiceView> compile(String host, Instant now) {
    CompiledView compiled = compiler.compile(host, config, instanceView, now);
    return compiled.removed() ? Optional.empty() : Optional.of(compiled.view());
  }
}
