package dev.meshlog.config.controlplane;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.meshlog.config.discovery.CompiledView;
import dev.meshlog.config.discovery.MeshModel;
import dev.meshlog.config.discovery.ViewCompiler;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;

/**
 * {@link Discovery} backed by {@link ViewCompiler}: keeps the current config and instance
 * records in a {@link MeshModel} (indexed by host, updated per change), which answers which hosts
 * a change touches and what their views are.
 */
public final class CompiledDiscovery implements Discovery {

  private final ViewCompiler compiler;
  private MeshModel model;

  public CompiledDiscovery(ViewCompiler compiler) {
    this.compiler = compiler;
    this.model = compiler.newModel();
  }

  @Override
  public void load(Iterable<ConfigEvent> resources, Map<String, InstanceRegistration> records) {
    model = compiler.newModel();
    for (ConfigEvent event : resources) {
      if (event.getDocument() != null) {
        model.load(Resource.fromJson(event.getDocument()), event.getRevision());
      }
    }
    records.forEach(model::load);
  }

  @Override
  public Set<String> applyConfig(ConfigEvent event) {
    ResourceId id = new ResourceId(event.getResource().getKind(), event.getResource().getNamespace(),
        event.getResource().getName());
    if (event.getChangeType() == ChangeType.DELETED) {
      return model.remove(id);
    } else if (event.getChangeType() == ChangeType.CREATED || event.getChangeType() == ChangeType.UPDATED) {
      return model.put(Resource.fromJson(event.getDocument()), event.getRevision());
    }
    return Set.of();
  }

  @Override
  public Set<String> applyInstance(String key, InstanceRegistration instance) {
    InstanceRegistration before = model.instance(key);
    if (before != null && instance != null && sameExceptLease(before, instance)) {
      model.load(key, instance);
      return Set.of(); // a heartbeat: the lease is longer, no view changes
    }
    return model.putInstance(key, instance).affectedHosts();
  }

  private static boolean sameExceptLease(InstanceRegistration a, InstanceRegistration b) {
    return a.equals(InstanceRegistration.newBuilder(b).setHeartbeatAt(a.getHeartbeatAt())
        .setLeaseDurationMillis(a.getLeaseDurationMillis()).build());
  }

  @Override
  public Set<String> hosts() {
    return model.hosts();
  }

  @Override
  public Optional<ServiceView> compile(String host, Instant now) {
    // The processor judges leases (RegistryFlow): a registered record is an endpoint until its
    // lease scan stores it deregistered, even when its lease ended by the wall clock meanwhile.
    CompiledView compiled = model.compileJudgedLeases(host, now);
    return compiled.removed() ? Optional.empty() : Optional.of(compiled.view());
  }
}
