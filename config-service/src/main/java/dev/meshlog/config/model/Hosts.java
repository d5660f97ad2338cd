package dev.meshlog.config.model;

/**
 * Istio's host naming: a short name ({@code reviews}) in namespace {@code default} means
 * {@code reviews.default.svc.cluster.local}; a name with dots is taken as written.
 */
public final class Hosts {

  /** The cluster's DNS suffix. */
  public static final String CLUSTER_SUFFIX = "svc.cluster.local";

  private Hosts() {}

  /** The fully qualified host for {@code host} written in a resource of {@code namespace}. */
  public static String qualify(String host, String namespace) {
    if (host.equals("*") || host.startsWith("*.")) {
      return host;
    }
    if (!host.contains(".")) {
      return host + "." + namespace + "." + CLUSTER_SUFFIX;
    }
    String[] parts = host.split("\\.");
    if (parts.length == 2) {
      // "reviews.prod" is a name in namespace prod, as in Kubernetes DNS.
      return host + "." + CLUSTER_SUFFIX;
    }
    return host;
  }

  /** The host of service {@code service} in {@code namespace}. */
  public static String ofService(String service, String namespace) {
    return service + "." + namespace + "." + CLUSTER_SUFFIX;
  }
}
