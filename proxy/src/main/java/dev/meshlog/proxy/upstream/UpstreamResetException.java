package dev.meshlog.proxy.upstream;

/** Why an upstream HTTP/1.1 exchange ended before its response did. */
public final class UpstreamResetException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** A reset saying {@code message}, without a stack trace (a routine event, not a bug). */
  public UpstreamResetException(String message) {
    super(message, null, false, false);
  }
}
