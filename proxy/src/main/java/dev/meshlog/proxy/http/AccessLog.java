package dev.meshlog.proxy.http;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Receives one entry per finished request; must not block (it runs on an event loop). */
public interface AccessLog {

  /** Records a finished request. */
  void log(AccessLogEntry entry);

  /** Writes each entry as one line to the SLF4J logger {@code meshlog.access}. */
  static AccessLog slf4j() {
    Logger logger = LoggerFactory.getLogger("meshlog.access");
    return entry -> {
      if (logger.isInfoEnabled()) {
        logger.info(entry.line());
      }
    };
  }

  /** Passes each entry to every one of {@code logs}. */
  static AccessLog all(List<AccessLog> logs) {
    // An array and a plain loop: no iterator and no capturing lambda per request.
    AccessLog[] copy = logs.toArray(new AccessLog[0]);
    if (copy.length == 1) {
      return copy[0];
    }
    return entry -> {
      for (AccessLog l : copy) {
        l.log(entry);
      }
    };
  }
}
