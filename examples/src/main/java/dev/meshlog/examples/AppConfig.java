package dev.meshlog.examples;

import java.util.Objects;

/**
 * How one example service runs: which app and version, where it listens, and where its local
 * sidecar's outbound listener is (every call to another service goes there).
 *
 * @param app         productpage, details, reviews, ratings or traffic
 * @param version     the version it reports (and, for reviews, how it behaves): v1, v2 or v3
 * @param bind        the address to listen on
 * @param port        the port to listen on; 0 for any free port
 * @param sidecarHost the sidecar's outbound listener's host
 * @param sidecarPort the sidecar's outbound listener's port
 */
public record AppConfig(String app, String version, String bind, int port, String sidecarHost,
                        int sidecarPort) {

  /** Checks the values a user typed. */
  public AppConfig {
    Objects.requireNonNull(app, "app");
    Objects.requireNonNull(version, "version");
    if (!version.matches("v[1-3]")) {
      throw new IllegalArgumentException("--version: " + version + " (expected: v1, v2 or v3)");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port: " + port + " (expected: 0..65535)");
    }
  }

  /** Parses {@code host:port} of the sidecar's outbound listener. */
  public static AppConfig withSidecar(String app, String version, String bind, int port,
                                      String sidecar) {
    int colon = sidecar == null ? -1 : sidecar.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("--sidecar: " + sidecar + " (expected: HOST:PORT)");
    }
    int sidecarPort;
    try {
      sidecarPort = Integer.parseInt(sidecar.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--sidecar: " + sidecar + " (expected: HOST:PORT)");
    }
    if (sidecarPort < 1 || sidecarPort > 65535) {
      throw new IllegalArgumentException("--sidecar: " + sidecar + " (expected a port 1..65535)");
    }
    return new AppConfig(app, version, bind, port, sidecar.substring(0, colon), sidecarPort);
  }

  /** What answers say served them, e.g. {@code reviews v2}. */
  public String servedBy() {
    return app + " " + version;
  }
}
