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
import org.slf4j.event.Level;

/**
 * The network transport a proxy's Vert.x runs: Linux io_uring where the kernel allows it (it
 * costs the event loop less per request than NIO), and NIO everywhere else — a native transport
 * that cannot load (another OS or architecture, a kernel or seccomp profile without io_uring, a
 * missing library) is passed over with a log line instead of failing the proxy. Epoll runs only
 * when asked for: TCP passthrough fails on it.
 */
public final class ProxyTransport {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyTransport.class);

  /** What the operator asks for ({@code --transport}). */
  public enum Kind {
    /** io_uring where it loads, else NIO. */
    AUTO,
    /** Linux epoll (NIO when it cannot load); TCP passthrough fails on it, so only on request. */
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
   * Vert.x lacks it): {@code AUTO} and {@code IO_URING} take io_uring, else NIO; {@code EPOLL}
   * takes epoll, else NIO.
   */
  static Transport choose(Kind wanted, Transport epoll, Transport ioUring) {
    return switch (Objects.requireNonNull(wanted, "wanted")) {
      // Not epoll: TCP passthrough fails on it (TcpPassthroughIT, GatewayTlsTcpIT with
      // -Dmeshlog.test.transport=epoll), cause not yet found.
      case AUTO -> orNio(usable(ioUring, "io_uring", false));
      case EPOLL -> orNio(usable(epoll, "epoll", true));
      case IO_URING -> orNio(usable(ioUring, "io_uring", true));
      case NIO -> Transport.NIO;
    };
  }

  private static Transport orNio(Transport t) {
    return t != null ? t : Transport.NIO;
  }

  /** {@code t} if it loads, else null; says why not (a warning when it was asked for). */
  private static Transport usable(Transport t, String name, boolean asked) {
    if (t == null) {
      LOG.atLevel(asked ? Level.WARN : Level.INFO)
          .log("transport {}: not offered by this Vert.x", name);
      return null;
    }
    if (!t.available()) {
      Throwable cause = t.unavailabilityCause();
      LOG.atLevel(asked ? Level.WARN : Level.INFO).log("transport {} cannot load: {}", name,
          cause == null ? "no cause given" : cause.toString());
      return null;
    }
    return t;
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
