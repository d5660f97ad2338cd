package dev.meshlog.meshctl;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.events.telemetry.TcpReport;
import dev.meshlog.events.telemetry.Workload;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code meshctl telemetry ...}: the mesh's request telemetry. */
@Command(name = "telemetry", description = "Request telemetry: tail the request events.",
    subcommands = TelemetryCommand.Tail.class)
final class TelemetryCommand extends MeshctlCommand {

  @Override
  public Integer call() {
    spec.commandLine().usage(out());
    return Meshctl.USAGE;
  }

  /**
   * {@code meshctl telemetry tail [--service S]}: request events as proxies report them, one line
   * each, read straight from {@code mesh.telemetry.requests} (no consumer group is joined): every
   * event of a record's batch, and single events as releases before batching wrote them. Lines
   * are in event time order (start time) across the topic's partitions ({@link TailOrder}):
   * exactly for the backlog ({@code --since}, {@code -n}), within a short reorder window
   * ({@link #REORDER_WINDOW}) when following.
   */
  @Command(name = "tail", description = "Print request events on mesh.telemetry.requests, oldest first "
      + "across partitions, as they arrive.")
  static final class Tail extends MeshctlCommand {

    /**
     * How long a followed event may wait for the other partitions' events of its time. Proxies
     * send each edge's events every 200 ms, and the producer lingers about as long: events of
     * one moment reach different partitions within about 0.4 s of each other, so a second puts
     * them in order, and is a delay no one reading a terminal notices.
     */
    static final Duration REORDER_WINDOW = Duration.ofSeconds(1);

    @Option(names = "--service", paramLabel = "NAME",
        description = "Only requests from or to this service (name, or namespace/name)")
    String service;

    @Option(names = "--since", paramLabel = "DURATION", converter = Meshctl.DurationConverter.class,
        description = "Start this far back instead of at the end (e.g. 5m)")
    Duration since;

    @Option(names = {"-n", "--limit"}, paramLabel = "N", defaultValue = "0",
        description = "Print the N newest events (of --since's span, else of the topic), oldest first, and stop")
    long limit;

