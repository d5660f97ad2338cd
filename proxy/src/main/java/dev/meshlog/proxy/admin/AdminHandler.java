package dev.meshlog.proxy.admin;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import dev.meshlog.proxy.cluster.SnapshotHolder;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API: {@code /} (the index: every endpoint with one line of help, as Envoy's admin
 * home page lists its own), {@code /ready} (200 once a snapshot is in force), {@code /healthz},
 * {@code /config_dump}, {@code /clusters}, {@code /listeners} (the proxy's ports, and the
 * local port of each TCP destination) and {@code /stats/prometheus}. Read-only; answers on the
 * event loop from in-memory state, except the Prometheus page, which is written on a worker
 * thread and sent as it is written: with Istio's label set a sidecar calling 20 services with
 * three response codes each serves 3.2 MB, 14–100 ms of work (measured, session 13), which on
 * the event loop — a sidecar's only one, by default — would hold up every request meanwhile,
 * and a page built whole in memory grows with the label sets past any heap.
 */
public final class AdminHandler implements Handler<HttpServerRequest> {

  private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);
  /** The metrics page goes out in chunks of this size ... */
  static final int PAGE_CHUNK_BYTES = 64 * 1024;
  /**
   * ... at most this many at a time not yet written to the socket: 1 MB per scrape, so a
   * sidecar's page (≈53 KB per label set) is most often rendered whole and the worker free,
   * whether the scraper reads or not.
   */
  static final int PAGE_CHUNKS = 16;
  /**
   * A page not sent whole in this time is given up and its connection reset: Prometheus's
   * default {@code scrape_timeout}, after which the scraper has given up on it too.
   */
  static final Duration PAGE_DEADLINE = Duration.ofSeconds(10);

  private final SnapshotHolder holder;
  private final MeshMetrics metrics;
  private final BooleanSupplier ready;
  private final Clock clock;
  private final Supplier<JsonObject> listeners;
  private final List<Route> routes;
  private final Map<String, Route> byPath = new HashMap<>();
  /** The text index, made once: the routes do not change. */
  private final String indexText;
  /** The paths, for the 404's "expected". */
  private final String paths;

  /**
   * An admin API over {@code holder}.
   *
   * @param ready whether the proxy has the config it needs to serve
   */
  public AdminHandler(SnapshotHolder holder, MeshMetrics metrics, BooleanSupplier ready,
                      Clock clock) {
    this(holder, metrics, ready, clock, JsonObject::new);
  }

  /**
   * An admin API over {@code holder} whose {@code /listeners} shows what {@code listeners}
   * returns.
   */
  public AdminHandler(SnapshotHolder holder, MeshMetrics metrics, BooleanSupplier ready,
                      Clock clock, Supplier<JsonObject> listeners) {
    this.holder = holder;
    this.metrics = metrics;
    this.ready = ready;
    this.clock = clock;
    this.listeners = listeners;
    this.routes = routeTable();
    StringBuilder text = new StringBuilder();
    StringJoiner all = new StringJoiner(", ");
    for (Route r : routes) {
      byPath.put(r.path(), r);
      text.append(r.path()).append(": ").append(r.help()).append('\n');
      all.add(r.path());
    }
    this.indexText = text.toString();
    this.paths = all.toString();
  }

  /**
   * The Prometheus page, written on a worker thread and sent as it is written, so that its size
   * (≈53 KB per label set with Istio's labels: a gateway in front of 100 services with a few
   * response codes and flags each passes 50 MB) never has to fit in the sidecar's 64 MB heap.
   */
  private void prometheus(HttpServerRequest req) {
    HttpServerResponse response = req.response().setChunked(true)
        .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8");
    Context context = Vertx.currentContext();
    StreamedPage page = new StreamedPage(context, req, PAGE_CHUNK_BYTES, PAGE_CHUNKS,
        PAGE_DEADLINE);
    // A scraper that hangs up stops the writer at once (or a proxy shutting down).
    response.closeHandler(v -> page.abort(new IOException("the connection closed")));
    context.executeBlocking(() -> {
      metrics.scrape(page);
      page.close();
      return null;
    }, false).onFailure(e -> {
      if (!response.headWritten()) {
        page.answeredOtherwise();
        response.setChunked(false).setStatusCode(500).putHeader("content-type", "text/plain")
            .end("metrics: " + e + "\n");
      } else {
        // Part of the page went out: only a broken response tells the scraper it is partial.
        LOG.debug("metrics page not sent whole: {}", e.toString());
        response.reset();
      }
    });
  }

  /** One admin endpoint: its path, what it answers (one line), and how. */
  public record Route(String path, String help, Handler<HttpServerRequest> handler) { }

  /**
   * The endpoints, in the order the index lists them. The index ({@code /}) and the 404's list
   * are made from this table, so neither can miss an endpoint or name one that is gone.
   */
  private List<Route> routeTable() {
    return List.of(
        new Route("/", "this list: one line per admin endpoint (HTML with Accept: text/html)",
            this::index),
        new Route("/ready", "200 LIVE once a config snapshot is in force, else 503 (and while"
            + " draining)", req -> {
              boolean ok = ready.getAsBoolean();
              req.response().setStatusCode(ok ? 200 : 503).putHeader("content-type", "text/plain")
                  .end(ok ? "LIVE\n" : "not ready: no config yet, or draining\n");
            }),
        new Route("/healthz", "200 ok while the process runs",
            req -> req.response().putHeader("content-type", "text/plain").end("ok\n")),
        new Route("/config_dump", "the snapshot in force: services, routes, traffic policy and"
            + " view versions (JSON)",
            req -> req.response().putHeader("content-type", "application/json")
                .end(ConfigDump.config(holder.current()).encodePrettily())),
        new Route("/clusters", "upstream clusters: endpoints with health, locality and ejection"
            + " state (JSON)",
            req -> req.response().putHeader("content-type", "application/json")
                .end(ConfigDump.clusters(holder.current(), clock).encodePrettily())),
        new Route("/listeners", "the proxy's ports, and the local port of each TCP destination"
            + " (JSON)",
            req -> req.response().putHeader("content-type", "application/json")
                .end(listeners.get().encodePrettily())),
        new Route("/stats/prometheus", "Istio's standard metrics in Prometheus text format",
            this::prometheus));
  }

  /** The admin endpoints, in the index's order. */
  public List<Route> routes() {
    return routes;
  }

  /** The index: one {@code path: help} line per endpoint, or an HTML list when asked for. */
  private void index(HttpServerRequest req) {
    String accept = req.getHeader("accept");
    if (accept != null && accept.contains("text/html")) {
      StringBuilder html = new StringBuilder("<!DOCTYPE html>\n<html><head><title>meshlog proxy"
          + " admin</title></head><body>\n<h1>meshlog proxy admin</h1>\n<ul>\n");
      for (Route r : routes) {
        html.append("<li><a href=\"").append(r.path()).append("\">").append(r.path())
            .append("</a> ").append(escape(r.help())).append("</li>\n");
      }
      req.response().putHeader("content-type", "text/html; charset=utf-8")
          .end(html.append("</ul>\n</body></html>\n").toString());
      return;
    }
    req.response().putHeader("content-type", "text/plain; charset=utf-8").end(indexText);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  @Override
  public void handle(HttpServerRequest req) {
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      req.response().setStatusCode(405).putHeader("allow", "GET, HEAD").end();
      return;
    }
    Route route = byPath.get(req.path());
    if (route != null) {
      route.handler().handle(req);
      return;
    }
    req.response().setStatusCode(404).putHeader("content-type", "text/plain")
        .end("unknown admin path " + req.path() + " (expected: " + paths + ")\n");
  }
}
