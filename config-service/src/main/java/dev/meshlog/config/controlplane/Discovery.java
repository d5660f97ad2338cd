package dev.meshlog.config.controlplane;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;

/**
 * The mesh's current config and instances, and the views compiled from them. The control-plane
 * processor owns one, feeds it every accepted change and live instance, and publishes what it
 * compiles; versions, change detection and Kafka stay in the processor.
 */
public interface Discovery {

  /** Compiles nothing: the control plane then only judges commands. */
  Discovery NONE = new Discovery() {
    @Override
    public Set<String> applyConfig(ConfigEvent event) {
      return Set.of();
    }

    @Override
    public Set<String> applyInstance(String key, InstanceRegistration instance) {
      return Set.of();
    }

    @Override
    public Set<String> hosts() {
      return Set.of();
    }

    @Override
    public Optional<ServiceView> compile(String host, Instant now) {
      return Optional.empty();
    }
  };

  /**
   * Takes in the whole state at once, as restored after a restart: the current event of every
   * live resource and every instance record. Cheaper than applying them one by one, because no
   * affected hosts are computed (the caller recompiles everything next).
   */
  default void load(Iterable<ConfigEvent> resources, Map<String, InstanceRegistration> instances) {
    resources.forEach(this::applyConfig);
    instances.forEach(this::applyInstance);
  }

  /**
   * Takes in one accepted change (CREATED, UPDATED or DELETED).
   *
   * @return the hosts whose views may have changed
   */
  Set<String> applyConfig(ConfigEvent event);

  /**
   * Takes in one instance's latest registration, or its removal ({@code instance == null}) when it
   * deregistered or its lease lapsed.
   *
   * @return the hosts whose views may have changed
   */
  Set<String> applyInstance(String key, InstanceRegistration instance);

  /** Every host that has a view now. */
  Set<String> hosts();

  /**
   * The view of {@code host} now ({@code version}, {@code generatedAt} and {@code triggeredBy} are
   * the caller's to set), or empty when the host no longer exists. A new view on every call: the
   * caller owns it and sets those fields in place. Every registered instance is an endpoint: the
   * caller judges leases, and applies a lapsed one as a deregistration.
   */
  Optional<ServiceView> compile(String host, Instant now);
}
