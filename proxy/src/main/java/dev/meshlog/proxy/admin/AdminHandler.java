package dev.meshlog.proxy.admin;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
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
 * The admin API: {@code /ready} (200 once a snapshot is in force), {@code /healthz},
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

  @Override
  public void handle(HttpServerRequest req) {
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      req.response().setStatusCode(405).putHeader("allow", "GET, HEAD").end();
      return;
    }
    switch (req.path()) {
      case "/ready" -> {
        boolean ok = ready.getAsBoolean();
        req.response().setStatusCode(ok ? 200 : 503).putHeader("content-type", "text/plain")
            .end(ok ? "LIVE\n" : "not ready: no config yet, or draining\n");
      }
      case "/healthz" -> req.response().putHeader("content-type", "text/plain").end("ok\n");
      case "/config_dump" -> req.response().putHeader("content-type", "application/json")
          .end(ConfigDump.config(holder.current()).encodePrettily());
      case "/clusters" -> req.response().putHeader("content-type", "application/json")
          .end(ConfigDump.clusters(holder.current(), clock).encodePrettily());
      case "/listeners" -> req.response().putHeader("content-type", "application/json")
          .end(listeners.get().encodePrettily());
      case "/stats/prometheus" -> prometheus(req);
      default -> req.response().setStatusCode(404).putHeader("content-type", "text/plain")
          .end("unknown admin path " + req.path()
              + " (expected: /ready, /healthz, /config_dump, /clusters, /listeners,"
              + " /stats/prometheus)\n");
    }
  }
}
