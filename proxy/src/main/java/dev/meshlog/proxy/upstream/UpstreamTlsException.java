package dev.meshlog.proxy.upstream;

/**
 * A TLS handshake to an upstream failed; its message is the one-line reason (Envoy's
 * upstream transport failure reason), starting with {@link UpstreamTls#TLS_ERROR}.
 */
public final class UpstreamTlsException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** The failure of a handshake that ended with {@code cause}. */
  public UpstreamTlsException(Throwable cause) {
    super(reason(cause), cause, false, false);
  }

  private static String reason(Throwable cause) {
    String r = UpstreamTls.failureReason(cause);
    if (r != null) {
      return r;
    }
    // The connection closed or timed out before the handshake ended (a server that does not
    // speak TLS on the port often just closes).
    return UpstreamTls.TLS_ERROR + "handshake did not complete: "
        + (cause == null ? "unknown" : cause.getMessage() == null
            ? cause.getClass().getSimpleName() : cause.getMessage());
  }
}
