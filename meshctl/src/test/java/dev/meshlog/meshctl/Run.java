package dev.meshlog.meshctl;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

/** Runs meshctl in-process and captures what it prints. */
record Run(int code, String out, String err) {

  static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");

  static Environment environment(Path workingDirectory, Map<String, String> variables) {
    return new Environment(variables, workingDirectory, Clock.fixed(NOW, ZoneOffset.UTC), "ana");
  }

  static Run meshctl(Environment environment, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = MeshctlMain.run(args, environment, new PrintWriter(out), new PrintWriter(err));
    return new Run(code, out.toString(), err.toString());
  }
}
