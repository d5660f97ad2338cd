package dev.meshlog.proxy.cluster;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import dev.meshlog.proxy.config.EndpointConfig;
import io.netty.util.NetUtil;

/**
 * The proxy's own listeners that route a request by its Host again (the outbound listener, a
 * gateway's), and the test of whether an endpoint is one of them: an endpoint that is would
 * send each request back into the proxy, which routes it to the same endpoint, and so on, a new
 * connection per hop, until file descriptors run out. The inbound listener is not one of them:
 * a service calling itself through the mesh legitimately reaches its own inbound port.
 *
 * <p>Endpoints are compared by IP literal only ({@code localhost} aside), never resolved: a
 * host-named endpoint that resolves to the proxy itself is not caught.
 */
public final class LoopGuard {

  /** Guards nothing: the proxy's listeners are not known yet. */
  public static final LoopGuard NONE = new LoopGuard(List.of(), Set.of());

  /**
   * One listener that routes by Host.
   *
   * @param name what the log and the admin pages call it, e.g. {@code outbound}
   * @param host the address it is bound to ({@code 0.0.0.0} or {@code ::} = every address)
   * @param port its port
   */
  public record Listener(String name, String host, int port) {
    public Listener {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(host, "host");
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("listener " + name + " port: " + port
            + " (expected: 1..65535, the port it is bound to)");
      }
    }

    /** {@code name host:port}, as the log and {@code /clusters} print it. */
    @Override
    public String toString() {
      return name + " " + host + ":" + port;
    }
  }

  /**
   * An endpoint of {@code host} left out of its clusters because it is {@code listener}.
   *
   * @param host the host whose endpoint it is
   * @param endpoint the endpoint as the config names it
   * @param listener the proxy's own listener it is
   */
  public record Loop(String host, EndpointConfig endpoint, Listener listener) {
    /** {@code request loop: <listener>}, why the endpoint is left out. */
    public String reason() {
      return "request loop: this proxy's " + listener + " listener";
    }
  }

  private final List<Listener> listeners;
  /** The machine's addresses, read once: what a wildcard-bound listener is reached at. */
  private final Set<InetAddress> machine;

  private LoopGuard(List<Listener> listeners, Set<InetAddress> machine) {
    this.listeners = List.copyOf(listeners);
    this.machine = Set.copyOf(machine);
  }

  /** A guard of {@code listeners}, reading the machine's addresses now. */
  public static LoopGuard of(List<Listener> listeners) {
    boolean wildcard = listeners.stream().map(l -> literal(l.host()))
        .anyMatch(a -> a != null && a.isAnyLocalAddress());
    return new LoopGuard(listeners, wildcard ? machineAddresses() : Set.of());
  }

  /** A guard of {@code listeners} on a machine with {@code addresses} (for tests). */
  static LoopGuard of(List<Listener> listeners, Set<InetAddress> addresses) {
    return new LoopGuard(listeners, addresses);
  }

  /** The listeners guarded. */
  public List<Listener> listeners() {
    return listeners;
  }

  /** The listener {@code endpoint} would send a request back into, if any. */
  public Optional<Listener> loopsInto(EndpointConfig endpoint) {
    if (listeners.isEmpty()) {
      return Optional.empty();
    }
    InetAddress address = literal(endpoint.address());
    if (address == null) {
      return Optional.empty();
    }
    for (Listener l : listeners) {
      if (l.port() == endpoint.port() && reaches(address, l.host())) {
        return Optional.of(l);
      }
    }
    return Optional.empty();
  }

  /** Whether a connection to {@code address} reaches a listener bound to {@code bound}. */
  private boolean reaches(InetAddress address, String bound) {
    InetAddress b = literal(bound);
    if (b == null) {
      return false;
    }
    if (b.isAnyLocalAddress()) {
      // Bound to every address: any loopback address, 0.0.0.0, or an address of this machine.
      return address.isLoopbackAddress() || address.isAnyLocalAddress()
          || machine.contains(address);
    }
    // Connecting to 0.0.0.0 (or ::) reaches the loopback interface.
    return address.equals(b) || (address.isAnyLocalAddress() && b.isLoopbackAddress());
  }

  /** The IP address {@code s} spells, {@code localhost} as loopback, else {@code null}. */
  private static InetAddress literal(String s) {
    if ("localhost".equalsIgnoreCase(s)) {
      return InetAddress.getLoopbackAddress();
    }
    String bare = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(bare);
    if (bytes == null) {
      return null;
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      return null; // only thrown for a wrong length, which a parsed literal does not have
    }
  }

  private static Set<InetAddress> machineAddresses() {
    Set<InetAddress> all = new HashSet<>();
    try {
      List<NetworkInterface> nics = new ArrayList<>(
          Collections.list(NetworkInterface.getNetworkInterfaces()));
      for (NetworkInterface nic : nics) {
        for (InetAddress a : Collections.list(nic.getInetAddresses())) {
          // Scope ids would make fe80::1%eth0 unequal to the endpoint's fe80::1.
          all.add(InetAddress.getByAddress(a.getAddress()));
        }
      }
    } catch (SocketException | UnknownHostException e) {
      // Without the list, loopback is still guarded.
    }
    return all;
  }
}
