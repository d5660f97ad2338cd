package dev.meshlog.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * Every topic's value schema must stay backward and forward compatible with the newest released
 * version (the baseline files under {@code src/main/resources/meshlog/schemas/releases/}).
 *
 * <p>To cut a release baseline, run {@code mvn -pl schemas test -Dtest=SchemaCompatibilityTest
 * -Dmeshlog.schemas.release=X.Y.Z}: it writes the current schemas as release X.Y.Z.
 */
class SchemaCompatibilityTest {

  @Test
  void everyTopicSchemaIsCompatibleWithTheNewestRelease() throws IOException {
    String release = System.getProperty("meshlog.schemas.release");
    if (release != null && !release.isBlank()) {
      writeRelease(release);
    }
    List<String> releases = SchemaHistory.releases();
    assertThat(releases).as("released schema versions").isNotEmpty();
    String newest = releases.get(releases.size() - 1);
    List<SchemaCompatibilityCheck.Problem> problems = new ArrayList<>();
    for (Topic<String, ?> topic : avroTopics()) {
      Schema current = ((AvroSerde<?>) topic.valueSerde()).schema();
      Schema released = SchemaHistory.released(newest, current.getFullName()).orElse(null);
      if (released != null) {
        problems.addAll(SchemaCompatibilityCheck.check(released, current));
      }
    }
    assertThat(problems).as("incompatible with release " + newest
        + " (add new fields with a default; never rename or remove one)").isEmpty();
  }

  @Test
  void addingAFieldWithoutADefaultFailsNamingTheField() throws IOException {
    Schema released = fixture("fixtures/edge-v1.avsc");
    Schema broken = fixture("fixtures/edge-v2-field-without-default.avsc");
    List<SchemaCompatibilityCheck.Problem> problems =
        SchemaCompatibilityCheck.check(released, broken);
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0).toString())
        .contains("field destination.cluster")
        .contains("READER_FIELD_MISSING_DEFAULT_VALUE")
        .contains("backward");
  }

  @Test
  void addingAFieldWithADefaultIsCompatibleBothWays() throws IOException {
    Schema released = fixture("fixtures/edge-v1.avsc");
    Schema evolved = fixture("fixtures/edge-v2-field-with-default.avsc");
    assertThat(SchemaCompatibilityCheck.check(released, evolved)).isEmpty();
  }

  @Test
  void removingAnEnumSymbolWithoutADefaultFailsForward() throws IOException {
    Schema released = fixture("fixtures/edge-v1.avsc");
    Schema broken = fixture("fixtures/edge-v2-new-symbol-no-default.avsc");
    assertThat(SchemaCompatibilityCheck.check(released, broken))
        .anySatisfy(p -> assertThat(p.toString()).contains("field status").contains("forward"));
  }

  @Test
  void currentRecordsDecodeWithEveryReleasedReaderSchema() {
    // The released baselines are what old readers hold: they must still read what we write.
    for (String release : SchemaHistory.releases()) {
      for (Topic<String, ?> topic : avroTopics()) {
        Schema current = ((AvroSerde<?>) topic.valueSerde()).schema();
        SchemaHistory.released(release, current.getFullName()).ifPresent(old ->
            assertThat(SchemaCompatibilityCheck.check(old, current))
                .as(release + " " + topic.name()).isEmpty());
      }
    }
  }

  /** The topics whose values are Avro records (all but the schema registry's). */
  private static List<Topic<String, ?>> avroTopics() {
    return Topics.ALL.stream().filter(t -> t.valueSerde() instanceof AvroSerde<?>).toList();
  }

  private static Schema fixture(String name) throws IOException {
    try (InputStream in = SchemaCompatibilityTest.class.getClassLoader().getResourceAsStream(name)) {
      return new Schema.Parser().parse(in);
    }
  }

  private static void writeRelease(String release) throws IOException {
    Path root = Path.of("src/main/resources", SchemaHistory.ROOT);
    Path dir = root.resolve(release);
    Files.createDirectories(dir);
    for (Topic<String, ?> topic : avroTopics()) {
      Schema schema = ((AvroSerde<?>) topic.valueSerde()).schema();
      Files.writeString(dir.resolve(schema.getFullName() + ".avsc"), schema.toString(true) + "\n");
    }
    Path index = root.resolve("index.txt");
    List<String> lines = Files.exists(index) ? new ArrayList<>(Files.readAllLines(index))
        : new ArrayList<>(List.of("# Released schema versions, oldest first.",
            "# Each folder holds the self-contained value schemas of that release."));
    if (!lines.contains(release)) {
      lines.add(release);
    }
    Files.write(index, lines);
  }
}
