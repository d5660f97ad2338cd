package dev.meshlog.telemetry.query;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.meshlog.events.telemetry.EdgeMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Interactive queries across every instance of the pipeline: this instance reads its own stores
 * (on a worker thread) and asks every other instance (found through Kafka Streams'
 * {@code application.server} metadata) for its share over HTTP, then the answers are put
 * together. Each edge lives in one partition, so no aggregate is counted twice; sketches travel
 * whole, so merging them is exact. An instance that does not answer is named in the result
 * instead of failing the query.
 */
public final class ClusterQueries {

  /** What the instances answered. */
  public record Gathered(List<EdgeMetrics> metrics, List<String> unreachable) {}

  private final Vertx vertx;
  private final KafkaStreams streams;
  private final HostInfo self;
  private final HttpClient client;
  private final LocalStores local;
  private final Duration timeout;

  /**
   * @param self this instance's {@code application.server}
   * @param timeout how long to wait for another instance
   */
  public ClusterQueries(Vertx vertx, KafkaStreams streams, HostInfo self, Duration timeout) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.streams = Objects.requireNonNull(streams, "streams");
    this.self = Objects.requireNonNull(self, "self");
    this.client = vertx.createHttpClient();
    this.local = new LocalStores(streams);
    this.timeout = timeout;
  }

  /** This instance's stores. */
  public LocalStores local() {
    return local;
  }

  /** Windows of {@code size} starting in {@code [from, to]} from every instance. */
  public Future<Gathered> windows(Duration size, Instant from, Instant to, EdgeFilter filter) {
    String uri = "/internal/v1/windows?size=" + size.toMillis() + "&from=" + from.toEpochMilli()
        + "&to=" + to.toEpochMilli() + filter.queryString();
    return gather(vertx.executeBlocking(() -> local.windows(size, from, to, filter), false), uri);
  }

  /** Every edge's totals from every instance. */
  public Future<Gathered> totals(EdgeFilter filter) {
    String uri = "/internal/v1/totals?" + filter.queryString();
    return gather(vertx.executeBlocking(() -> local.totals(filter), false), uri);
  }

  /** The other instances, as their {@code application.server} says. */
  public List<HostInfo> peers() {
    List<HostInfo> peers = new ArrayList<>();
    for (StreamsMetadata m : streams.metadataForAllStreamsClients()) {
      if (!m.hostInfo().equals(self) && !peers.contains(m.hostInfo())) {
        peers.add(m.hostInfo());
      }
    }
    return peers;
  }

  private Future<Gathered> gather(Future<List<EdgeMetrics>> mine, String uri) {
    List<HostInfo> peers = peers();
    List<Future<List<EdgeMetrics>>> theirs = new ArrayList<>();
    List<String> unreachable = new ArrayList<>();
    for (HostInfo peer : peers) {
      theirs.add(fetch(peer, uri).recover(e -> {
        synchronized (unreachable) {
          unreachable.add(peer.host() + ":" + peer.port() + " (" + e.getMessage() + ")");
        }
        return Future.succeededFuture(List.of());
      }));
    }
    List<Future<?>> all = new ArrayList<>(theirs);
    all.add(mine);
    return Future.all(all).map(done -> {
      List<EdgeMetrics> metrics = new ArrayList<>(mine.result());
      theirs.forEach(f -> metrics.addAll(f.result()));
      List<String> missing;
      synchronized (unreachable) {
        missing = List.copyOf(unreachable);
      }
      return new Gathered(metrics, missing);
    });
  }

  private Future<List<EdgeMetrics>> fetch(HostInfo peer, String uri) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost(peer.host())
        .setPort(peer.port()).setURI(uri).setConnectTimeout(timeout.toMillis())
        .setIdleTimeout(timeout.toMillis());
    // the body is asked for inside send()'s own callback: chained after it instead, the
    // callback may run as a later task and a body that came with the head is lost (an empty 200;
    // eclipse-vertx/vert.x#4705, proxy/README.md "Tests")
    return client.request(options)
        .compose(req -> req.send().compose(resp -> resp.body().compose(body ->
            resp.statusCode() == 200
                ? Future.succeededFuture(body.getBytes())
                : Future.failedFuture("HTTP " + resp.statusCode() + ": " + body.toString().strip()))))
        .compose(bytes -> vertx.executeBlocking(() -> HttpUtil.decodeAll(bytes), false));
  }

  /** Closes the HTTP client. */
  public Future<Void> close() {
    return client.close();
  }
}
