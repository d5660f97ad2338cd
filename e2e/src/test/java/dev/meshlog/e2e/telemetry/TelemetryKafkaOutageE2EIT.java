package dev.meshlog.e2e.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.e2e.support.AppClient;
import dev.meshlog.e2e.support.PipelineApi;
import dev.meshlog.e2e.support.ProxyProcess;
import dev.meshlog.e2e.support.TestApp;
import dev.meshlog.events.telemetry.LossReport;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.telemetry.TelemetryService;
import dev.meshlog.telemetry.TelemetryTopology;
import dev.meshlog.testkit.EmbeddedKafka;
import dev.meshlog.testkit.KafkaCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka goes away under traffic: the proxies keep answering every request, fill their bounded
 * telemetry buffers (events their producers took, or records held because a producer that lost
 * the topic's metadata could not take them), then drop and count; the traffic stops. Once Kafka
 * is back they deliver everything they held — none fails — and report the loss on the topic
 * with no further request to carry it (a loss-only record where no event does), so events
 * delivered plus losses reported equal the requests made, per proxy, and the telemetry
 * pipeline's graph shows each proxy's service with exactly the loss its proxy counted. Uses a
 * broker of its own (stopped and restarted on the same port and data), not the shared one.
 */
class TelemetryKafkaOutageE2EIT {

  static final int BUFFER = 20;
  static final int BEFORE = 20;
  static final int DURING = 200;

  @TempDir
  Path dir;

  private EmbeddedKafka kafka;
  private final List<AutoCloseable> running = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (int i = running.size() - 1; i >= 0; i--) {
      running.get(i).close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  private static double metric(ProxyProcess p, String name) {
    return p.metric("meshlog_telemetry_events_" + name);
  }

  /**
   * The events of one Prometheus {@code page} whose outcome is known: acknowledged, failed or
   * dropped (not those still queued or awaiting Kafka).
   */
  private static double accounted(String page) {
    return metric(page, "sent_total") + metric(page, "failed_total")
        + metric(page, "dropped_total");
  }

  /** The telemetry metric {@code name} on one Prometheus {@code page}, or -1. */
  private static double metric(String page, String name) {
    String metric = "meshlog_telemetry_events_" + name + " ";
    return page.lines().filter(l -> l.startsWith(metric)).findFirst()
        .map(l -> Double.parseDouble(l.substring(metric.length()).trim())).orElse(-1.0);
  }

  @Test
  void proxiesCountDropsWhileKafkaIsDownAndReportThemWhenItIsBackThoughTheTrafficStopped()
      throws Exception {
    Path data = dir.resolve("kafka");
    kafka = EmbeddedKafka.startPersistent(data, 0, Map.of());
    String bootstrap = kafka.bootstrapServers();
    int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensure(List.of(Topics.TELEMETRY_REQUESTS,
          Topics.TELEMETRY_EDGES, Topics.DEAD_LETTERS), (short) 1);
    }
    String ns = "outage" + UUID.randomUUID().toString().substring(0, 8);
    TestApp reviewsApp = new TestApp("reviews");
    running.add(reviewsApp);
    Path empty = Files.writeString(dir.resolve("none.json"), "[]");
    ProxyProcess reviews = proxy("reviews", ns, reviewsApp.port(), empty, bootstrap);
    String view = """
        [{"host": "reviews.%s.svc.cluster.local", "service": "reviews", "namespace": "%s",
          "version": 1, "generatedAt": 0,
          "endpoints": [{"instanceId": "reviews-v1", "address": "127.0.0.1", "port": %d,
            "labels": {"app": "reviews", "version": "v1"}, "health": "HEALTHY"}]}]
        """.formatted(ns, ns, reviews.inboundPort());
    ProxyProcess productpage = proxy("productpage", ns, 1,
        Files.writeString(dir.resolve("pp.json"), view), bootstrap);
    List<ProxyProcess> proxies = List.of(productpage, reviews);
    AppClient app = new AppClient(productpage.outboundPort());
    String url = "http://reviews." + ns + ":9080/";

    assertThat(app.getMany(url, ns + "-before", BEFORE, 5)).containsOnly(200);
    // Every event of these requests acknowledged or counted lost before Kafka goes: a new
    // producer's first send waits up to max.block.ms (2 s) for the topic's metadata, and on a
    // busy machine that wait can run out — a loss the proxy counts and reports like any other.
    Map<ProxyProcess, Double> sentBefore = new HashMap<>();
    for (ProxyProcess p : proxies) {
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        String page = p.admin("/stats/prometheus");
        assertThat(accounted(page)).as(p + ": every request accounted for").isEqualTo(BEFORE);
        assertThat(metric(page, "buffered")).as(p + " buffered").isZero();
      });
      sentBefore.put(p, metric(p, "sent_total"));
    }

    kafka.close();
    kafka = null;
    // Every request is still answered, one after another, while telemetry has nowhere to go.
    for (int i = 0; i < DURING; i++) {
      assertThat(app.get(url, ns + "-during-" + i)).isEqualTo(200);
    }
    for (ProxyProcess p : proxies) {
      assertThat(metric(p, "dropped_total")).as(p.toString()).isGreaterThan(0);
      // One page per look, and a deadline: an event that fails between two separate reads
      // (buffered → failed) would be missed, and the server side's entry of the last request
      // may be logged just after the client had its response.
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        String page = p.admin("/stats/prometheus");
        assertThat(accounted(page) + metric(page, "buffered"))
            .as(p + ": every request accounted for").isEqualTo(BEFORE + DURING);
        assertThat(metric(page, "sent_total")).as(p + ": acknowledged with Kafka down")
            .isEqualTo(sentBefore.get(p));
        // Nothing completes while Kafka is away (what the producer took waits for it, what it
        // could not take is held), so the buffer stays full. The drops before the last events
        // let in were encoded ride on those events' held record; the later ones (most of the
        // 180) wait for a record to carry them.
        assertThat(metric(page, "buffered")).as(p + " buffered").isEqualTo(BUFFER);
        assertThat(metric(page, "failed_total")).as(p + " failed").isZero();
        assertThat(metric(page, "unreported")).as(p + " unreported").isPositive()
            .isLessThanOrEqualTo(metric(page, "dropped_total"));
      });
    }

    // The traffic has stopped: no request after the outage carries the loss.
    kafka = EmbeddedKafka.startPersistent(data, port, Map.of());
    // What the proxies held is delivered now, and the loss no held record carried goes alone
    // (a record Kafka cannot take yet is held, not failed, so it cannot be stranded on a failure).
    int requests = BEFORE + DURING;
    for (ProxyProcess p : proxies) {
      await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
        String page = p.admin("/stats/prometheus");
        assertThat(accounted(page)).as(p + ": every request accounted for").isEqualTo(requests);
        assertThat(metric(page, "buffered")).as(p + " buffered").isZero();
        assertThat(metric(page, "unreported")).as(p + " unreported").isZero();
      });
    }
    // Settled: nothing queued or in flight and no request left to come, so the counters and
    // the topic stay as they are from here on.

    Map<String, long[]> byProxy = deliveredAndReported(ns);
    for (ProxyProcess p : proxies) {
      long[] seen = byProxy.get(p.id());
      assertThat(seen).as(p.toString()).isNotNull();
      assertThat(seen[0]).as(p + " delivered").isEqualTo((long) metric(p, "sent_total"));
      assertThat(seen[0] + seen[1]).as(p + " delivered + reported lost")
          .isEqualTo(requests);
      assertThat(seen[1]).as(p + " reported lost").isEqualTo(
          (long) (metric(p, "dropped_total") + metric(p, "failed_total")));
      // an outage shorter than the producer's delivery timeout (2 min) fails nothing
      assertThat(metric(p, "failed_total")).as(p + " failed").isZero();
    }

    // The pipeline, reading the topic from its start, shows each proxy's loss on its service.
    TelemetryService pipeline = TelemetryService.start(new TelemetryService.Settings(
        kafka.bootstrapServers(), dir.resolve("telemetry"), "127.0.0.1", 0, "127.0.0.1",
        Duration.ofMillis(100), TelemetryTopology.Settings.defaults(
            KafkaCluster.uniqueName("telemetry"))), Clock.systemUTC());
    running.add(pipeline);
    Map<String, Long> lost = Map.of(
        ns + "/productpage", (long) (metric(productpage, "dropped_total")
            + metric(productpage, "failed_total")),
        ns + "/reviews", (long) (metric(reviews, "dropped_total")
            + metric(reviews, "failed_total")));
    await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
      JsonNode graph = JSON.readTree(get(pipeline, "/api/v1/graph?window=15m"));
      Map<String, Long> nodes = new HashMap<>();
      for (JsonNode n : graph.path("nodes")) {
        if (n.path("namespace").asText().equals(ns)) {
          nodes.put(n.path("id").asText(), n.path("lostReported").asLong());
        }
      }
      assertThat(nodes).as("reported loss per service").isEqualTo(lost);
      long requestsCounted = 0;
      for (JsonNode e : graph.path("edges")) {
        if (e.path("source").path("namespace").asText().equals(ns)) {
          requestsCounted += e.path("requests").asLong();
        }
      }
      // the caller's reports count: its delivered events
      assertThat(requestsCounted).as("requests counted")
          .isEqualTo((long) metric(productpage, "sent_total"));
    });
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private static String get(TelemetryService instance, String path) throws Exception {
    return PipelineApi.get(instance, path);
  }

  private ProxyProcess proxy(String service, String ns, int appPort, Path views,
                             String bootstrap) {
    ProxyProcess p = ProxyProcess.start(service, Duration.ofSeconds(60),
        "--service", service, "--version", "v1", "--namespace", ns,
        "--app-port", Integer.toString(appPort), "--inbound-port", "0", "--outbound-port", "0",
        "--admin-port", "0", "--inbound-bind", "127.0.0.1", "--views-file", views.toString(),
        "--snapshot-file", dir.resolve(service + ".views").toString(), "--drain", "0s",
        "--concurrency", "1", "--telemetry-bootstrap-server", bootstrap,
        "--telemetry-buffer-events", Integer.toString(BUFFER));
    running.add(p);
    return p;
  }

  /**
   * Per proxy id: events on the topic, and the loss it reported there — the sum of their
   * {@code droppedBefore} and of its loss-only records' {@code lost}.
   */
  private Map<String, long[]> deliveredAndReported(String ns) {
    Map<String, long[]> out = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.clientConfig(),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> tps = c.partitionsFor(Topics.TELEMETRY_REQUESTS.name()).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          // a record is a batch of one edge's events from one proxy, or its loss-only record
          RequestEventBatch batch = Topics.TELEMETRY_REQUESTS.deserializeValue(r.value());
          LossReport loss = batch.getLossReport();
          if (loss != null && loss.getSource().getNamespace().equals(ns)) {
            out.computeIfAbsent(loss.getProxyId(), k -> new long[2])[1] += loss.getLost();
          }
          for (RequestEvent e : batch.getEvents()) {
            if (e.getRequestId().startsWith(ns)) {
              long[] seen = out.computeIfAbsent(e.getProxyId(), k -> new long[2]);
              seen[0]++;
              seen[1] += e.getDroppedBefore();
            }
          }
        }
      }
    }
    return out;
  }
}
