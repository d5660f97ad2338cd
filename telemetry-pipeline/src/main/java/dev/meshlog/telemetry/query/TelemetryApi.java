package dev.meshlog.telemetry.query;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.meshlog.telemetry.EdgeAggregation;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's HTTP API (Vert.x): the graph page, the query API, Prometheus exposition and the
 * internal endpoints instances query each other with. Every store read, merge and encoding runs
 * on a worker thread, never on the event loop.
 *
 * <ul>
 *   <li>{@code GET /} — the graph page; {@code GET /static/*} its scripts
 *   <li>{@code GET /api/v1/graph?window=1m} (or {@code from}/{@code to}) — {@link ServiceGraph}
 *   <li>{@code GET /api/v1/services/{ns}/{name}/edges?window=} — a service's inbound and outbound edges
 *   <li>{@code GET /api/v1/edges/{src}/{dst}/series?window=&step=} — one edge over time; {@code src}
 *       and {@code dst} are {@code service.namespace}
 *   <li>{@code GET /metrics} — Prometheus text of this instance's edges ({@code ?scope=cluster}: all instances')
 *   <li>{@code GET /internal/v1/windows}, {@code /internal/v1/totals} — this instance's share, binary
 *   <li>{@code GET /healthz} — 200 once the Streams app is attached
 * </ul>
 */
public final class TelemetryApi {

  private static final Logger LOG = LoggerFactory.getLogger(TelemetryApi.class);
  private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS);
  private static final Map<String, String> STATIC = Map.of(
      "/", "graph.html", "/static/cytoscape.min.js", "cytoscape.min.js", "/static/graph.js", "graph.js");

  private final Vertx vertx;
  private final Clock clock;
  private final EdgeAggregation aggregation;
  private final Map<String, Buffer> files;
  private volatile ClusterQueries queries;
  private HttpServer server;

  private TelemetryApi(Vertx vertx, Clock clock, EdgeAggregation aggregation, Map<String, Buffer> files) {
    this.vertx = vertx;
    this.clock = clock;
    this.aggregation = aggregation;
    this.files = files;
  }

  /**
   * Starts listening; queries answer 503 until {@link #attach} gives them the Streams app
   * (which needs this server's port for its {@code application.server} first).
   *
   * @param port 0 for any free port
   */
  public static Future<TelemetryApi> start(Vertx vertx, String host, int port, Clock clock,
                                           EdgeAggregation aggregation) {
    return vertx.executeBlocking(TelemetryApi::loadFiles).compose(files -> {
      TelemetryApi api = new TelemetryApi(vertx, clock, aggregation, files);
      return vertx.createHttpServer().requestHandler(api::handle).listen(port, host).map(s -> {
        api.server = s;
        return api;
      });
    });
  }

  private static Map<String, Buffer> loadFiles() {
    Map<String, Buffer> files = new java.util.HashMap<>();
    STATIC.forEach((path, name) -> {
      try (InputStream in = TelemetryApi.class.getResourceAsStream("/meshlog/telemetry/" + name)) {
        if (in != null) {
          files.put(path, Buffer.buffer(in.readAllBytes()));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    return files;
  }

  /** Gives the API the cluster to query. */
  public void attach(ClusterQueries queries) {
    this.queries = queries;
  }

  /** The port it listens on. */
  public int port() {
    return server.actualPort();
  }

  /** Stops listening. */
  public Future<Void> close() {
    ClusterQueries q = queries;
    return (q == null ? Future.<Void>succeededFuture() : q.close()).compose(v -> server.close());
  }

  private void handle(HttpServerRequest req) {
    if (req.method() != HttpMethod.GET) {
      error(req, 405, "method: " + req.method() + " (expected: GET)");
      return;
    }
    String path = req.path();
    Buffer file = files.get(path);
    if (file != null) {
      String type = path.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/html; charset=utf-8";
      req.response().putHeader("content-type", type).end(file);
      return;
    }
    if (path.equals("/healthz")) {
      if (queries == null) {
        error(req, 503, "starting");
      } else {
        req.response().end("ok\n");
      }
      return;
    }
    ClusterQueries q = queries;
    if (q == null) {
      error(req, 503, "the pipeline is starting; retry shortly");
      return;
    }
    try {
      route(req, q, path);
    } catch (IllegalArgumentException e) {
      error(req, 400, e.getMessage());
    } catch (RuntimeException e) {
      fail(req, e);
    }
  }

  private void route(HttpServerRequest req, ClusterQueries q, String path) {
    String[] parts = path.substring(1).split("/");
    for (int i = 0; i < parts.length; i++) {
      parts[i] = java.net.URLDecoder.decode(parts[i], java.nio.charset.StandardCharsets.UTF_8);
    }
    if (path.equals("/api/v1/graph")) {
      TimeRange range = range(req);
      java.util.Set<String> namespaces = namespaces(req);
      json(req, q.windows(range.windowSize(clock.instant()), range.from(), range.to(), EdgeFilter.ALL)
          .compose(g -> vertx.executeBlocking(() -> ServiceGraph.of(inNamespaces(g.metrics(), namespaces),
              range.from(), range.to(), aggregation, g.unreachable()), false)));
    } else if (parts.length == 6 && path.startsWith("/api/v1/services/") && parts[5].equals("edges")) {
      String service = serviceId("service", parts[3] + "/" + parts[4]);
      TimeRange range = range(req);
      json(req, q.windows(range.windowSize(clock.instant()), range.from(), range.to(), new EdgeFilter(null, null, service))
          .compose(g -> vertx.executeBlocking(() -> ServiceGraph.of(g.metrics(), range.from(),
              range.to(), aggregation, g.unreachable()).edgesOf(service), false)));
    } else if (parts.length == 6 && path.startsWith("/api/v1/edges/") && parts[5].equals("series")) {
      String source = serviceId("src", parts[3]);
      String destination = serviceId("dst", parts[4]);
      TimeRange range = range(req);
      String step = req.getParam("step");
      Duration size = step == null ? range.windowSize(clock.instant()) : TimeRange.duration("step", step);
      if (!dev.meshlog.telemetry.TelemetryTopology.WINDOW_STORES.containsKey(size)) {
        throw new IllegalArgumentException("step: " + step + " (expected: 10s or 1m)");
      }
      range.checkStep(size, clock.instant());
      json(req, q.windows(size, range.from(), range.to(), new EdgeFilter(source, destination, null))
          .compose(g -> vertx.executeBlocking(() -> EdgeSeries.of(source, destination, size,
              g.metrics(), aggregation, g.unreachable()), false)));
    } else if (path.equals("/metrics")) {
      boolean cluster = clusterScope(req.getParam("scope"));
      Future<List<dev.meshlog.events.telemetry.EdgeMetrics>> totals = cluster
          ? q.totals(EdgeFilter.ALL).map(ClusterQueries.Gathered::metrics)
          : vertx.executeBlocking(() -> q.local().totals(EdgeFilter.ALL), false);
      totals.compose(t -> vertx.executeBlocking(() -> PrometheusText.of(t), false))
          .onSuccess(text -> req.response().putHeader("content-type", PrometheusText.CONTENT_TYPE).end(text))
          .onFailure(e -> fail(req, e));
    } else if (path.equals("/internal/v1/windows")) {
      Duration size = windowSizeMillis(req.getParam("size"));
      Instant from = epochMillis("from", req.getParam("from"));
      Instant to = epochMillis("to", req.getParam("to"));
      if (from.isAfter(to)) {
        throw new IllegalArgumentException("from: " + from.toEpochMilli() + " (expected: at most to, "
            + to.toEpochMilli() + ")");
      }
      EdgeFilter filter = filter(req);
      share(req, vertx.executeBlocking(() -> q.local().windowsByPartition(size, from, to, filter), false));
    } else if (path.equals("/internal/v1/totals")) {
      EdgeFilter filter = filter(req);
      share(req, vertx.executeBlocking(() -> q.local().totalsByPartition(filter), false));
    } else {
      error(req, 404, "no such resource: " + path);
    }
  }

  private TimeRange range(HttpServerRequest req) {
    return TimeRange.parse(req.getParam("window"), req.getParam("from"), req.getParam("to"), clock.instant());
  }

  private static EdgeFilter filter(HttpServerRequest req) {
    return new EdgeFilter(serviceIdOrNull("source", req.getParam("source")),
        serviceIdOrNull("destination", req.getParam("destination")),
        serviceIdOrNull("service", req.getParam("service")));
  }

  /** {@code /metrics}' {@code scope}: none for this instance's own edges, {@code cluster} for all. */
  static boolean clusterScope(String scope) {
    if (scope == null) {
      return false;
    }
    if (!scope.equals("cluster")) {
      throw new IllegalArgumentException("scope: " + shown(scope)
          + " (expected: cluster, or no scope for this instance's own edges)");
    }
    return true;
  }

  /** The internal API's {@code size}: a window size of one of the stores, in milliseconds. */
  static Duration windowSizeMillis(String text) {
    String expected = "size: " + shown(text) + " (expected: a window size in milliseconds, one of "
        + dev.meshlog.telemetry.TelemetryTopology.WINDOW_STORES.keySet().stream().map(Duration::toMillis)
            .sorted().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")) + ")";
    if (text == null) {
      throw new IllegalArgumentException(expected);
    }
    try {
      Duration size = Duration.ofMillis(Long.parseLong(text));
      if (dev.meshlog.telemetry.TelemetryTopology.WINDOW_STORES.containsKey(size)) {
        return size;
      }
    } catch (NumberFormatException e) {
      // below: the same message
    }
    throw new IllegalArgumentException(expected);
  }

  /** The internal API's {@code from} and {@code to}: epoch milliseconds, at least 0. */
  static Instant epochMillis(String name, String text) {
    String expected = name + ": " + shown(text) + " (expected: epoch milliseconds, e.g. 1764000000000)";
    if (text == null) {
      throw new IllegalArgumentException(expected);
    }
    try {
      long millis = Long.parseLong(text);
      if (millis >= 0) {
        return Instant.ofEpochMilli(millis);
      }
    } catch (NumberFormatException e) {
      // below: the same message
    }
    throw new IllegalArgumentException(expected);
  }

  /** A filter's service ({@code namespace/service}), or null when not given. */
  static String serviceIdOrNull(String name, String text) {
    return text == null ? null : serviceId(name, text);
  }

  /** A parameter's value as an error message shows it: "missing", or at most 100 characters. */
  static String shown(String value) {
    if (value == null) {
      return "missing";
    }
    return value.length() <= 100 ? value : value.substring(0, 100) + "… (" + value.length() + " characters)";
  }

  /**
   * The graph's {@code namespace} filter, as Kiali's: {@code ?namespace=a,b} (or repeated) keeps
   * the edges with either end in one of them; none given, every edge.
   */
  static java.util.Set<String> namespaces(HttpServerRequest req) {
    java.util.Set<String> namespaces = new java.util.TreeSet<>();
    for (String value : req.params().getAll("namespace")) {
      for (String ns : value.split(",", -1)) {
        if (ns.isBlank() || ns.length() > 1024) {
          throw new IllegalArgumentException("namespace: '" + value
              + "' (expected: namespace names separated by commas, e.g. default,shop)");
        }
        namespaces.add(ns.strip());
      }
    }
    return namespaces;
  }

  /** The edges of {@code metrics} with either end in one of {@code namespaces} (all when empty). */
  static List<dev.meshlog.events.telemetry.EdgeMetrics> inNamespaces(
      List<dev.meshlog.events.telemetry.EdgeMetrics> metrics, java.util.Set<String> namespaces) {
    if (namespaces.isEmpty()) {
      return metrics;
    }
    return metrics.stream().filter(m -> namespaces.contains(m.getSource().getNamespace().toString())
        || namespaces.contains(m.getDestination().getNamespace().toString())).toList();
  }

  /** {@code reviews.default} (Istio's short host) or {@code default/reviews} to {@code default/reviews}. */
  static String serviceId(String name, String text) {
    int slash = text.indexOf('/');
    if (slash >= 0) {
      if (slash == 0 || slash == text.length() - 1 || text.indexOf('/', slash + 1) >= 0) {
        throw new IllegalArgumentException(name + ": " + shown(text)
            + " (expected: namespace/service or service.namespace, e.g. default/reviews)");
      }
      return text;
    }
    int dot = text.lastIndexOf('.');
    if (dot <= 0 || dot == text.length() - 1) {
      throw new IllegalArgumentException(name + ": " + shown(text) + " (expected: service.namespace, e.g. reviews.default)");
    }
    return text.substring(dot + 1) + "/" + text.substring(0, dot);
  }

  private void json(HttpServerRequest req, Future<?> result) {
    result.compose(value -> vertx.executeBlocking(() -> JSON.writeValueAsBytes(value), false))
        .onSuccess(bytes -> req.response().putHeader("content-type", "application/json").end(Buffer.buffer(bytes)))
        .onFailure(e -> fail(req, e));
  }

  /** This instance's share for another instance: the aggregates, and the partitions they cover in a header. */
  private void share(HttpServerRequest req, Future<LocalStores.Share> result) {
    result.compose(share -> vertx.executeBlocking(() -> HttpUtil.encodeAll(share.metrics()), false)
            .onSuccess(bytes -> req.response().putHeader("content-type", "application/octet-stream")
                .putHeader(ClusterQueries.PARTITIONS_HEADER, ClusterQueries.partitionsHeader(share.partitions()))
                .putHeader(ClusterQueries.PARTITION_RECORDS_HEADER, ClusterQueries.partitionRecordsHeader(share))
                .end(Buffer.buffer(bytes))))
        .onFailure(e -> fail(req, e));
  }

  private static void fail(HttpServerRequest req, Throwable e) {
    if (e instanceof InvalidStateStoreException) {
      error(req, 503, "state stores are not ready (rebalancing or restoring): " + e.getMessage());
    } else if (e instanceof IllegalArgumentException) {
      error(req, 400, e.getMessage());
    } else {
      LOG.warn("query {} failed", req.uri(), e);
      error(req, 500, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  private static void error(HttpServerRequest req, int status, String message) {
    if (req.response().ended()) {
      return;
    }
    String body;
    try {
      body = JSON.writeValueAsString(Map.of("error", String.valueOf(message)));
    } catch (JsonProcessingException e) {
      body = "{\"error\":\"?\"}";
    }
    req.response().setStatusCode(status).putHeader("content-type", "application/json").end(body);
  }
}
