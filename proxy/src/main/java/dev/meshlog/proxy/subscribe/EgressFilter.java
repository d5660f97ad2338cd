package dev.meshlog.proxy.subscribe;

import java.util.List;

/**
 * Which hosts a proxy needs, from its service's Sidecar egress hosts as Istio writes them:
 * {@code namespace/dnsName}, where the namespace is {@code *}, {@code .} (the proxy's own) or a
 * name, and the dnsName is {@code *}, {@code *.suffix} or a full name. No patterns = every host.
 */
public final class EgressFilter {

  private final List<String> patterns;
  private final String ownNamespace;

  /** A filter of {@code patterns} for a proxy in {@code ownNamespace}. */
  public EgressFilter(List<String> patterns, String ownNamespace) {
    this.patterns = List.copyOf(patterns);
    this.ownNamespace = ownNamespace;
  }

  /**
   * The exact hosts the patterns name, when none has a wildcard host; empty when the patterns
   * may match hosts not known in advance (or there are none: every host).
   */
  public java.util.Optional<java.util.Set<String>> exactHosts() {
    if (patterns.isEmpty()) {
      return java.util.Optional.empty();
    }
    java.util.Set<String> hosts = new java.util.TreeSet<>();
    for (String p : patterns) {
      String dns = p.substring(p.indexOf('/') + 1).toLowerCase(java.util.Locale.ROOT);
      if (dns.contains("*")) {
        return java.util.Optional.empty();
      }
      hosts.add(dns);
    }
    return java.util.Optional.of(hosts);
  }

  /** Whether the proxy needs {@code host} of {@code namespace}. */
  public boolean wants(String host, String namespace) {
    if (patterns.isEmpty()) {
      return true;
    }
    for (String p : patterns) {
      int slash = p.indexOf('/');
      String ns = slash < 0 ? "*" : p.substring(0, slash);
      String dns = slash < 0 ? p : p.substring(slash + 1);
      boolean nsOk = ns.equals("*") || (ns.equals(".") ? ownNamespace.equals(namespace)
          : ns.equals(namespace));
      boolean dnsOk = dns.equals("*") || (dns.startsWith("*.") ? host.endsWith(dns.substring(1))
          : dns.equalsIgnoreCase(host));
      if (nsOk && dnsOk) {
        return true;
      }
    }
    return false;
  }
}
