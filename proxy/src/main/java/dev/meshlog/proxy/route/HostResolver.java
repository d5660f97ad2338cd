package dev.meshlog.proxy.route;

import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ServiceConfig;

/**
 * Resolves the host an app called ({@code reviews}, {@code reviews:9080}, {@code reviews.prod},
 * {@code reviews.prod.svc}, or a full name) to a service of the snapshot, the way Kubernetes DNS
 * search paths would in the proxy's namespace. Answers are remembered per snapshot (up to
 * {@value #CACHED_AUTHORITIES} authorities), so a request does not build the search path's
 * names again; a new snapshot starts afresh.
 */
public final class HostResolver {

  /** Authorities remembered per snapshot; more are resolved each time (a flood of odd Hosts). */
  static final int CACHED_AUTHORITIES = 1024;

  private final String namespace;
  private final String domain;
  private volatile Answers answers;

  /** What the authorities called under one snapshot resolved to. */
  private record Answers(ProxySnapshot snapshot,
                         ConcurrentHashMap<String, Optional<ServiceConfig>> byAuthority) {}

  /**
   * A resolver for a proxy in {@code namespace}.
   *
   * @param domain the cluster domain, e.g. {@code cluster.local}
   */
  public HostResolver(String namespace, String domain) {
    this.namespace = namespace;
    this.domain = domain;
  }

  /** The host part of an authority: without port, lower case, without a trailing dot. */
  public static String hostOf(String authority) {
    if (authority == null) {
      return "";
    }
    String a = authority.trim().toLowerCase(Locale.ROOT);
    if (a.startsWith("[")) {
      int end = a.indexOf(']');
      return end < 0 ? a : a.substring(0, end + 1);
    }
    int colon = a.lastIndexOf(':');
    if (colon >= 0 && a.indexOf(':') == colon) {
      a = a.substring(0, colon);
    }
    return a.endsWith(".") ? a.substring(0, a.length() - 1) : a;
  }

  /** The port of an authority, or {@code defaultPort} when it names none. */
  public static int portOf(String authority, int defaultPort) {
    if (authority == null) {
      return defaultPort;
    }
    int colon = authority.lastIndexOf(':');
    int bracket = authority.lastIndexOf(']');
    if (colon < 0 || colon < bracket) {
      return defaultPort;
    }
    try {
      return Integer.parseInt(authority.substring(colon + 1).trim());
    } catch (NumberFormatException e) {
      return defaultPort;
    }
  }

  /** The service {@code authority} names, trying the namespace's search path in order. */
  public Optional<ServiceConfig> resolve(ProxySnapshot snapshot, String authority) {
    if (authority == null) {
      return Optional.empty();
    }
    Answers a = answers;
    if (a == null || a.snapshot() != snapshot) {
      a = new Answers(snapshot, new ConcurrentHashMap<>());
      answers = a;
    }
    Optional<ServiceConfig> known = a.byAuthority().get(authority);
    if (known != null) {
      return known;
    }
    Optional<ServiceConfig> found = search(snapshot, authority);
    if (a.byAuthority().size() < CACHED_AUTHORITIES) {
      a.byAuthority().put(authority, found);
    }
    return found;
  }

  private Optional<ServiceConfig> search(ProxySnapshot snapshot, String authority) {
    String host = hostOf(authority);
    if (host.isEmpty()) {
      return Optional.empty();
    }
    Optional<ServiceConfig> exact = snapshot.service(host);
    if (exact.isPresent()) {
      return exact;
    }
    for (String candidate : new String[] {
        host + "." + namespace + ".svc." + domain, host + ".svc." + domain, host + "." + domain}) {
      Optional<ServiceConfig> s = snapshot.service(candidate);
      if (s.isPresent()) {
        return s;
      }
    }
    return Optional.empty();
  }
}
