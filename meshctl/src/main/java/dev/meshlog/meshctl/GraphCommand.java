package dev.meshlog.meshctl;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshctl graph [--window 1m] [-o table|json|dot]}: the service dependency graph from the
 * telemetry pipeline's query API (any instance answers for all), as a table of calls, the API's
 * JSON, or Graphviz dot. Edges that relayed TCP connections (the answer's {@code protocols}
 * holding {@code tcp}, their figures in {@code tcp}) are a second table, of connections and
 * bytes per second, and dashed edges of their own in dot; an edge of TCP alone is in no HTTP
 * row. When proxies reported lost request events in the range (the answer's
 * {@code lostReported}), the table is followed by a line saying how many and whose, and the dot
 * graph carries them as a comment and a graph label: the counts are short by that much.
 */
@Command(name = "graph",
    description = "Show who calls whom, with request rate, error rate and latency (TCP: "
        + "connections and bytes per second), from the telemetry pipeline.")
final class GraphCommand extends MeshctlCommand {

  /** Environment variable naming the telemetry pipeline's HTTP address. */
  static final String ENV_TELEMETRY_URL = "MESHLOG_TELEMETRY_URL";
  /** Where the telemetry pipeline listens by default. */
  static final String DEFAULT_URL = "http://127.0.0.1:8486";
  /** The local run's list of its addresses, beside {@link Bootstrap#FILE}. */
  static final String ENDPOINTS_FILE = "endpoints.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Output formats of the graph. */
  enum GraphFormat { table, json, dot }

  @Option(names = "--window", defaultValue = "1m", paramLabel = "DURATION",
      description = "How far back: 10s, 1m, 5m, 1h, ... (default: ${DEFAULT-VALUE})")
  String window;

  @Option(names = {"-o", "--output"}, defaultValue = "table",
      description = "table, json or dot (default: ${DEFAULT-VALUE})")
  GraphFormat output;

  @Option(names = "--telemetry-url", paramLabel = "URL",
      description = "The telemetry pipeline's HTTP address (default: $" + ENV_TELEMETRY_URL
          + ", else the local run's, from .meshlog-data/endpoints.json, else " + DEFAULT_URL + ")")
  String telemetryUrl;

