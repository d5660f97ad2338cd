package dev.meshlog.proxy.config;

import java.util.Locale;
import java.util.Objects;

/**
 * One port of a service, with the protocol it speaks.
 *
 * @param name the port's name, or empty
 * @param number the service port number
 * @param protocol what it speaks
 * @param targetPort the port the workload listens on, or {@code null} for {@code number}
 */
public record PortConfig(String name, int number, Protocol protocol, Integer targetPort) {

  /** A port protocol, as a view declares it. */
  public enum Protocol {
    /** Not declared: treated as HTTP/1.1. */
    UNSPECIFIED,
    /** HTTP/1.1. */
    HTTP,
    /** HTTP/2 (h2c between proxies). */
    HTTP2,
    /** gRPC: HTTP/2 with trailers. */
    GRPC,
    /** Opaque TCP: proxied byte for byte. */
    TCP,
    /** TLS the proxy does not terminate: proxied byte for byte, like TCP. */
    TLS;

    /** Whether requests on such a port go upstream as HTTP/2. */
    public boolean http2() {
      return this == HTTP2 || this == GRPC;
    }

    /** Whether such a port carries opaque bytes rather than HTTP. */
    public boolean opaque() {
      return this == TCP || this == TLS;
    }

    /**
     * The protocol Istio's port-naming convention implies for a port named {@code name}
     * ({@code tcp-db}, {@code grpc}, {@code http2-api}, ...); UNSPECIFIED when none does.
     */
    public static Protocol ofPortName(String name) {
      String prefix = name.toLowerCase(Locale.ROOT).split("-", 2)[0];
      return switch (prefix) {
        case "http", "http-web" -> HTTP;
        case "http2" -> HTTP2;
        case "grpc", "grpc-web" -> GRPC;
        case "tcp", "mongo", "mysql", "redis" -> TCP;
        case "tls", "https" -> TLS;
        default -> UNSPECIFIED;
      };
    }
  }

  public PortConfig {
    name = name == null ? "" : name;
    Objects.requireNonNull(protocol, "protocol");
  }

  /** An unnamed port {@code number} speaking {@code protocol}. */
  public static PortConfig of(int number, Protocol protocol) {
    return new PortConfig("", number, protocol, null);
  }

  /** The port the workload listens on. */
  public int workloadPort() {
    return targetPort == null ? number : targetPort;
  }
}
