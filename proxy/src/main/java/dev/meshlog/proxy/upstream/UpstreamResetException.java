package dev.meshlog.proxy.upstream;

/** Why an upstream HTTP/1.1 exchange ended before its response did. */
public final class UpstreamResetException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final boolean protocolError;

  /** A reset saying {@code message}, without a stack trace (a routine event, not a bug). */
  public UpstreamResetException(String message) {
    this(message, false);
  }

  /**
   * A reset saying {@code message}; {@code protocolError} when the upstream's bytes were not a
   * valid HTTP/1.1 response (Envoy's reset reason {@code protocol error}: 502, flag UPE).
   */
  public UpstreamResetException(String message, boolean protocolError) {
    super(message, null, false, false);
    this.protocolError = protocolError;
  }

  /** Whether the upstream broke the protocol, rather than closing or failing the connection. */
  public boolean protocolError() {
    return protocolError;
  }

  /** Whether {@code cause} is an upstream protocol error. */
  public static boolean isProtocolError(Throwable cause) {
    return cause instanceof UpstreamResetException u && u.protocolError;
  }
}
