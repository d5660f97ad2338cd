package dev.meshlog.proxy.config;

import java.util.List;

/**
 * One server of a Gateway: a port, its protocol, and the hosts it accepts.
 *
 * @param name the server's name, or empty
 * @param port the server's port number (what routes' {@code port} matches compare with)
 * @param protocol what it speaks
 * @param hosts the hosts it serves: DNS names, {@code *.suffix} or {@code *}
 */
public record GatewayServerConfig(String name, int port, PortConfig.Protocol protocol,
                                  List<String> hosts) {

  public GatewayServerConfig {
    name = name == null ? "" : name;
    hosts = List.copyOf(hosts);
  }

  /** Whether this server accepts requests for {@code host} (lower case, without port). */
  public boolean serves(String host) {
    return hosts.stream().anyMatch(pattern -> HostPattern.matches(pattern, host));
  }
}