    @Override
    public Integer call() {
      if (limit < 0 || limit > 1_000_000) {
        err().println("error: -n: " + limit + " (expected: 1..1000000, or 0 to follow)");
        return Meshctl.USAGE;
      }
      Map<String, Object> config = new HashMap<>(root().kafkaConfig());
      config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config,
          new StringDeserializer(), new ByteArrayDeserializer())) {
        String topic = Topics.TELEMETRY_REQUESTS.name();
        List<TopicPartition> partitions = consumer.partitionsFor(topic, root().timeout).stream()
            .map(p -> new TopicPartition(topic, p.partition())).toList();
        // read_committed: the end is the last stable offset, what can be read now
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, root().timeout);
        Map<TopicPartition, Long> starts = new HashMap<>(ends);
        if (since != null) {
          long from = root().environment().clock().instant().minus(since).toEpochMilli();
          Map<TopicPartition, Long> times = new HashMap<>();
          partitions.forEach(p -> times.put(p, from));
          consumer.offsetsForTimes(times, root().timeout).forEach((p, offset) -> {
            if (offset != null) {
              starts.put(p, offset.offset());
            }
          });
        }
        if (limit > 0) {
          newest(consumer, partitions, starts, ends);
        } else {
          follow(consumer, partitions, starts, ends);
        }
      }
      return Meshctl.OK;
    }

    /**
     * {@code -n}: the newest events of each partition's span, kept {@code limit} at a time, then
     * printed oldest first. Without {@code --since} a partition's span starts {@code limit}
     * records before its end and grows back (four times as far each round) until it holds
     * {@code limit} events to print or reaches the partition's start: a record holds one event
     * or more, except a loss-only record (none) and events of other services.
     */
    private void newest(KafkaConsumer<String, byte[]> consumer, List<TopicPartition> partitions,
                        Map<TopicPartition, Long> starts, Map<TopicPartition, Long> ends) {
      TailOrder.Newest newest = new TailOrder.Newest((int) limit);
      Map<TopicPartition, Long> beginnings = since == null ? consumer.beginningOffsets(partitions, root().timeout)
          : Map.of();
      for (TopicPartition p : partitions) {
        long end = ends.get(p);
        if (since != null) {
          read(consumer, p, starts.get(p), end, newest::offer);
          continue;
        }
        long beginning = beginnings.getOrDefault(p, 0L);
        long span = limit;
        long to = end;
        long[] found = {0};
        while (to > beginning && found[0] < limit) {
          long from = Math.max(beginning, end - span);
          read(consumer, p, from, to, t -> {
            found[0]++;
            newest.offer(t);
          });
          to = from;
          span = Math.min(Long.MAX_VALUE / 8, span * 4);
        }
      }
      for (TailOrder.Tailed t : newest.oldestFirst()) {
        out().println(t.line());
      }
      out().flush();
    }

    /** Reads {@code [from, to)} of {@code partition} alone, giving each event to print to {@code sink}. */
    private void read(KafkaConsumer<String, byte[]> consumer, TopicPartition partition, long from, long to,
                      java.util.function.Consumer<TailOrder.Tailed> sink) {
      if (from >= to) {
        return;
      }
      consumer.assign(List.of(partition));
      consumer.seek(partition, from);
      while (consumer.position(partition, root().timeout) < to) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          if (record.offset() < to) {
            events(record, sink, (p, time) -> { });
          }
        }
      }
    }

    /**
     * Without {@code -n}: the backlog from {@code --since} (none without it) in time order, then
     * events as they arrive. While a partition's backlog is unread it holds back every later
     * event, and a partition ahead of the others is paused so that memory holds about one fetch
     * per partition, not the backlog; once every backlog is read, an event waits until each
     * partition that has delivered events has delivered one at least as late, or
     * {@link #REORDER_WINDOW} at most.
     */
    private void follow(KafkaConsumer<String, byte[]> consumer, List<TopicPartition> partitions,
                        Map<TopicPartition, Long> starts, Map<TopicPartition, Long> ends) {
      consumer.assign(partitions);
      partitions.forEach(p -> consumer.seek(p, starts.get(p)));
      java.time.Clock clock = root().environment().clock();
      TailOrder order = new TailOrder();
      Set<Integer> unread = new TreeSet<>();
      partitions.forEach(p -> {
        if (starts.get(p) < ends.get(p)) {
          unread.add(p.partition());
        }
      });
      while (!Thread.currentThread().isInterrupted()) {
        ConsumerRecords<String, byte[]> records;
        try {
          records = consumer.poll(Duration.ofMillis(unread.isEmpty() ? 200 : 500));
        } catch (org.apache.kafka.common.errors.InterruptException e) {
          // interrupted (in-process use): stop as at Ctrl-C; the flag is cleared so that the
          // consumer closes normally
          Thread.interrupted();
          return;
        }
        Instant now = clock.instant();
        for (ConsumerRecord<String, byte[]> record : records) {
          events(record, t -> order.add(t, now), order::saw);
        }
        boolean backlog = !unread.isEmpty();
        if (backlog) {
          for (TopicPartition p : partitions) {
            if (unread.contains(p.partition()) && consumer.position(p, root().timeout) >= ends.get(p)) {
              unread.remove(p.partition());
            }
          }
        }
        List<TailOrder.Tailed> ready = backlog
            ? order.ready(unread, now, null)
            : order.ready(order.seen(), now, REORDER_WINDOW);
        for (TailOrder.Tailed t : ready) {
          out().println(t.line());
        }
        out().flush();
        if (!unread.isEmpty()) {
          // a partition already past the slowest unread one waits for it: memory stays small
          Set<Integer> pause = order.ahead(unread);
          List<TopicPartition> ahead = new ArrayList<>();
          List<TopicPartition> behind = new ArrayList<>();
          for (TopicPartition p : partitions) {
            (pause.contains(p.partition()) ? ahead : behind).add(p);
          }
          consumer.pause(ahead);
          consumer.resume(behind);
        } else if (backlog) {
          consumer.resume(partitions);
        }
      }
    }

    /**
     * The events of {@code record} that pass the filter, to {@code sink}; the time of each event
     * it filters out to {@code skipped}, so that a partition with only other services' events
     * does not hold the others back. An unreadable record is a warning.
     */
    private void events(ConsumerRecord<String, byte[]> record, java.util.function.Consumer<TailOrder.Tailed> sink,
                        java.util.function.BiConsumer<Integer, Instant> skipped) {
      // a record is a batch of one edge's events (a single event, as releases before batching
      // wrote it, reads as a batch of one): one line per event
      RequestEventBatch batch;
      try {
        batch = Topics.TELEMETRY_REQUESTS.deserializeValue(record.value());
      } catch (RuntimeException e) {
        err().println("warning: " + record.topic() + "-" + record.partition() + "@" + record.offset()
            + ": " + e.getMessage());
        err().flush();
        return;
      }
      if (batch == null) {
        return;
      }
      List<RequestEvent> events = batch.getEvents();
      for (int i = 0; i < events.size(); i++) {
        RequestEvent event = events.get(i);
        if (matches(event, service)) {
          sink.accept(new TailOrder.Tailed(event.getStartTime(), record.partition(), record.offset(), i, line(event)));
        } else {
          skipped.accept(record.partition(), event.getStartTime());
        }
      }
    }
  }

  /** Whether {@code event} is from or to {@code service} ({@code name} or {@code namespace/name}; null: all). */
  static boolean matches(RequestEvent event, String service) {
    if (service == null) {
      return true;
    }
    return is(event.getSource(), service) || is(event.getDestination(), service);
  }

  private static boolean is(Workload w, String service) {
    return service.contains("/") ? service.equals(w.getNamespace() + "/" + w.getService())
        : service.equals(w.getService());
  }

  /**
   * One event as a line: {@code 2026-11-24T12:00:00.123Z default/productpage v1 -> default/reviews v2
   * GET /reviews/1 200 12.3ms [UH]}; a TCP report as {@link #tcpLine}.
   */
  static String line(RequestEvent e) {
    Instant start = e.getStartTime();
    String flags = e.getResponseFlags().isEmpty() ? "" : " [" + String.join(",", e.getResponseFlags()) + "]";
    if (e.getTcp() != null) {
      return start + " " + workload(e.getSource()) + " -> " + workload(e.getDestination()) + " "
          + tcpLine(e) + flags;
    }
    return start + " " + workload(e.getSource()) + " -> " + workload(e.getDestination()) + " "
        + e.getMethod() + " " + (e.getPath().isEmpty() ? "/" : e.getPath()) + " "
        + (e.getResponseCode() == 0 ? "-" : Integer.toString(e.getResponseCode())) + " "
        + String.format(Locale.ROOT, "%.1fms", e.getDurationMicros() / 1000.0) + flags;
  }

  /**
   * A TCP connection's report: {@code TCP db:5432 open+closed 8B in 14B out 3.2s} — its place in
   * the connection's life, the bytes since its previous report each way (in: from the client
   * towards the destination) and how long the connection had been open.
   */
  private static String tcpLine(RequestEvent e) {
    TcpReport r = e.getTcp();
    String state = r.getOpened() && r.getClosed() ? "open+closed"
        : r.getOpened() ? "opened" : r.getClosed() ? "closed" : "open";
    return "TCP " + (e.getAuthority().isEmpty() ? "-" : e.getAuthority()) + " " + state + " "
        + e.getRequestBytes() + "B in " + e.getResponseBytes() + "B out "
        + String.format(Locale.ROOT, "%.1fs", e.getDurationMicros() / 1_000_000.0);
  }

  private static String workload(Workload w) {
    String name = w.getService().isEmpty() ? "unknown" : w.getService();
    return w.getNamespace() + "/" + name + (w.getVersion().isEmpty() ? "" : " " + w.getVersion());
  }
}
