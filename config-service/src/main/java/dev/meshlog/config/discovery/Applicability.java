package dev.meshlog.config.discovery;

import java.util.List;
import java.util.Map;

import dev.meshlog.config.model.Resource;
import dev.meshlog.events.registry.InstanceRegistration;

/**
 * Which workload-scoped resources (PeerAuthentication, AuthorizationPolicy,
 * RequestAuthentication, Sidecar) apply to a service, and at which level, as Istio decides it
 * from the namespace and a label selector.
 */
final class Applicability {

  /** How broadly a resource applies; a narrower level takes precedence where one must win. */
  enum Level { WORKLOAD, NAMESPACE, MESH }

  private final String host;
  private final String namespace;
  private final List<InstanceRegistration> live;
  private final String rootNamespace;
  private final ViewNotes notes;

  /**
   * @param host the service's host
   * @param namespace the service's namespace
   * @param live the service's live instances, whose labels selectors are matched against
   * @param rootNamespace where resources without a selector apply mesh-wide
   * @param notes where to warn about selectors that match only some instances
   */
  Applicability(String host, String namespace, List<InstanceRegistration> live, String rootNamespace,
                ViewNotes notes) {
    this.host = host;
    this.namespace = namespace;
    this.live = live;
    this.rootNamespace = rootNamespace;
    this.notes = notes;
  }

  /**
   * The level at which {@code resource} applies, or null when it does not. Without a selector
   * it applies to its namespace (mesh-wide from the root namespace); with one, to the service
   * when a live instance has the labels. A selector in the root namespace matches workloads in
   * every namespace when {@code rootSelectorSpansNamespaces} (security resources), only the
   * root namespace's otherwise (Sidecar).
   *
   * <p>A view holds one policy per service, so a selector matching only some of its instances
   * (say {@code version: v2}) applies to all of them; that is noted as a warning at {@code path}.
   */
  Level levelOf(Resource resource, String path, Map<String, String> selector, boolean rootSelectorSpansNamespaces) {
    boolean own = resource.namespace().equals(namespace);
    boolean root = resource.namespace().equals(rootNamespace);
    if (selector.isEmpty()) {
      return own ? Level.NAMESPACE : root ? Level.MESH : null;
    }
    if (!own && !(root && rootSelectorSpansNamespaces)) {
      return null;
    }
    // Plain loops here and in selects: every policy of the namespace is matched against every
    // live instance of the service for each view compiled.
    int selected = 0;
    for (InstanceRegistration instance : live) {
      if (selects(selector, instance)) {
        selected++;
      }
    }
    if (selected == 0) {
      return null;
    }
    if (selected < live.size()) {
      notes.warning(resource, path, "selects " + selected + " of " + live.size() + " live instances of " + host
          + "; a view holds one policy per service, so it applies to all of them");
    }
    return Level.WORKLOAD;
  }

  static boolean selects(Map<String, String> selector, InstanceRegistration instance) {
    Map<String, String> labels = instance.getLabels();
    for (Map.Entry<String, String> e : selector.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
