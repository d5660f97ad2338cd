package dev.meshlog.meshctl;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.events.telemetry.TcpReport;
import dev.meshlog.events.telemetry.Workload;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
   * event of a record's batch, and single events as releases before batching wrote them.
   */
  @Command(name = "tail", description = "Print request events as they arrive on mesh.telemetry.requests.")
  static final class Tail extends MeshctlCommand {

    @Option(names = "--service", paramLabel = "NAME",
        description = "Only requests from or to this service (name, or namespace/name)")
    String service;

    @Option(names = "--since", paramLabel = "DURATION", converter = Meshctl.DurationConverter.class,
        description = "Start this far back instead of at the end (e.g. 5m)")
    Duration since;

    @Option(names = {"-n", "--limit"}, paramLabel = "N", defaultValue = "0",
        description = "Stop after N events (default: run until interrupted)")
    long limit;

    @Override
    public Integer call() {
      Map<String, Object> config = new HashMap<>(root().kafkaConfig());
      config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      long printed = 0;
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config,
          new StringDeserializer(), new ByteArrayDeserializer())) {
        String topic = Topics.TELEMETRY_REQUESTS.name();
        List<TopicPartition> partitions = consumer.partitionsFor(topic, root().timeout).stream()
            .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        if (since == null) {
          consumer.seekToEnd(partitions);
        } else {
          long from = root().environment().clock().instant().minus(since).toEpochMilli();
          Map<TopicPartition, Long> times = new HashMap<>();
          partitions.forEach(p -> times.put(p, from));
          consumer.offsetsForTimes(times, root().timeout).forEach((p, offset) -> {
            if (offset == null) {
              consumer.seekToEnd(List.of(p));
            } else {
              consumer.seek(p, offset.offset());
            }
          });
        }
        while (limit <= 0 || printed < limit) {
          records:
          for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
            // a record is a batch of one edge's events (a single event, as releases before
            // batching wrote it, reads as a batch of one): one line per event, as before
            RequestEventBatch batch;
            try {
              batch = Topics.TELEMETRY_REQUESTS.deserializeValue(record.value());
            } catch (RuntimeException e) {
              err().println("warning: " + record.topic() + "-" + record.partition() + "@" + record.offset()
                  + ": " + e.getMessage());
              continue;
            }
            if (batch == null) {
              continue;
            }
            for (RequestEvent event : batch.getEvents()) {
              if (!matches(event, service)) {
                continue;
              }
              out().println(line(event));
              out().flush();
              if (limit > 0 && ++printed >= limit) {
                break records;
              }
            }
          }
        }
      }
      return Meshctl.OK;
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
