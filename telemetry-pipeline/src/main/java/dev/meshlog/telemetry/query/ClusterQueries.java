package dev.meshlog.telemetry.query;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
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
 * together, each input partition once: during a rebalance two instances can both answer for a
 * partition (the old owner from its stores, the new one already restored), and only one answer's
 * aggregates of it are taken ({@link #merge}). Sketches travel whole, so merging them is exact. An
 * instance that does not answer is named in the result instead of failing the query.
 */
public final class ClusterQueries {

  /**
   * What the instances answered. {@code unreachable} names each instance that did not answer and,
   * when no instance answered for some input partitions (their tasks moving in a rebalance, or
   * their instance unreachable), those partitions: the answer is whole only when it is empty.
   * {@code answeredTwice} names each partition more than one instance answered for and whose
   * answer was taken (the answer is whole all the same: each partition is counted once).
   */
  public record Gathered(List<EdgeMetrics> metrics, List<String> unreachable, List<String> answeredTwice) {}

  /** Response header of the internal endpoints: the input partitions the answer covers ({@code 0,3,7}). */
  public static final String PARTITIONS_HEADER = "meshlog-partitions";

  /**
   * Response header of the internal endpoints: how many of the body's aggregates each partition
   * has, in the body's order ({@code 0:5,3:0,7:2}), so that the receiver can take each partition
   * from one instance. Releases before it send {@link #PARTITIONS_HEADER} alone; their answers
   * are merged whole, as then.
   */
  public static final String PARTITION_RECORDS_HEADER = "meshlog-partition-records";

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClusterQueries.class);

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
          unreachable.add(name(peer) + " (" + e.getMessage() + ")");
        }
        return Future.succeededFuture(new LocalStores.Share(List.of()));
      }));
    }
    List<Future<?>> all = new ArrayList<>(theirs);
    all.add(mine);
    return Future.all(all).map(done -> {
      List<Answer> answers = new ArrayList<>();
      answers.add(new Answer(name(self), mine.result()));
      for (int i = 0; i < peers.size(); i++) {
        answers.add(new Answer(name(peers.get(i)), theirs.get(i).result()));
      }
      Merged merged = merge(answers, activeOwners());
      if (!merged.answeredTwice().isEmpty()) {
        LOG.info("query {}: {}", uri, merged.answeredTwice());
      }
      List<String> missing;
      synchronized (unreachable) {
        missing = new ArrayList<>(unreachable);
      }
      missingPartitions(partitionCount(merged.answered()), merged.answered()).ifPresent(missing::add);
      return new Gathered(merged.metrics(), List.copyOf(missing), merged.answeredTwice());
    });
  }

  private static String name(HostInfo host) {
    return host.host() + ":" + host.port();
  }

  /** One instance's answer: its {@code host:port} and its share. */
  record Answer(String instance, LocalStores.Share share) {}

  /**
   * The merged answers: the aggregates with each partition's taken once, the partitions answered
   * for, and a line for each partition answered more than once.
   */
  record Merged(List<EdgeMetrics> metrics, Set<Integer> answered, List<String> answeredTwice) {}

  /**
   * Puts the instances' answers together, each input partition once. A partition's aggregates
   * come from one answer: that of the instance Kafka Streams' metadata names as its active owner
   * ({@code activeOwners}: partition to {@code host:port}; after a rebalance the metadata names
   * the new owner, whose stores are restored and go on counting, while the old one answers from
   * stores it is giving up), else the first answer claiming it ({@code answers} in order: this
   * instance's first). An answer of a release before the per-partition split is one part of
   * several partitions that cannot be taken apart: it is taken whole, as before, and the other
   * answers' parts of its partitions are left out (two such answers claiming one partition are
   * both taken, as before: nothing tells their aggregates apart).
   */
  static Merged merge(List<Answer> answers, Map<Integer, String> activeOwners) {
    List<EdgeMetrics> metrics = new ArrayList<>();
    Set<Integer> answered = new TreeSet<>();
    Map<Integer, List<String>> claims = new TreeMap<>();
    Map<Integer, String> takenFrom = new TreeMap<>();
    // parts that cannot be split (earlier releases): whole, first
    for (Answer a : answers) {
      for (LocalStores.Part part : a.share().parts()) {
        if (part.partitions().size() != 1) {
          metrics.addAll(part.metrics());
          for (int p : part.partitions()) {
            claims.computeIfAbsent(p, k -> new ArrayList<>()).add(a.instance());
            takenFrom.merge(p, a.instance() + " (an earlier release's answer, not split by partition)",
                (x, y) -> "each of them: earlier releases' answers, not split by partition, are all taken");
          }
          answered.addAll(part.partitions());
        }
      }
    }
    // one part per partition: the active owner's, else the first
    Map<Integer, Answer> chosen = new TreeMap<>();
    Map<Integer, LocalStores.Part> chosenPart = new TreeMap<>();
    for (Answer a : answers) {
      for (LocalStores.Part part : a.share().parts()) {
        if (part.partitions().size() != 1) {
          continue;
        }
        int p = part.partitions().iterator().next();
        claims.computeIfAbsent(p, k -> new ArrayList<>()).add(a.instance());
        if (takenFrom.containsKey(p)) {
          continue; // an earlier release's whole answer holds it
        }
        Answer current = chosen.get(p);
        if (current == null || (!current.instance().equals(activeOwners.get(p))
            && a.instance().equals(activeOwners.get(p)))) {
          chosen.put(p, a);
          chosenPart.put(p, part);
        }
      }
    }
    chosenPart.forEach((p, part) -> {
      metrics.addAll(part.metrics());
      answered.add(p);
      String instance = chosen.get(p).instance();
      takenFrom.put(p, instance + (instance.equals(activeOwners.get(p)) ? " (its active owner)" : " (the first)"));
    });
    List<String> twice = new ArrayList<>();
    claims.forEach((p, by) -> {
      if (by.size() > 1) {
        String from = takenFrom.get(p);
        twice.add("partition " + p + " of " + Topics.TELEMETRY_REQUESTS.name() + " answered by " + String.join(", ", by)
            + (from.startsWith("each of them") ? ": counted by " + from : ": counted once, from " + from));
      }
    });
    return new Merged(metrics, answered, List.copyOf(twice));
  }

  /** Each input partition's active owner ({@code host:port}), as Kafka Streams' metadata says now. */
  private Map<Integer, String> activeOwners() {
    Map<Integer, String> owners = new TreeMap<>();
    for (StreamsMetadata m : streams.metadataForAllStreamsClients()) {
      for (TopicPartition tp : m.topicPartitions()) {
        if (tp.topic().equals(Topics.TELEMETRY_REQUESTS.name())) {
          owners.putIfAbsent(tp.partition(), name(m.hostInfo()));
        }
      }
    }
    return owners;
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

  /** {@code share}'s parts as {@link #PARTITION_RECORDS_HEADER} carries them: {@code partition:count}, in order. */
  public static String partitionRecordsHeader(LocalStores.Share share) {
    return share.parts().stream().map(p -> p.partitions().iterator().next() + ":" + p.metrics().size())
        .collect(Collectors.joining(","));
  }

  /**
   * A peer's answer split by partition as {@code header} ({@link #PARTITION_RECORDS_HEADER}) says;
   * the header must name each of {@code partitions} once, in any order, and count every aggregate.
   *
   * @throws IllegalArgumentException when it does not
   */
  static LocalStores.Share split(List<EdgeMetrics> metrics, Set<Integer> partitions, String header) {
    String expected = " (expected: partition:count for each of the partitions " + partitionsHeader(partitions)
        + ", counting all " + metrics.size() + " aggregates, e.g. 0:5,3:0)";
    List<LocalStores.Part> parts = new ArrayList<>();
    Set<Integer> seen = new TreeSet<>();
    int at = 0;
    for (String entry : header.split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      int colon = entry.indexOf(':');
      int p;
      int n;
      try {
        p = Integer.parseInt(entry.substring(0, Math.max(colon, 0)).strip());
        n = Integer.parseInt(entry.substring(colon + 1).strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(PARTITION_RECORDS_HEADER + ": '" + header + "'" + expected);
      }
      if (colon < 0 || n < 0 || at + n > metrics.size() || !partitions.contains(p) || !seen.add(p)) {
        throw new IllegalArgumentException(PARTITION_RECORDS_HEADER + ": '" + header + "'" + expected);
      }
      parts.add(new LocalStores.Part(Set.of(p), metrics.subList(at, at + n)));
      at += n;
    }
    if (at != metrics.size() || !seen.equals(partitions)) {
      throw new IllegalArgumentException(PARTITION_RECORDS_HEADER + ": '" + header + "'" + expected);
    }
    return new LocalStores.Share(parts);
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
          String records = resp.getHeader(PARTITION_RECORDS_HEADER);
          return vertx.executeBlocking(() -> {
            List<EdgeMetrics> metrics = HttpUtil.decodeAll(body.getBytes());
            // a peer of an earlier release does not split its answer: one part, merged whole
            return records == null ? LocalStores.Share.whole(metrics, partitions) : split(metrics, partitions, records);
          }, false);
        })));
  }

  /** Closes the HTTP client. */
  public Future<Void> close() {
    return client.close();
  }
}
