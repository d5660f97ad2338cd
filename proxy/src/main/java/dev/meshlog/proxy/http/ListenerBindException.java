package dev.meshlog.proxy.http;

import java.util.Locale;

/**
 * A listener of the proxy could not take its address: the message names the listener, the
 * address and why, e.g. {@code admin port 127.0.0.1:15000 is in use}, instead of Netty's
 * {@code bind(..) failed with error(-98)}.
 */
public final class ListenerBindException extends RuntimeException {

  private final String listener;
  private final String host;
  private final int port;

  /**
   * @param listener the listener's name ({@code outbound}, {@code inbound}, {@code admin},
   *     {@code gateway})
   * @param cause what the socket answered
   */
  public ListenerBindException(String listener, String host, int port, Throwable cause) {
    super(listener + " port " + host + ":" + port + " " + reason(cause), cause);
    this.listener = listener;
    this.host = host;
    this.port = port;
  }

  private static String reason(Throwable cause) {
    String m = cause.getMessage() == null ? "" : cause.getMessage();
    String lower = m.toLowerCase(Locale.ROOT);
    if (lower.contains("address already in use")) {
      return "is in use (another process listens there)";
    }
    if (lower.contains("permission denied")) {
      return "may not be bound by this user (ports below 1024 need privileges)";
    }
    if (lower.contains("cannot assign requested address")) {
      return "cannot be bound: the address is not one of this host's";
    }
    return "cannot be bound: " + (m.isEmpty() ? cause.getClass().getSimpleName() : m);
  }

  /** The listener's name. */
  public String listener() {
    return listener;
  }

  /** The address it asked for. */
  public String host() {
    return host;
  }

  /** The port it asked for. */
  public int port() {
    return port;
  }
}
