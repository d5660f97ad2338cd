package dev.meshlog.config.discovery;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.meshlog.config.model.Hosts;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;

/**
 * Config and registry seen together, indexed by host and by namespace and kept up to date one
 * change at a time: which hosts exist and where they come from, the instances of each service,
 * and, per host, the VirtualServices, DestinationRules and RateLimits that name it. A lookup
 * costs what it returns, not the size of the mesh.
 *
 * <p>A mesh made with {@code fullScan} keeps no index and answers every lookup by scanning all
 * resources of the kind, as the compiler did before the index: the reference the index is
 * tested against ({@code IndexedMeshPropertyTest}).
 *
 * <p>Every lookup returns resources ordered by namespace, then name (the compiler's order).
 */
final class Mesh {

  /** Resources of one kind ordered by namespace, then name. */
  static final Comparator<ResourceId> BY_NAMESPACE_AND_NAME =
      Comparator.comparing(ResourceId::namespace).thenComparing(ResourceId::name);

  /** Where a host comes from: registered instances, ServiceEntries, or a Gateway. */
  static final class HostInfo {
    final String host;
    /** Registrations of the service, whatever their state, by instance id then record key. */
    final NavigableMap<String, InstanceRegistration> instances = new TreeMap<>();
    final NavigableMap<ResourceId, Resource> serviceEntries = new TreeMap<>(BY_NAMESPACE_AND_NAME);
    Resource gateway;

    HostInfo(String host) {
      this.host = host;
    }

    boolean registered() {
      return !instances.isEmpty();
    }

    boolean isService() {
      return registered() || !serviceEntries.isEmpty();
    }

    /** The service's name: the registered service's, else the first ServiceEntry's, else the Gateway's. */
    String service() {
      if (registered()) {
        return instances.firstEntry().getValue().getService();
      }
      return serviceEntries.isEmpty() ? gateway.name() : serviceEntries.firstEntry().getValue().name();
    }

    /** The host's namespace, with the same precedence as {@link #service()}. */
    String namespace() {
      if (registered()) {
        return instances.firstEntry().getValue().getNamespace();
      }
      return serviceEntries.isEmpty() ? gateway.namespace() : serviceEntries.firstEntry().getValue().namespace();
    }

    boolean isEmpty() {
      return instances.isEmpty() && serviceEntries.isEmpty() && gateway == null;
    }
  }

  /** The DestinationRule that applies to a host, and those it wins over (null winner: none). */
  record DestinationRules(Resource winner, List<Resource> ignored) {}

  private final String rootNamespace;
  private final boolean fullScan;

  // Primary state.
  private final Map<Kind, NavigableMap<ResourceId, ConfigSnapshot.Entry>> byKind = new EnumMap<>(Kind.class);
  private final Map<String, InstanceRegistration> instancesByKey = new HashMap<>();

  // Derived, maintained on every change.
  private final NavigableMap<String, HostInfo> hosts = new TreeMap<>();
  private final NavigableSet<String> reversedHosts = new TreeSet<>();
  private final Map<String, NavigableSet<String>> registeredHostsByNamespace = new HashMap<>();
  private final Map<String, NavigableMap<String, InstanceRegistration>> instancesByNamespace = new HashMap<>();
  private final Map<Kind, Map<String, NavigableMap<ResourceId, Resource>>> byNamespace = new EnumMap<>(Kind.class);
  private final PatternIndex meshVirtualServices = new PatternIndex();
  private final PatternIndex destinationRules = new PatternIndex();
  private final PatternIndex rateLimits = new PatternIndex();
  private final PatternIndex virtualServicesByDestination = new PatternIndex();
  private final Map<String, NavigableMap<ResourceId, Resource>> virtualServicesByGateway = new HashMap<>();

  Mesh(String rootNamespace, boolean fullScan) {
    this.rootNamespace = rootNamespace;
    this.fullScan = fullScan;
  }