  /**
   * The pipeline's address: the option, else {@code MESHLOG_TELEMETRY_URL}, else the
   * {@code telemetry} entry of the {@code endpoints.json} that {@code ./meshlog up} writes beside
   * {@code bootstrap.servers} (so a local run on other ports is found as its Kafka is), else
   * {@link #DEFAULT_URL}.
   */
  static String telemetryUrl(String option, Environment env) {
    if (option != null && !option.isBlank()) {
      return option.strip();
    }
    String fromEnv = env.get(ENV_TELEMETRY_URL);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv.strip();
    }
    for (Path file : Bootstrap.candidates(env)) {
      Path endpoints = file.resolveSibling(ENDPOINTS_FILE);
      try {
        if (Files.isRegularFile(endpoints)) {
          JsonNode url = JSON.readTree(endpoints.toFile()).path("telemetry");
          if (url.isTextual() && !url.asText().isBlank()) {
            return url.asText();
          }
        }
      } catch (IOException e) {
        // unreadable or half-written: try the next place
      }
    }
    return DEFAULT_URL;
  }

  /** Why a request failed, in words (the JDK's connection errors carry no message). */
  private static String reason(IOException e) {
    if (e instanceof java.net.ConnectException) {
      return "connection refused";
    }
    if (e instanceof java.net.http.HttpTimeoutException) {
      return "no answer in time";
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  @Override
  public Integer call() throws InterruptedException {
    String base = telemetryUrl(telemetryUrl, root().environment());
    URI uri = URI.create(base.replaceAll("/+$", "") + "/api/v1/graph?window=" + window);
    HttpResponse<String> response;
    try {
      response = HttpClient.newBuilder().connectTimeout(root().timeout).build().send(
          HttpRequest.newBuilder(uri).timeout(root().timeout).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      err().println("error: cannot reach the telemetry pipeline at " + base + " (" + reason(e)
          + "); pass --telemetry-url or set " + ENV_TELEMETRY_URL);
      return Meshctl.UNREACHABLE;
    }
    JsonNode graph;
    try {
      graph = JSON.readTree(response.body());
    } catch (IOException e) {
      err().println("error: " + uri + " answered HTTP " + response.statusCode() + " that is not JSON");
      return Meshctl.FAILED;
    }
    if (response.statusCode() != 200) {
      err().println("error: " + uri + ": HTTP " + response.statusCode() + ": " + graph.path("error").asText());
      return response.statusCode() == 400 ? Meshctl.USAGE : Meshctl.UNREACHABLE;
    }
    out().print(render(graph, output));
    for (JsonNode missing : graph.path("unreachable")) {
      err().println("warning: partial graph: no answer from " + missing.asText());
    }
    return Meshctl.OK;
  }

  /** The graph answer of the API in {@code format}. */
  static String render(JsonNode graph, GraphFormat format) {
    return switch (format) {
      case json -> Output.json(graph);
      case dot -> dot(graph);
      case table -> table(graph);
    };
  }

  private static String end(JsonNode end) {
    String version = end.path("version").asText();
    return name(end) + (version.isEmpty() ? "" : " " + version);
  }

  /**
   * {@code service.namespace}; the service alone when it has no namespace (a caller from outside
   * the mesh is {@code unknown}, not {@code unknown.}).
   */
  static String name(JsonNode node) {
    String namespace = node.path("namespace").asText();
    return node.path("service").asText() + (namespace.isEmpty() ? "" : "." + namespace);
  }

  static String table(JsonNode graph) {
    if (graph.path("edges").isEmpty()) {
      return "No traffic between " + graph.path("from").asText() + " and " + graph.path("to").asText() + ".\n"
          + losses(graph, "\n");
    }
    List<List<String>> rows = new ArrayList<>();
    List<List<String>> tcpRows = new ArrayList<>();
    for (JsonNode e : graph.path("edges")) {
      if (hasHttp(e)) {
        rows.add(List.of(end(e.path("source")), end(e.path("destination")),
            fmt("%.2f", e.path("requestsPerSecond").asDouble()), e.path("requests").asText(),
            fmt("%.1f%%", 100 * e.path("errorRate").asDouble()),
            fmt("%.1fms", e.path("p50Millis").asDouble()), fmt("%.1fms", e.path("p99Millis").asDouble())));
      }
      JsonNode tcp = e.path("tcp");
      if (tcp.isObject()) {
        tcpRows.add(List.of(end(e.path("source")), end(e.path("destination")), "tcp",
            tcp.path("connectionsOpened").asText(), tcp.path("connectionsClosed").asText(),
            tcp.path("failedConnections").asText(), bytesPerSecond(tcp.path("receivedBytesPerSecond").asDouble()),
            bytesPerSecond(tcp.path("sentBytesPerSecond").asDouble())));
      }
    }
    StringBuilder out = new StringBuilder();
    if (!rows.isEmpty()) {
      out.append(Output.table(List.of("SOURCE", "DESTINATION", "RPS", "REQUESTS", "ERRORS", "P50", "P99"), rows));
    }
    if (!tcpRows.isEmpty()) {
      out.append(rows.isEmpty() ? "" : "\n").append(Output.table(List.of("SOURCE", "DESTINATION", "PROTOCOL",
          "OPENED", "CLOSED", "FAILED", "RECEIVED/S", "SENT/S"), tcpRows));
    }
    return out + losses(graph, "\n");
  }

  /** Whether an edge of the answer carried requests: {@code protocols} has http (absent from pipelines before TCP: yes). */
  private static boolean hasHttp(JsonNode edge) {
    JsonNode protocols = edge.path("protocols");
    if (!protocols.isArray()) {
      return true;
    }
    for (JsonNode p : protocols) {
      if (p.asText().equals("http")) {
        return true;
      }
    }
    return false;
  }

  /** Bytes per second in decimal units: {@code 950B/s}, {@code 1.2KB/s}, {@code 34MB/s}. */
  static String bytesPerSecond(double bytes) {
    String[] units = {"B/s", "KB/s", "MB/s", "GB/s"};
    int i = 0;
    while (bytes >= 1000 && i < units.length - 1) {
      bytes /= 1000;
      i++;
    }
    return (i > 0 && bytes < 10 ? fmt("%.1f", bytes) : fmt("%.0f", bytes)) + units[i];
  }

  /**
   * The request events proxies reported lost in the range and whose they were, as one line
   * ending in {@code end}; empty when none were (or the pipeline predates the field).
   */
  static String losses(JsonNode graph, String end) {
    long lost = graph.path("lostReported").asLong(0);
    if (lost <= 0) {
      return "";
    }
    List<String> reporters = new ArrayList<>();
    for (JsonNode n : graph.path("nodes")) {
      n.path("lostReportedByVersion").fields().forEachRemaining(v -> reporters.add(
          name(n) + (v.getKey().isEmpty() ? "" : " " + v.getKey()) + ": " + v.getValue().asLong()));
    }
    return "LOST: " + lost + (lost == 1 ? " request event" : " request events")
        + " lost by proxies' telemetry " + (lost == 1 ? "is" : "are") + " not counted"
        + (reporters.isEmpty() ? "" : " (reported by " + String.join(", ", reporters) + ")") + end;
  }

  static String dot(JsonNode graph) {
    StringBuilder out = new StringBuilder("digraph mesh {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n");
    int cluster = 0;
    for (JsonNode n : graph.path("nodes")) {
      out.append("  subgraph \"cluster_").append(cluster++).append("\" {\n    label=\"")
          .append(name(n)).append("\";\n");
      for (JsonNode v : n.path("versions")) {
        String id = n.path("id").asText() + "/" + v.asText();
        out.append("    \"").append(id).append("\" [label=\"")
            .append(v.asText().isEmpty() ? n.path("service").asText() : v.asText()).append("\"];\n");
      }
      out.append("  }\n");
    }
    for (JsonNode e : graph.path("edges")) {
      if (hasHttp(e)) {
        double errorRate = e.path("errorRate").asDouble();
        String color = errorRate > 0.05 ? "red" : errorRate > 0.01 ? "orange" : "darkgreen";
        out.append("  \"").append(id(e.path("source"))).append("\" -> \"").append(id(e.path("destination")))
            .append("\" [label=\"").append(fmt("%.2f rps, %.1f%% err, p99 %.1fms", e.path("requestsPerSecond").asDouble(),
                100 * errorRate, e.path("p99Millis").asDouble()))
            .append("\", color=").append(color).append("];\n");
      }
      JsonNode tcp = e.path("tcp");
      if (tcp.isObject()) { // an edge of its own, dashed, as Kiali draws TCP
        double failureRate = tcp.path("failureRate").asDouble();
        String color = failureRate > 0.05 ? "red" : failureRate > 0.01 ? "orange" : "blue";
        long failed = tcp.path("failedConnections").asLong();
        out.append("  \"").append(id(e.path("source"))).append("\" -> \"").append(id(e.path("destination")))
            .append("\" [label=\"tcp ").append(bytesPerSecond(tcp.path("receivedBytesPerSecond").asDouble()
                + tcp.path("sentBytesPerSecond").asDouble()))
            .append(", ").append(tcp.path("connectionsOpened").asLong()).append(" conns")
            .append(failed > 0 ? ", " + failed + " failed" : "")
            .append("\", style=dashed, color=").append(color).append("];\n");
      }
    }
    String lost = losses(graph, "");
    if (!lost.isEmpty()) {
      out.append("  // ").append(lost).append('\n')
          .append("  label=\"").append(lost.replace("\"", "\\\"")).append("\";\n  labelloc=b;\n");
    }
    return out.append("}\n").toString();
  }

  private static String id(JsonNode end) {
    return end.path("namespace").asText() + "/" + end.path("service").asText() + "/" + end.path("version").asText();
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
