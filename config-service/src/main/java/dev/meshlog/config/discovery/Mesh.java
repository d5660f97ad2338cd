package dev.meshlog.config.discovery;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.TreeMap;

import dev.meshlog.config.model.Hosts;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;

/**
 * Config and registry seen together, indexed once per compilation: which hosts exist and
 * where they come from, the instances of each service, the DestinationRule of each host.
 */
final class Mesh {

  /** Where a host comes from: registered instances, ServiceEntries, or a Gateway. */
  static final class HostInfo {
    final String host;
    final String service;
    final String namespace;
    boolean registered;
    final List<Resource> serviceEntries = new ArrayList<>();
    Resource gateway;

    HostInfo(String host, String service, String namespace) {
      this.host = host;
      this.service = service;
      this.namespace = namespace;
    }

    boolean isService() {
      return registered || !serviceEntries.isEmpty();
    }
  }

  /** The DestinationRule that applies to a host, and those it wins over (null winner: none). */
  record DestinationRules(Resource winner, List<Resource> ignored) {}

  private final ConfigSnapshot config;
  private final String rootNamespace;
  private final Map<String, List<InstanceRegistration>> instancesByHost = new HashMap<>();
  private final NavigableMap<String, HostInfo> hosts = new TreeMap<>();

  Mesh(ConfigSnapshot config, Collection<InstanceRegistration> instances, String rootNamespace) {
    this.config = config;
    this.rootNamespace = rootNamespace;
    for (InstanceRegistration instance : instances) {
      String host = Hosts.ofService(instance.getService(), instance.getNamespace());
      instancesByHost.computeIfAbsent(host, h -> new ArrayList<>()).add(instance);
      hosts.computeIfAbsent(host, h -> new HostInfo(h, instance.getService(), instance.getNamespace()))
          .registered = true;
    }
    instancesByHost.values().forEach(list -> list.sort(Comparator.comparing(InstanceRegistration::getInstanceId)));
    for (Resource entry : resources(Kind.SERVICE_ENTRY)) {
      for (String host : HostPatterns.hosts(entry)) {
        hosts.computeIfAbsent(host, h -> new HostInfo(h, entry.name(), entry.namespace()))
            .serviceEntries.add(entry);
      }
    }
    for (Resource gateway : resources(Kind.GATEWAY)) {
      String host = ViewCompiler.gatewayHost(gateway.name(), gateway.namespace());
      hosts.computeIfAbsent(host, h -> new HostInfo(h, gateway.name(), gateway.namespace())).gateway = gateway;
    }
  }

  ConfigSnapshot config() {
    return config;
  }

  String rootNamespace() {
    return rootNamespace;
  }

  /** Every host that gets a view, sorted. */
  NavigableSet<String> hostNames() {
    return hosts.navigableKeySet();
  }

  /** Every host with a view, by host. */
  Collection<HostInfo> hostInfos() {
    return hosts.values();
  }

  /** The host, or null when nothing defines it. */
  HostInfo host(String host) {
    return hosts.get(host);
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
      return info.namespace;
    }
    String[] labels = host.split("\\.");
    if (host.endsWith("." + Hosts.CLUSTER_SUFFIX) && labels.length == 5) {
      return labels[1];
    }
    return "";
  }

  /** Every registration of the service of {@code host}, whatever its state, by instance id. */
  List<InstanceRegistration> instances(String host) {
    return instancesByHost.getOrDefault(host, List.of());
  }

  /** The instances of the service of {@code host} that receive traffic at {@code now}, by instance id. */
  List<InstanceRegistration> live(String host, Instant now) {
    return instances(host).stream().filter(i -> alive(i, now)).toList();
  }

  /** The live instances of every service in {@code namespace}, by instance id. */
  List<InstanceRegistration> liveInNamespace(String namespace, Instant now) {
    return instancesByHost.values().stream().flatMap(List::stream)
        .filter(i -> i.getNamespace().equals(namespace) && alive(i, now))
        .sorted(Comparator.comparing(InstanceRegistration::getInstanceId)).toList();
  }

  /** Registered and with a lease that has not lapsed. */
  static boolean alive(InstanceRegistration instance, Instant now) {
    return instance.getState() == RegistrationState.REGISTERED
        && instance.getHeartbeatAt().plusMillis(instance.getLeaseDurationMillis()).isAfter(now);
  }

  /** The resources of {@code kind}, ordered by namespace, then name. */
  List<Resource> resources(Kind kind) {
    return config.ofKind(kind).stream().map(ConfigSnapshot.Entry::resource).toList();
  }

  /**
   * The DestinationRule for {@code host}: an exact host beats a wildcard, a narrower wildcard a
   * wider one; among rules for the same host, the one in the host's namespace, then by
   * namespace and name. The others for that same host are returned as ignored.
   */
  DestinationRules destinationRules(String host) {
    String hostNamespace = namespaceOf(host);
    List<Resource> candidates = new ArrayList<>();
    for (Resource rule : resources(Kind.DESTINATION_RULE)) {
      if (HostPatterns.matches(specHost(rule), host)) {
        candidates.add(rule);
      }
    }
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
}
