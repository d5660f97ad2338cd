package dev.meshlog.config.discovery;

import java.util.List;

import dev.meshlog.config.model.Hosts;
import dev.meshlog.config.model.Resource;

/** Host matching as Istio does it ({@code *} and {@code *.suffix} wildcards) and the hosts resources name. */
final class HostPatterns {

  /** The gateway a VirtualService binds to when it is meant for sidecars. */
  static final String MESH = "mesh";

  private HostPatterns() {}

  /** Whether {@code pattern} (a host, {@code *} or {@code *.suffix}) covers {@code host}. */
  static boolean matches(String pattern, String host) {
    if (pattern.equals(host) || pattern.equals("*")) {
      return true;
    }
    return pattern.startsWith("*.") && host.endsWith(pattern.substring(1));
  }

  /** The qualified {@code hosts} of a VirtualService or ServiceEntry. */
  static List<String> hosts(Resource resource) {
    return Json.strings(resource.spec(), "hosts").stream()
        .map(h -> Hosts.qualify(h, resource.namespace())).toList();
  }

  /**
   * A gateway reference as written in a VirtualService of {@code namespace} ({@code mesh},
   * {@code name} or {@code namespace/name}), as {@code mesh} or {@code namespace/name}.
   */
  static String gatewayRef(String written, String namespace) {
    if (written.equals(MESH) || written.contains("/")) {
      return written;
    }
    return namespace + "/" + written;
  }

  /** The qualified {@code gateways} of a VirtualService; {@code [mesh]} when it names none. */
  static List<String> gateways(Resource virtualService) {
    List<String> written = Json.strings(virtualService.spec(), "gateways");
    if (written.isEmpty()) {
      return List.of(MESH);
    }
    return written.stream().map(g -> gatewayRef(g, virtualService.namespace())).toList();
  }
}
