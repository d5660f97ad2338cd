package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;

/**
 * TELEMETRY.md's table of schema fingerprints — what a reader in another stack checks its own
 * computation against — holds the fingerprints of the published {@code .avsc} files, current and
 * released. A schema change that changes a fingerprint fails here until the table says so.
 */
class TelemetryDocTest {

  private static final Path ROOT = Path.of("..");
  private static final Path AVRO = ROOT.resolve("schemas/src/main/avro");
  private static final Path RELEASE_010 = ROOT.resolve("schemas/src/main/resources/meshlog/schemas/releases/0.1.0");

  @Test
  void theFingerprintTableListsThePublishedSchemas() throws IOException {
    Schema.Parser parser = new Schema.Parser();
    Schema event = parser.parse(AVRO.resolve("telemetry-request.avsc").toFile());
    Schema batch = parser.parse(AVRO.resolve("telemetry-request-batch.avsc").toFile());
    List<String> rows = new ArrayList<>();
    rows.add(row("RequestEventBatch", "current", "telemetry-request-batch.avsc", batch));
    rows.add(row("RequestEvent", "current", "telemetry-request.avsc", event));
    rows.add(row("RequestEvent", "0.1.0", "releases/0.1.0/dev.meshlog.events.telemetry.RequestEvent.avsc",
        parse(RELEASE_010.resolve("dev.meshlog.events.telemetry.RequestEvent.avsc"))));
    rows.add(row("EdgeMetrics", "current", "telemetry-edge.avsc", parse(AVRO.resolve("telemetry-edge.avsc"))));
    rows.add(row("EdgeMetrics", "0.1.0", "releases/0.1.0/dev.meshlog.events.telemetry.EdgeMetrics.avsc",
        parse(RELEASE_010.resolve("dev.meshlog.events.telemetry.EdgeMetrics.avsc"))));
    rows.add(row("DeadLetter", "current", "dead-letter.avsc", parse(AVRO.resolve("dead-letter.avsc"))));
    rows.add(row("DeadLetter", "0.1.0", "releases/0.1.0/dev.meshlog.events.common.DeadLetter.avsc",
        parse(RELEASE_010.resolve("dev.meshlog.events.common.DeadLetter.avsc"))));
    List<String> doc = Files.readAllLines(ROOT.resolve("TELEMETRY.md"));
    assertThat(doc).as("TELEMETRY.md's fingerprint table (Reading the values) must hold these rows:\n"
        + String.join("\n", rows) + "\n").containsAll(rows);
  }

  private static Schema parse(Path file) throws IOException {
    return new Schema.Parser().parse(file.toFile());
  }

  /** The table row of {@code schema}: its type, version, file and bytes 2-9 of a value written with it. */
  private static String row(String type, String version, String file, Schema schema) {
    byte[] bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(SchemaNormalization.parsingFingerprint64(schema)).array();
    StringBuilder hex = new StringBuilder();
    for (byte b : bytes) {
      hex.append(hex.isEmpty() ? "" : " ").append(String.format("%02x", b));
    }
    return "| `" + type + "` | " + version + " | `" + file + "` | `" + hex + "` |";
  }
}
