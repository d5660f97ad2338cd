package dev.meshlog.proxy.tcp;

import java.util.Objects;

/**
 * A TCP destination the local app can reach through the proxy: a service host and one of its
 * TCP ports.
 *
 * @param host the service's fully qualified host
 * @param port the service port
 */
public record TcpTarget(String host, int port) implements Comparable<TcpTarget> {

  public TcpTarget {
    Objects.requireNonNull(host, "host");
  }

  @Override
  public int compareTo(TcpTarget o) {
    int c = host.compareTo(o.host);
    return c != 0 ? c : Integer.compare(port, o.port);
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
