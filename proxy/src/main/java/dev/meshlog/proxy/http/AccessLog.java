package dev.meshlog.proxy.http;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives one entry per finished request or relayed TCP connection, and hears of each TCP
 * connection as it opens; must not block (it runs on an event loop).
 */
public interface AccessLog {

  /** Records a finished request, or a closed TCP connection. */
  void log(AccessLogEntry entry);

  /**
   * A relayed TCP connection was established: {@code opening} is its entry so far (no bytes, no
   * flags). Returns where the connection's bytes are counted while it is open, so metrics show
   * a long-lived connection's traffic before it closes; {@link TcpBytes#NONE} by default.
   */
  default TcpBytes tcpOpened(AccessLogEntry opening) {
    return TcpBytes.NONE;
  }

  /** Where an open TCP connection's bytes are counted as they pass; called on its event loop. */
  interface TcpBytes {
    /** Counts nothing. */
    TcpBytes NONE = new TcpBytes() {
      @Override
      public void towardsDestination(long bytes) {
      }

      @Override
      public void fromDestination(long bytes) {
      }
    };

    /** {@code bytes} were relayed towards the destination. */
    void towardsDestination(long bytes);

    /** {@code bytes} were relayed from the destination. */
    void fromDestination(long bytes);
  }

  /** Writes each entry as one line to the SLF4J logger {@code meshlog.access}. */
  static AccessLog slf4j() {
    Logger logger = LoggerFactory.getLogger("meshlog.access");
    return entry -> {
      if (logger.isInfoEnabled()) {
        logger.info(entry.line());
      }
    };
  }

  /** Passes each entry, and each opened connection, to every one of {@code logs}. */
  static AccessLog all(List<AccessLog> logs) {
    // An array and a plain loop: no iterator and no capturing lambda per request.
    AccessLog[] copy = logs.toArray(new AccessLog[0]);
    if (copy.length == 1) {
      return copy[0];
    }
    return new AccessLog() {
      @Override
      public void log(AccessLogEntry entry) {
        for (AccessLog l : copy) {
          l.log(entry);
        }
      }

      @Override
      public TcpBytes tcpOpened(AccessLogEntry opening) {
        TcpBytes one = TcpBytes.NONE;
        List<TcpBytes> more = null;
        for (AccessLog l : copy) {
          TcpBytes b = l.tcpOpened(opening);
          if (b == TcpBytes.NONE) {
            continue;
          }
          if (one == TcpBytes.NONE) {
            one = b;
          } else {
            more = more == null ? new java.util.ArrayList<>(List.of(one)) : more;
            more.add(b);
          }
        }
        if (more == null) {
          return one;
        }
        List<TcpBytes> each = List.copyOf(more);
        return new TcpBytes() {
          @Override
          public void towardsDestination(long bytes) {
            each.forEach(b -> b.towardsDestination(bytes));
          }

          @Override
          public void fromDestination(long bytes) {
            each.forEach(b -> b.fromDestination(bytes));
          }
        };
      }
    };
  }
}