  /** A mesh holding {@code config} and {@code instances} (keys made up: nothing removes them). */
  static Mesh of(ConfigSnapshot config, Collection<InstanceRegistration> instances, String rootNamespace,
                 boolean fullScan) {
    Mesh mesh = new Mesh(rootNamespace, fullScan);
    for (Kind kind : Kind.values()) {
      for (ConfigSnapshot.Entry entry : config.ofKind(kind)) {
        mesh.put(entry.resource(), entry.revision());
      }
    }
    int i = 0;
    for (InstanceRegistration instance : instances) {
      mesh.putInstance(instance.getNamespace() + "/" + instance.getService() + "/" + instance.getInstanceId()
          + "#" + i++, instance);
    }
    return mesh;
  }

  String rootNamespace() {
    return rootNamespace;
  }

  // ---- changes ----------------------------------------------------------------------------------

  /** Adds or replaces {@code resource} at {@code revision}. */
  void put(Resource resource, long revision) {
    Kind kind = kindOf(resource.id());
    remove(resource.id());
    byKind.computeIfAbsent(kind, k -> new TreeMap<>(BY_NAMESPACE_AND_NAME))
        .put(resource.id(), new ConfigSnapshot.Entry(resource, revision));
    index(kind, resource, true);
  }

  /** Removes the resource {@code id}; nothing when absent. */
  void remove(ResourceId id) {
    Kind kind = kindOf(id);
    NavigableMap<ResourceId, ConfigSnapshot.Entry> entries = byKind.get(kind);
    ConfigSnapshot.Entry old = entries == null ? null : entries.remove(id);
    if (old != null) {
      index(kind, old.resource(), false);
    }
  }

  /** The resource {@code id} with its revision, or null. */
  ConfigSnapshot.Entry get(ResourceId id) {
    NavigableMap<ResourceId, ConfigSnapshot.Entry> entries = Kind.byName(id.kind()).map(byKind::get).orElse(null);
    return entries == null ? null : entries.get(id);
  }

  /** The revision of resource {@code id}, 0 when absent. */
  long revision(ResourceId id) {
    ConfigSnapshot.Entry entry = get(id);
    return entry == null ? 0L : entry.revision();
  }

  /** Adds or replaces the registration under {@code key}; returns the one it replaced, or null. */
  InstanceRegistration putInstance(String key, InstanceRegistration instance) {
    InstanceRegistration old = removeInstance(key);
    instancesByKey.put(key, instance);
    String host = Hosts.ofService(instance.getService(), instance.getNamespace());
    hostInfo(host).instances.put(instanceOrder(instance, key), instance);
    registeredHostsByNamespace.computeIfAbsent(instance.getNamespace(), n -> new TreeSet<>()).add(host);
    instancesByNamespace.computeIfAbsent(instance.getNamespace(), n -> new TreeMap<>())
        .put(instanceOrder(instance, key), instance);
    return old;
  }

  /** Removes the registration under {@code key}; returns it, or null when absent. */
  InstanceRegistration removeInstance(String key) {
    InstanceRegistration old = instancesByKey.remove(key);
    if (old == null) {
      return null;
    }
    String host = Hosts.ofService(old.getService(), old.getNamespace());
    HostInfo info = hosts.get(host);
    info.instances.remove(instanceOrder(old, key));
    if (!info.registered()) {
      removeFromSet(registeredHostsByNamespace, old.getNamespace(), host);
    }
    dropIfEmpty(info);
    NavigableMap<String, InstanceRegistration> inNamespace = instancesByNamespace.get(old.getNamespace());
    inNamespace.remove(instanceOrder(old, key));
    if (inNamespace.isEmpty()) {
      instancesByNamespace.remove(old.getNamespace());
    }
    return old;
  }

  private static String instanceOrder(InstanceRegistration instance, String key) {
    return instance.getInstanceId() + '\0' + key;
  }

