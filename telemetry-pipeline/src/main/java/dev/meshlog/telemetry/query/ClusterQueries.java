package dev.meshlog.telemetry.query;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.schemas.Topics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.apache.kafka.common.TopicPartition;
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

  /**
   * What the instances answered. {@code unreachable} names each instance that did not answer and,
   * when no instance answered for some input partitions (their tasks moving in a rebalance, or
   * their instance unreachable), those partitions: the answer is whole only when it is empty.
   */
  public record Gathered(List<EdgeMetrics> metrics, List<String> unreachable) {}

  /** Response header of the internal endpoints: the input partitions the answer covers ({@code 0,3,7}). */
  public static final String PARTITIONS_HEADER = "meshlog-partitions";

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
    return gather(vertx.executeBlocking(() -> local.windowsByPartition(size, from, to, filter), false), uri);
  }

  /** Every edge's totals from every instance. */
  public Future<Gathered> totals(EdgeFilter filter) {
    String uri = "/internal/v1/totals?" + filter.queryString();
    return gather(vertx.executeBlocking(() -> local.totalsByPartition(filter), false), uri);
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

  private Future<Gathered> gather(Future<LocalStores.Share> mine, String uri) {
    List<HostInfo> peers = peers();
    List<Future<LocalStores.Share>> theirs = new ArrayList<>();
    List<String> unreachable = new ArrayList<>();
    for (HostInfo peer : peers) {
      theirs.add(fetch(peer, uri).recover(e -> {
        synchronized (unreachable) {
          unreachable.add(peer.host() + ":" + peer.port() + " (" + e.getMessage() + ")");
        }
        return Future.succeededFuture(new LocalStores.Share(List.of(), Set.of()));
      }));
    }
    List<Future<?>> all = new ArrayList<>(theirs);
    all.add(mine);
    return Future.all(all).map(done -> {
      List<EdgeMetrics> metrics = new ArrayList<>(mine.result().metrics());
      Set<Integer> answered = new TreeSet<>(mine.result().partitions());
      theirs.forEach(f -> {
        metrics.addAll(f.result().metrics());
        answered.addAll(f.result().partitions());
      });
      List<String> missing;
      synchronized (unreachable) {
        missing = new ArrayList<>(unreachable);
      }
      missingPartitions(partitionCount(answered), answered).ifPresent(missing::add);
      return new Gathered(metrics, List.copyOf(missing));
    });
  }

  /**
   * How many input partitions there are: the registry's count, or more if an instance has or
   * answered a partition beyond it (the topic was grown).
   */
  private int partitionCount(Set<Integer> answered) {
    int max = Topics.TELEMETRY_REQUESTS.partitions() - 1;
    for (StreamsMetadata m : streams.metadataForAllStreamsClients()) {
      for (TopicPartition tp : m.topicPartitions()) {
        if (tp.topic().equals(Topics.TELEMETRY_REQUESTS.name())) {
          max = Math.max(max, tp.partition());
        }
      }
    }
    for (int p : answered) {
      max = Math.max(max, p);
    }
    return max + 1;
  }

  /**
   * The entry of {@link Gathered#unreachable} naming the input partitions among {@code 0..count-1}
   * that no instance answered for, if any.
   */
  static Optional<String> missingPartitions(int count, Set<Integer> answered) {
    List<Integer> missing = new ArrayList<>();
    for (int p = 0; p < count; p++) {
      if (!answered.contains(p)) {
        missing.add(p);
      }
    }
    if (missing.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of("partitions " + missing.stream().map(String::valueOf).collect(Collectors.joining(","))
        + " of " + count + " of " + Topics.TELEMETRY_REQUESTS.name()
        + " (no instance answered for them: moving in a rebalance, or on an instance that did not answer)");
  }

  /** {@code header}'s partitions ({@code 0,3,7}); empty for an empty header. */
  static Set<Integer> partitionsOf(String header) {
    Set<Integer> partitions = new TreeSet<>();
    for (String p : header.split(",")) {
      if (!p.isBlank()) {
        partitions.add(Integer.parseInt(p.strip()));
      }
    }
    return partitions;
  }

  /** {@code partitions} as {@link #PARTITIONS_HEADER} carries them. */
  public static String partitionsHeader(Set<Integer> partitions) {
    return new TreeSet<>(partitions).stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  /** What the metadata says {@code peer} holds, for a peer of a release without {@link #PARTITIONS_HEADER}. */
  private Set<Integer> metadataPartitions(HostInfo peer) {
    Set<Integer> partitions = new TreeSet<>();
    for (StreamsMetadata m : streams.metadataForAllStreamsClients()) {
      if (m.hostInfo().equals(peer)) {
        m.topicPartitions().stream().filter(tp -> tp.topic().equals(Topics.TELEMETRY_REQUESTS.name()))
            .forEach(tp -> partitions.add(tp.partition()));
      }
    }
    return partitions;
  }

  private Future<LocalStores.Share> fetch(HostInfo peer, String uri) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost(peer.host())
        .setPort(peer.port()).setURI(uri).setConnectTimeout(timeout.toMillis())
        .setIdleTimeout(timeout.toMillis());
    // the body is asked for inside send()'s own callback: chained after it instead, the
    // callback may run as a later task and a body that came with the head is lost (an empty 200;
    // eclipse-vertx/vert.x#4705, proxy/README.md "Tests")
    return client.request(options)
        .compose(req -> req.send().compose(resp -> resp.body().compose(body -> {
          if (resp.statusCode() != 200) {
            return Future.failedFuture("HTTP " + resp.statusCode() + ": " + body.toString().strip());
          }
          String header = resp.getHeader(PARTITIONS_HEADER);
          Set<Integer> partitions;
          try {
            partitions = header == null ? metadataPartitions(peer) : partitionsOf(header);
          } catch (NumberFormatException e) {
            return Future.failedFuture(PARTITIONS_HEADER + ": '" + header + "' (expected: partitions, e.g. 0,3,7)");
          }
          return vertx.executeBlocking(() -> new LocalStores.Share(HttpUtil.decodeAll(body.getBytes()), partitions), false);
        })));
  }

  /** Closes the HTTP client. */
  public Future<Void> close() {
    return client.close();
  }
}
