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

  /**
   * A relayed TCP connection ended: {@code closing} is its final entry, {@code live} what
   * {@link #tcpOpened} returned for it, or {@link TcpBytes#NONE} when it never opened (no
   * route, no healthy upstream, the connect failed, the client left first). The relays call
   * this, not {@link #log}, for a TCP connection; by default it is {@link #log}.
   */
  default void tcpClosed(AccessLogEntry closing, TcpBytes live) {
    log(closing);
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

  /** Passes each entry, and each opened and closed connection, to every one of {@code logs}. */
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
        TcpBytes[] answers = new TcpBytes[copy.length];
        TcpBytes one = TcpBytes.NONE;
        int counting = 0;
        for (int i = 0; i < copy.length; i++) {
          try {
            answers[i] = copy[i].tcpOpened(opening);
          } catch (RuntimeException e) {
            // one failing log must not lose the others' answers (they follow the connection
            // until told it closed)
            LoggerFactory.getLogger(AccessLog.class).warn("access log failed", e);
            answers[i] = TcpBytes.NONE;
          }
          if (answers[i] != TcpBytes.NONE) {
            one = answers[i];
            counting++;
          }
        }
        // one log counting: its own answer, with no indirection per write
        return counting <= 1 ? one : new Each(this, answers);
      }

      @Override
      public void tcpClosed(AccessLogEntry closing, TcpBytes live) {
        if (live instanceof Each each && each.owner == this) {
          // each log is told of the connection with what it answered itself
          for (int i = 0; i < copy.length; i++) {
            copy[i].tcpClosed(closing, each.answers[i]);
          }
          return;
        }
        // at most one log answered, with live: it knows its own answer, the others ignore it
        for (AccessLog l : copy) {
          l.tcpClosed(closing, live);
        }
      }
    };
  }

  /** The answers to {@link #tcpOpened} of several logs ({@link #all}), one per log. */
  final class Each implements TcpBytes {
    private final AccessLog owner;
    private final TcpBytes[] answers;

    private Each(AccessLog owner, TcpBytes[] answers) {
      this.owner = owner;
      this.answers = answers;
    }

    @Override
    public void towardsDestination(long bytes) {
      for (TcpBytes b : answers) {
        b.towardsDestination(bytes);
      }
    }

    @Override
    public void fromDestination(long bytes) {
      for (TcpBytes b : answers) {
        b.fromDestination(bytes);
      }
    }
  }
}