  private void index(Kind kind, Resource resource, boolean add) {
    ResourceId id = resource.id();
    Map<String, NavigableMap<ResourceId, Resource>> namespaces = byNamespace.computeIfAbsent(kind, k -> new HashMap<>());
    if (add) {
      namespaces.computeIfAbsent(resource.namespace(), n -> new TreeMap<>(BY_NAMESPACE_AND_NAME)).put(id, resource);
    } else {
      removeFrom(namespaces, resource.namespace(), id);
    }
    switch (kind) {
      case SERVICE_ENTRY -> {
        for (String host : HostPatterns.hosts(resource)) {
          if (add) {
            hostInfo(host).serviceEntries.put(id, resource);
          } else {
            HostInfo info = hosts.get(host);
            info.serviceEntries.remove(id);
            dropIfEmpty(info);
          }
        }
      }
      case GATEWAY -> {
        String host = ViewCompiler.gatewayHost(resource.name(), resource.namespace());
        if (add) {
          hostInfo(host).gateway = resource;
        } else {
          HostInfo info = hosts.get(host);
          info.gateway = null;
          dropIfEmpty(info);
        }
      }
      case VIRTUAL_SERVICE -> {
        for (String gateway : HostPatterns.gateways(resource)) {
          if (gateway.equals(HostPatterns.MESH)) {
            HostPatterns.hosts(resource).forEach(p -> meshVirtualServices.update(p, resource, add));
          } else if (add) {
            virtualServicesByGateway.computeIfAbsent(gateway, g -> new TreeMap<>(BY_NAMESPACE_AND_NAME))
                .put(id, resource);
          } else {
            removeFrom(virtualServicesByGateway, gateway, id);
          }
        }
        RouteCompiler.destinationHosts(resource).forEach(h -> virtualServicesByDestination.update(h, resource, add));
      }
      case DESTINATION_RULE -> destinationRules.update(specHost(resource), resource, add);
      case RATE_LIMIT -> rateLimits.update(specHost(resource), resource, add);
      default -> { }
    }
  }

  private HostInfo hostInfo(String host) {
    return hosts.computeIfAbsent(host, h -> {
      reversedHosts.add(reverse(h));
      return new HostInfo(h);
    });
  }

  private void dropIfEmpty(HostInfo info) {
    if (info.isEmpty()) {
      hosts.remove(info.host);
      reversedHosts.remove(reverse(info.host));
    }
  }

  private static <K, V> void removeFrom(Map<String, ? extends Map<K, V>> map, String key, K inner) {
    Map<K, V> values = map.get(key);
    if (values != null) {
      values.remove(inner);
      if (values.isEmpty()) {
        map.remove(key);
      }
    }
  }

  private static <K> void removeFromSet(Map<String, NavigableSet<K>> map, String key, K inner) {
    NavigableSet<K> values = map.get(key);
    if (values != null) {
      values.remove(inner);
      if (values.isEmpty()) {
        map.remove(key);
      }
    }
  }

  // ---- hosts and instances ----------------------------------------------------------------------

  /** Every host that gets a view, sorted. */
  NavigableSet<String> hostNames() {
    return Collections.unmodifiableNavigableSet(hosts.navigableKeySet());
  }

  /** Every host with a view, by host. */
  Collection<HostInfo> hostInfos() {
    return Collections.unmodifiableCollection(hosts.values());
  }

  /** The host, or null when nothing defines it. */
  HostInfo host(String host) {
    return hosts.get(host);
  }

  /** The known hosts {@code pattern} (a host, {@code *} or {@code *.suffix}) covers, sorted. */
  NavigableSet<String> hostsMatching(String pattern) {
    if (fullScan || pattern.equals("*")) {
      NavigableSet<String> out = new TreeSet<>();
      hosts.navigableKeySet().stream().filter(h -> HostPatterns.matches(pattern, h)).forEach(out::add);
      return out;
    }
    NavigableSet<String> out = new TreeSet<>();
    if (hosts.containsKey(pattern)) {
      out.add(pattern);
    }
    if (pattern.startsWith("*.")) {
      String prefix = reverse(pattern.substring(1));
      for (String reversed : reversedHosts.subSet(prefix, true, prefix + Character.MAX_VALUE, false)) {
        out.add(reverse(reversed));
      }
    }
    return out;
  }

