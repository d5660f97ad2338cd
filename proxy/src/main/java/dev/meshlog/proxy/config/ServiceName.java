package dev.meshlog.proxy.config;

/**
 * A routed host as its service's name and namespace: a mesh host is
 * {@code name.namespace.svc.<domain>}; any other host (a ServiceEntry's) is a name of its own,
 * with no namespace.
 *
 * @param name the service's name ({@code unknown} for no host)
 * @param namespace its namespace, or empty
 */
public record ServiceName(String name, String namespace) {

  /** What mesh hosts end with in the cluster DNS {@code domain} (default {@code cluster.local}). */
  public static String hostSuffix(String domain) {
    return ".svc." + (domain == null || domain.isEmpty() ? "cluster.local" : domain);
  }

  /** {@code host} split, where mesh hosts end with {@code hostSuffix} ({@link #hostSuffix}). */
  public static ServiceName of(String host, String hostSuffix) {
    String h = host == null || host.isEmpty() ? "unknown" : host;
    if (h.endsWith(hostSuffix)) {
      String name = h.substring(0, h.length() - hostSuffix.length());
      int dot = name.lastIndexOf('.');
      if (dot > 0) {
        return new ServiceName(name.substring(0, dot), name.substring(dot + 1));
      }
    }
    return new ServiceName(h, "");
  }
}
