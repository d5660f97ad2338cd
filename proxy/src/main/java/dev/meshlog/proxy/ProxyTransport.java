package dev.meshlog.proxy;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

import dev.meshlog.proxy.http.HeaderDeadlineTransport;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network transport a proxy's Vert.x runs: Linux epoll where its native library loads (fewer
 * and cheaper syscalls per request than NIO), io_uring on request, and NIO everywhere else — a
 * native library that cannot load (another OS or architecture, a missing or mismatched library)
 * falls back to NIO with a warning instead of failing the proxy.
 */
public final class ProxyTransport {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyTransport.class);

  /** What the operator asks for ({@code --transport}). */
  public enum Kind {
    /** Epoll where it loads, else NIO. */
    AUTO,
    /** Linux epoll (NIO when it cannot load). */
    EPOLL,
    /** Linux io_uring (NIO when it cannot load). */
    IO_URING,
    /** Java NIO. */
    NIO;

    /** {@code auto}, {@code epoll}, {@code io_uring} or {@code nio}, any case. */
    public static Kind parse(String text) {
      String t = text == null ? "" : text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
      try {
        return t.isEmpty() ? AUTO : valueOf(t);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("transport: " + text
            + " (expected: auto, epoll, io_uring or nio)", e);
      }
    }
  }

  private ProxyTransport() {
  }

  /** The transport {@code wanted} gets on this machine. */
  public static Transport choose(Kind wanted) {
    return choose(wanted, Transport.EPOLL, Transport.IO_URING);
  }

  /**
   * The transport {@code wanted} gets given these native candidates (either may be null where
   * Vert.x lacks it): the candidate if it is available, else NIO.
   */
  static Transport choose(Kind wanted, Transport epoll, Transport ioUring) {
    Transport candidate = switch (Objects.requireNonNull(wanted, "wanted")) {
      case AUTO, EPOLL -> epoll;
      case IO_URING -> ioUring;
      case NIO -> Transport.NIO;
    };
    if (candidate == null) {
      LOG.warn("transport {}: not offered by this Vert.x; running NIO", wanted);
      return Transport.NIO;
    }
    if (candidate != Transport.NIO && !candidate.available()) {
      Throwable cause = candidate.unavailabilityCause();
      if (wanted == Kind.AUTO) {
        LOG.info("transport {} cannot load ({}); running NIO", candidate.name(),
            cause == null ? "no cause given" : cause.toString());
      } else {
        LOG.warn("transport {} cannot load; running NIO", candidate.name(), cause);
      }
      return Transport.NIO;
    }
    return candidate;
  }

  /**
   * A Vert.x on {@code transport} with {@code headerTimeout} watching the first request
   * headers of each clear-text connection; logs which transport runs.
   */
  public static Vertx vertx(VertxOptions options, Transport transport, Duration headerTimeout) {
    HeaderDeadlineTransport watched = new HeaderDeadlineTransport(transport, headerTimeout);
    Vertx vertx = Vertx.builder().with(options).withTransport(watched).build();
    LOG.info("transport: {}", watched.name());
    return vertx;
  }
}