  /** The registered hosts (services with instances) of {@code namespace}, or of the whole mesh when null. */
  Collection<String> registeredHosts(String namespace) {
    if (fullScan || namespace == null) {
      return hosts.values().stream()
          .filter(info -> info.registered() && (namespace == null || info.namespace().equals(namespace)))
          .map(info -> info.host).toList();
    }
    return registeredHostsByNamespace.getOrDefault(namespace, Collections.emptyNavigableSet());
  }

  /** Whether {@code host} is a service a route may send to: registered, or from a ServiceEntry. */
  boolean isService(String host) {
    HostInfo info = hosts.get(host);
    return info != null && info.isService();
  }

  /** The namespace a host belongs to (the service's, or the first ServiceEntry's); parsed from the name otherwise. */
  String namespaceOf(String host) {
    HostInfo info = hosts.get(host);
    if (info != null) {
      return info.namespace();
    }
    String[] labels = host.split("\\.");
    if (host.endsWith("." + Hosts.CLUSTER_SUFFIX) && labels.length == 5) {
      return labels[1];
    }
    return "";
  }

  /** Every registration of the service of {@code host}, whatever its state, by instance id. */
  Collection<InstanceRegistration> instances(String host) {
    HostInfo info = hosts.get(host);
    return info == null ? List.of() : info.instances.values();
  }

  /** The registration under {@code key}, or null. */
  InstanceRegistration instance(String key) {
    return instancesByKey.get(key);
  }

  /** The number of resources. */
  int resourceCount() {
    return byKind.values().stream().mapToInt(Map::size).sum();
  }

  /** Every registration, whatever its state. */
  Collection<InstanceRegistration> allInstances() {
    return Collections.unmodifiableCollection(instancesByKey.values());
  }

  /**
   * The instances of the service of {@code host} that receive traffic at {@code now}, by instance
   * id ({@code now == null}: every registered one, see {@link #alive}).
   */
  List<InstanceRegistration> live(String host, Instant now) {
    return instances(host).stream().filter(i -> alive(i, now)).toList();
  }

  /** The live instances of every service in {@code namespace}, by instance id. */
  List<InstanceRegistration> liveInNamespace(String namespace, Instant now) {
    if (fullScan) {
      return new TreeMap<>(instancesByKey.entrySet().stream()
          .filter(e -> e.getValue().getNamespace().equals(namespace) && alive(e.getValue(), now))
          .collect(java.util.stream.Collectors.toMap(e -> instanceOrder(e.getValue(), e.getKey()),
              Map.Entry::getValue))).values().stream().toList();
    }
    return instancesByNamespace.getOrDefault(namespace, Collections.emptyNavigableMap()).values().stream()
        .filter(i -> alive(i, now)).toList();
  }

  /**
   * Registered and with a lease that has not lapsed at {@code now}; with {@code now == null},
   * registered: the caller judges leases itself (the control plane stores a lapsed lease as a
   * deregistration, and holds leases while the registry is silent).
   */
  static boolean alive(InstanceRegistration instance, Instant now) {
    return instance.getState() == RegistrationState.REGISTERED
        && (now == null
            || instance.getHeartbeatAt().plusMillis(instance.getLeaseDurationMillis()).isAfter(now));
  }

  // ---- resources --------------------------------------------------------------------------------

  /** The resources of {@code kind}, ordered by namespace, then name. */
  List<Resource> resources(Kind kind) {
    NavigableMap<ResourceId, ConfigSnapshot.Entry> entries = byKind.get(kind);
    return entries == null ? List.of() : entries.values().stream().map(ConfigSnapshot.Entry::resource).toList();
  }

