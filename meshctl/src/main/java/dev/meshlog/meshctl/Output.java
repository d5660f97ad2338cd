package dev.meshlog.meshctl;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.meshlog.config.client.Outcome;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.FieldError;
import dev.meshlog.events.config.Operation;

/** How meshctl prints: kubectl-style result lines, field errors, tables, YAML and JSON. */
final class Output {

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .disable(YAMLGenerator.Feature.SPLIT_LINES));

  private Output() {}

  /** kubectl's name of a resource: {@code virtualservice.networking.istio.io/reviews}. */
  static String kubectlName(ResourceId id) {
    String type = Kind.byName(id.kind())
        .map(k -> k.kindName().toLowerCase(Locale.ROOT) + "." + k.group())
        .orElse(id.kind().toLowerCase(Locale.ROOT));
    return type + "/" + id.name();
  }

  /**
   * The line for an accepted command: {@code virtualservice.networking.istio.io/reviews
   * configured (revision 3)}, {@code created}, {@code unchanged}, {@code deleted},
   * {@code rolled back to revision 1}.
   */
  static String resultLine(Outcome outcome) {
    String name = kubectlName(outcome.resource());
    String what = switch (outcome.changeType()) {
      case CREATED -> "created";
      case UPDATED -> "configured";
      case DELETED -> "deleted";
      case UNCHANGED -> "unchanged";
      default -> outcome.changeType().name().toLowerCase(Locale.ROOT);
    };
    Long rolledBackTo = outcome.event().getRolledBackToRevision();
    if (outcome.command().getOperation() == Operation.ROLLBACK) {
      Long target = outcome.command().getRollbackToRevision();
      what = switch (outcome.changeType()) {
        case UNCHANGED -> "unchanged (already at the spec of revision " + target + ")";
        default -> "rolled back to revision " + (rolledBackTo != null ? rolledBackTo : target);
      };
    }
    return name + " " + what + " (revision " + outcome.revision() + ")";
  }

  /**
   * The lines for a rejected command, one per field error:
   * {@code VirtualService/default/reviews: spec.http[0].route[1].weight: 120 (expected: 0..100)}.
   */
  static List<String> errorLines(Outcome outcome) {
    String resource = outcome.resource().key();
    if (outcome.errors().isEmpty()) {
      return List.of(resource + ": rejected (" + outcome.reason() + ")");
    }
    List<String> lines = new ArrayList<>();
    for (FieldError error : outcome.errors()) {
      lines.add(errorLine(resource, error.getPath(), error.getMessage()));
    }
    return lines;
  }

  /**
   * {@code resource: path: message}; a message that starts by naming the field again
   * ({@code weight: 120 (expected: 0..100)} at {@code ...route[1].weight}) is not repeated.
   */
  static String errorLine(String resource, String path, String message) {
    String field = lastField(path);
    String text = message;
    if (!field.isEmpty() && message.startsWith(field + ": ")) {
      text = message.substring(field.length() + 2);
    }
    return (resource == null || resource.isEmpty() ? "" : resource + ": ")
        + (path == null || path.isEmpty() ? "" : path + ": ") + text;
  }

  private static String lastField(String path) {
    if (path == null) {
      return "";
    }
    String last = path.substring(path.lastIndexOf('.') + 1);
    int bracket = last.indexOf('[');
    return bracket >= 0 ? last.substring(0, bracket) : last;
  }

  /** Where a change came from, short: {@code cli}, {@code api}, {@code git 4f2a9c1 mesh/vs.yaml}. */
  static String source(ChangeSource source) {
    if (source == null) {
      return "";
    }
    String type = source.getType().name().toLowerCase(Locale.ROOT);
    StringBuilder text = new StringBuilder(type);
    if (source.getCommitId() != null) {
      text.append(' ').append(source.getCommitId(), 0, Math.min(7, source.getCommitId().length()));
    }
    if (source.getPath() != null) {
      text.append(' ').append(source.getPath());
    }
    return text.toString();
  }

  /** kubectl-style age: {@code 45s}, {@code 12m}, {@code 5h}, {@code 3d}. */
  static String age(Instant then, Instant now) {
    if (then == null) {
      return "<unknown>";
    }
    Duration age = Duration.between(then, now);
    if (age.isNegative()) {
      age = Duration.ZERO;
    }
    if (age.toSeconds() < 120) {
      return age.toSeconds() + "s";
    }
    if (age.toMinutes() < 120) {
      return age.toMinutes() + "m";
    }
    if (age.toHours() < 48) {
      return age.toHours() + "h";
    }
    return age.toDays() + "d";
  }

  /** A time for tables: ISO-8601 UTC to the second. */
  static String time(Instant time) {
    return time == null ? "" : time.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** A duration for people: {@code 340ms}, {@code 2.4s}, {@code 3m5s}. */
  static String duration(Duration duration) {
    long millis = duration.toMillis();
    if (millis < 1000) {
      return millis + "ms";
    }
    if (millis < 60_000) {
      return millis % 1000 == 0 ? millis / 1000 + "s"
          : String.format(Locale.ROOT, "%.1fs", millis / 1000.0);
    }
    return duration.toMinutes() + "m" + duration.toSecondsPart() + "s";
  }

  /** Left-aligned columns separated by three spaces, kubectl-style; no trailing spaces. */
  static String table(List<String> headers, List<List<String>> rows) {
    int[] widths = new int[headers.size()];
    for (int i = 0; i < headers.size(); i++) {
      widths[i] = headers.get(i).length();
    }
    for (List<String> row : rows) {
      for (int i = 0; i < row.size() && i < widths.length; i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    StringBuilder out = new StringBuilder();
    appendRow(out, headers, widths);
    rows.forEach(row -> appendRow(out, row, widths));
    return out.toString();
  }

  private static void appendRow(StringBuilder out, List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        line.append("   ");
      }
      String cell = cells.get(i) == null ? "" : cells.get(i);
      line.append(cell);
      if (i < cells.size() - 1) {
        line.append(" ".repeat(Math.max(0, widths[i] - cell.length())));
      }
    }
    out.append(line.toString().stripTrailing()).append('\n');
  }

  /** Pretty JSON. */
  static String json(JsonNode node) {
    try {
      return JSON.writeValueAsString(node) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** YAML documents, each starting with {@code ---}. */
  static String yaml(List<? extends JsonNode> documents) {
    StringBuilder out = new StringBuilder();
    for (JsonNode document : documents) {
      try {
        out.append(YAML.writeValueAsString(document));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
    return out.toString();
  }
}
