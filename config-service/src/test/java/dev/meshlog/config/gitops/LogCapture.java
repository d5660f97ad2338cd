package dev.meshlog.config.gitops;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything logged under some loggers, down to DEBUG, with every exception's message and
 * its causes': where a secret could leak into logs.
 */
final class LogCapture {
  private final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
  private final List<String> names = new ArrayList<>();
  private org.apache.logging.log4j.core.appender.AbstractAppender appender;

  void start(String... loggers) {
    var context = (org.apache.logging.log4j.core.LoggerContext)
        org.apache.logging.log4j.LogManager.getContext(false);
    var config = context.getConfiguration();
    appender = new org.apache.logging.log4j.core.appender.AbstractAppender("capture", null, null,
        true, org.apache.logging.log4j.core.config.Property.EMPTY_ARRAY) {
      @Override
      public void append(org.apache.logging.log4j.core.LogEvent event) {
        StringBuilder line = new StringBuilder(event.getMessage().getFormattedMessage());
        for (Throwable t = event.getThrown(); t != null; t = t.getCause()) {
          line.append(" | ").append(t);
        }
        lines.add(line.toString());
      }
    };
    appender.start();
    for (String name : loggers) {
      var logger = new org.apache.logging.log4j.core.config.LoggerConfig(name,
          org.apache.logging.log4j.Level.DEBUG, false);
      logger.addAppender(appender, org.apache.logging.log4j.Level.DEBUG, null);
      config.addLogger(name, logger);
      names.add(name);
    }
    context.updateLoggers();
  }

  void stop() {
    var context = (org.apache.logging.log4j.core.LoggerContext)
        org.apache.logging.log4j.LogManager.getContext(false);
    names.forEach(context.getConfiguration()::removeLogger);
    context.updateLoggers();
    if (appender != null) {
      appender.stop();
    }
  }

  List<String> lines() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }
}