  /** The resources of {@code kind} in {@code namespace}. */
  List<Resource> resources(Kind kind, String namespace) {
    if (fullScan) {
      return resources(kind).stream().filter(r -> r.namespace().equals(namespace)).toList();
    }
    NavigableMap<ResourceId, Resource> inNamespace =
        byNamespace.getOrDefault(kind, Map.of()).getOrDefault(namespace, Collections.emptyNavigableMap());
    return List.copyOf(inNamespace.values());
  }

  /**
   * The resources of {@code kind} that can apply to a workload of {@code namespace}: its own
   * namespace's and the root namespace's (the full scan: all of them).
   */
  List<Resource> scoped(Kind kind, String namespace) {
    if (fullScan) {
      return resources(kind);
    }
    if (namespace.equals(rootNamespace)) {
      return resources(kind, namespace);
    }
    List<Resource> out = new ArrayList<>(resources(kind, namespace));
    out.addAll(resources(kind, rootNamespace));
    out.sort(Comparator.comparing(Resource::id, BY_NAMESPACE_AND_NAME));
    return out;
  }

  /** The VirtualServices bound to the mesh (sidecars) with a host pattern covering {@code host}. */
  List<Resource> meshVirtualServices(String host) {
    if (fullScan) {
      return resources(Kind.VIRTUAL_SERVICE).stream()
          .filter(vs -> HostPatterns.gateways(vs).contains(HostPatterns.MESH)
              && HostPatterns.hosts(vs).stream().anyMatch(p -> HostPatterns.matches(p, host)))
          .toList();
    }
    return meshVirtualServices.covering(host);
  }

  /** The VirtualServices bound to gateway {@code ref} ({@code namespace/name}). */
  List<Resource> gatewayVirtualServices(String ref) {
    if (fullScan) {
      return resources(Kind.VIRTUAL_SERVICE).stream()
          .filter(vs -> HostPatterns.gateways(vs).contains(ref)).toList();
    }
    return List.copyOf(virtualServicesByGateway.getOrDefault(ref, Collections.emptyNavigableMap()).values());
  }

  /**
   * The VirtualServices routing or mirroring to a host {@code pattern} covers (as a pattern:
   * {@code *.suffix} covers every host with the suffix), or to {@code pattern} itself only.
   */
  List<Resource> virtualServicesRoutingTo(String pattern, boolean asPattern) {
    if (fullScan) {
      return resources(Kind.VIRTUAL_SERVICE).stream()
          .filter(vs -> RouteCompiler.destinationHosts(vs).stream()
              .anyMatch(h -> asPattern ? HostPatterns.matches(pattern, h) : pattern.equals(h)))
          .toList();
    }
    return asPattern ? virtualServicesByDestination.coveredBy(pattern) : virtualServicesByDestination.exactly(pattern);
  }

  /** The RateLimits whose {@code spec.host} covers {@code host}. */
  List<Resource> rateLimits(String host) {
    if (fullScan) {
      return resources(Kind.RATE_LIMIT).stream().filter(r -> HostPatterns.matches(specHost(r), host)).toList();
    }
    return rateLimits.covering(host);
  }

  /**
   * The DestinationRule for {@code host}: an exact host beats a wildcard, a narrower wildcard a
   * wider one; among rules for the same host, the one in the host's namespace, then by
   * namespace and name. The others for that same host are returned as ignored.
   */
  DestinationRules destinationRules(String host) {
    String hostNamespace = namespaceOf(host);
    List<Resource> candidates = new ArrayList<>(fullScan
        ? resources(Kind.DESTINATION_RULE).stream().filter(r -> HostPatterns.matches(specHost(r), host)).toList()
        : destinationRules.covering(host));
    if (candidates.isEmpty()) {
      return new DestinationRules(null, List.of());
    }
    candidates.sort(Comparator
        .comparing((Resource r) -> !specHost(r).equals(host))
        .thenComparing(r -> -specHost(r).length())
        .thenComparing(r -> !r.namespace().equals(hostNamespace))
        .thenComparing(Resource::namespace)
        .thenComparing(Resource::name));
    Resource winner = candidates.get(0);
    List<Resource> ignored = candidates.stream().skip(1)
        .filter(r -> specHost(r).equals(specHost(winner))).toList();
    return new DestinationRules(winner, ignored);
  }

