package dev.meshlog.proxy.http;

import java.util.Objects;

/**
 * The Gateway a proxy runs as: its view is {@code gateway.<name>.<namespace>} and its routes'
 * matches name it {@code <namespace>/<name>}.
 *
 * @param name the Gateway's name
 * @param namespace its namespace
 */
public record GatewayBinding(String name, String namespace) {

  public GatewayBinding {
    Objects.requireNonNull(name, "name");
    namespace = namespace == null || namespace.isEmpty() ? "default" : namespace;
  }

  /** The host of the gateway's view. */
  public String host() {
    return "gateway." + name + "." + namespace;
  }

  /** How VirtualService matches refer to it. */
  public String ref() {
    return namespace + "/" + name;
  }
}
