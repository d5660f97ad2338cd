package dev.meshlog.proxy.config;

import java.util.List;
import java.util.Objects;

/**
 * One server of a Gateway: a port, its protocol, the hosts it accepts, and how it terminates
 * TLS.
 *
 * @param name the server's name, or empty
 * @param port the server's port number (what routes' {@code port} matches compare with)
 * @param protocol what it speaks
 * @param hosts the hosts it serves: DNS names, {@code *.suffix} or {@code *}
 * @param tls how it terminates TLS, or {@code null} when it does not
 */
public record GatewayServerConfig(String name, int port, PortConfig.Protocol protocol,
                                  List<String> hosts, Tls tls) {

  /** How a server treats TLS. */
  public enum TlsMode {
    /** Not given. */
    UNSPECIFIED,
    /** Passed through by SNI to the destination of a tls route, not terminated. */
    PASSTHROUGH,
    /** Terminated with the server's certificate. */
    SIMPLE,
    /** Terminated, and clients must present a certificate chaining to the given CAs. */
    MUTUAL
  }

  /**
   * A server's TLS settings: files on the gateway's file system, in PEM.
   *
   * @param mode how TLS is treated
   * @param serverCertificate the certificate chain's path
   * @param privateKey the private key's path
   * @param caCertificates the path of the CAs client certificates must chain to (MUTUAL), or empty
   * @param httpsRedirect whether plain HTTP requests on the server are answered 301 to https
   *     (Istio's {@code tls.httpsRedirect}; mode UNSPECIFIED when that is all it says)
   */
  public record Tls(TlsMode mode, String serverCertificate, String privateKey,
                    String caCertificates, boolean httpsRedirect) {

    public Tls {
      Objects.requireNonNull(mode, "mode");
      serverCertificate = serverCertificate == null ? "" : serverCertificate;
      privateKey = privateKey == null ? "" : privateKey;
      caCertificates = caCertificates == null ? "" : caCertificates;
    }

    /** Settings that do not redirect. */
    public Tls(TlsMode mode, String serverCertificate, String privateKey,
               String caCertificates) {
      this(mode, serverCertificate, privateKey, caCertificates, false);
    }

    /** Whether the gateway terminates TLS with these settings. */
    public boolean terminates() {
      return mode == TlsMode.SIMPLE || mode == TlsMode.MUTUAL;
    }
  }

  public GatewayServerConfig {
    name = name == null ? "" : name;
    hosts = List.copyOf(hosts);
  }

  /** A server without TLS settings. */
  public GatewayServerConfig(String name, int port, PortConfig.Protocol protocol,
                             List<String> hosts) {
    this(name, port, protocol, hosts, null);
  }

  /** Whether this server accepts requests for {@code host} (lower case, without port). */
  public boolean serves(String host) {
    return hosts.stream().anyMatch(pattern -> HostPattern.matches(pattern, host));
  }

  /** Whether the gateway terminates TLS on this server and serves HTTP inside it (HTTPS). */
  public boolean https() {
    return protocol == PortConfig.Protocol.TLS && tls != null && tls.terminates();
  }

  /**
   * Whether every plain HTTP request on this server is answered with a redirect to https
   * ({@code tls.httpsRedirect}); requests that came over TLS already are served.
   */
  public boolean httpsRedirect() {
    return tls != null && tls.httpsRedirect();
  }

  /** Whether this server carries plain HTTP (HTTP, HTTP2, GRPC or undeclared). */
  public boolean plainHttp() {
    return !protocol.opaque();
  }

  /**
   * Whether this server passes TLS through unterminated, routed by the SNI of each
   * connection's ClientHello along the view's tls routes.
   */
  public boolean passthrough() {
    return protocol == PortConfig.Protocol.TLS && tls != null
        && tls.mode() == TlsMode.PASSTHROUGH;
  }

  /** Whether this server relays opaque TCP, routed by the view's tcp routes. */
  public boolean tcp() {
    return protocol == PortConfig.Protocol.TCP;
  }
}