  /** The qualified {@code spec.host} of a DestinationRule or RateLimit. */
  static String specHost(Resource rule) {
    return Hosts.qualify(Json.text(rule.spec(), "host", ""), rule.namespace());
  }

  private static Kind kindOf(ResourceId id) {
    return Kind.byName(id.kind()).orElseThrow(() -> new IllegalArgumentException(
        "kind: " + id.kind() + " of " + id + " (expected one of the kinds in " + Kind.class.getSimpleName() + ")"));
  }

  static String reverse(String s) {
    return new StringBuilder(s).reverse().toString();
  }

  /**
   * Resources by a host or host pattern they name, answering both directions of Istio's
   * wildcard matching by lookups: which keys cover a host, and which keys a pattern covers.
   */
  private static final class PatternIndex {
    private final Map<String, NavigableMap<ResourceId, Resource>> byKey = new HashMap<>();
    /** The keys, reversed, so that the keys ending with a suffix are one range. */
    private final NavigableSet<String> reversedKeys = new TreeSet<>();

    void update(String key, Resource resource, boolean add) {
      if (add) {
        byKey.computeIfAbsent(key, k -> {
          reversedKeys.add(reverse(k));
          return new TreeMap<>(BY_NAMESPACE_AND_NAME);
        }).put(resource.id(), resource);
      } else {
        NavigableMap<ResourceId, Resource> values = byKey.get(key);
        if (values != null) {
          values.remove(resource.id());
          if (values.isEmpty()) {
            byKey.remove(key);
            reversedKeys.remove(reverse(key));
          }
        }
      }
    }

    /**
     * The resources under a key covering {@code host}: the host itself, {@code *}, and every
     * {@code *.suffix} where {@code .suffix} ends the host — exactly what
     * {@link HostPatterns#matches} accepts.
     */
    List<Resource> covering(String host) {
      NavigableMap<ResourceId, Resource> out = new TreeMap<>(BY_NAMESPACE_AND_NAME);
      addAll(out, host);
      addAll(out, "*");
      for (int i = host.indexOf('.'); i >= 0; i = host.indexOf('.', i + 1)) {
        addAll(out, "*" + host.substring(i));
      }
      return List.copyOf(out.values());
    }

    /** The resources under a key that {@code pattern} covers. */
    List<Resource> coveredBy(String pattern) {
      NavigableMap<ResourceId, Resource> out = new TreeMap<>(BY_NAMESPACE_AND_NAME);
      if (pattern.equals("*")) {
        byKey.values().forEach(out::putAll);
      } else {
        addAll(out, pattern);
        if (pattern.startsWith("*.")) {
          String prefix = reverse(pattern.substring(1));
          for (String reversed : reversedKeys.subSet(prefix, true, prefix + Character.MAX_VALUE, false)) {
            addAll(out, reverse(reversed));
          }
        }
      }
      return List.copyOf(out.values());
    }

    /** The resources under exactly {@code key}. */
    List<Resource> exactly(String key) {
      return List.copyOf(byKey.getOrDefault(key, Collections.emptyNavigableMap()).values());
    }

    private void addAll(NavigableMap<ResourceId, Resource> out, String key) {
      NavigableMap<ResourceId, Resource> values = byKey.get(key);
      if (values != null) {
        out.putAll(values);
      }
    }
  }
}
