package dev.meshlog.proxy.config;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Every service the proxy knows, immutable and consistent: a snapshot refuses to exist if a
 * route names a host or subset it lacks, or if a route's weights do not add up (see
 * {@link SnapshotChecker}). The request path reads one snapshot per request and never sees Avro
 * or Kafka.
 */
public final class ProxySnapshot {

  private static final ProxySnapshot EMPTY = new ProxySnapshot(Map.of());

  private final Map<String, ServiceConfig> services;

  private ProxySnapshot(Map<String, ServiceConfig> services) {
    this.services = services;
  }

  /** The snapshot with no services. */
  public static ProxySnapshot empty() {
    return EMPTY;
  }

  /**
   * A snapshot of {@code services}.
   *
   * @throws InconsistentSnapshotException naming each inconsistent host and why
   */
  public static ProxySnapshot of(Collection<ServiceConfig> services) {
    Map<String, ServiceConfig> byHost = new TreeMap<>();
    for (ServiceConfig s : services) {
      byHost.put(s.host(), s);
    }
    Map<String, List<String>> problems = SnapshotChecker.check(byHost);
    if (!problems.isEmpty()) {
      throw new InconsistentSnapshotException(problems);
    }
    return new ProxySnapshot(java.util.Collections.unmodifiableMap(byHost));
  }

  /** A snapshot of {@code services} (see {@link #of(Collection)}). */
  public static ProxySnapshot of(ServiceConfig... services) {
    return of(List.of(services));
  }

  /** This snapshot with {@code service} added or replaced; checked like {@link #of}. */
  public ProxySnapshot with(ServiceConfig service) {
    Map<String, ServiceConfig> next = new LinkedHashMap<>(services);
    next.put(service.host(), service);
    return of(next.values());
  }

  /** This snapshot without {@code host}; checked like {@link #of}. */
  public ProxySnapshot without(String host) {
    Map<String, ServiceConfig> next = new LinkedHashMap<>(services);
    next.remove(host);
    return of(next.values());
  }

  /** The service with this fully qualified host. */
  public Optional<ServiceConfig> service(String host) {
    return Optional.ofNullable(services.get(host));
  }

  /** Every service, by host, in host order. */
  public Map<String, ServiceConfig> services() {
    return services;
  }

  /** The view version of each host. */
  public Map<String, Long> versions() {
    Map<String, Long> v = new TreeMap<>();
    services.forEach((h, s) -> v.put(h, s.version()));
    return v;
  }

  @Override
  public String toString() {
    return "ProxySnapshot" + versions();
  }
}
