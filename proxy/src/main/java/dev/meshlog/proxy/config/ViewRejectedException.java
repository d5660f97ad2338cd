package dev.meshlog.proxy.config;

/** Thrown when a discovery view cannot be translated; the message is the NACK's error detail. */
public final class ViewRejectedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String host;
  private final long version;

  /** A rejection of {@code host}'s view {@code version} because of {@code reason}. */
  public ViewRejectedException(String host, long version, String reason) {
    super(reason);
    this.host = host;
    this.version = version;
  }

  /** The view's host. */
  public String host() {
    return host;
  }

  /** The rejected view version. */
  public long version() {
    return version;
  }
}
