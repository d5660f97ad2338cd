package dev.meshlog.proxy.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The emitter with its production sink ({@link KafkaEventSink}, bounded producer settings from
 * {@code KafkaClients}) against a real broker that is first unreachable, then back: the producer
 * cannot take records without the topic's metadata, so the bounded buffer holds what fits, what
 * does not fit is dropped and counted, and once Kafka takes events again the held events are
 * delivered and the loss is reported on the topic.
 */
@WithKafka
class KafkaEventSinkIT {

  private final KafkaCluster kafka;
  private final String topic = KafkaCluster.uniqueName("telemetry-outage");
  private TelemetryEmitter emitter;
  private Gate gate;

  KafkaEventSinkIT(KafkaCluster kafka) throws Exception {
    this.kafka = kafka;
    try (Admin admin = kafka.admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
    }
  }

  @AfterEach
  void close() throws IOException {
    if (emitter != null) {
      emitter.close();
    }
    if (gate != null) {
      gate.close();
    }
  }

  @Test
  void theBufferHoldsWhatFitsWhileKafkaIsUnreachableDeliversItWhenBackAndReportsTheRestUnasked()
      throws Exception {
    gate = new Gate(kafka.bootstrapServers());
    Map<String, Object> base = new HashMap<>();
    base.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, gate.address());
    // each send waits this long for metadata before the record is handed back (production: 2 s)
    base.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 300);
    base.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 100);
    Map<String, Object> config = dev.meshlog.proxy.subscribe.KafkaClients.telemetryProducer(
        base, "telemetry-outage", TelemetryEmitter.DEFAULT_INTERVAL);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    emitter = new TelemetryEmitter(new RequestEvents(
        ProxyIdentity.of("productpage", "default", "v1", "", ""), "cluster.local"),
        new KafkaEventSink(config, topic), 20, Duration.ofMillis(20), Duration.ofSeconds(5))
        .bindTo(registry);

    for (int i = 0; i < 200; i++) {
      emitter.log(TelemetryEmitterTest.request(i));
    }
    // nothing completes while Kafka is away, so exactly the first 20 are let in (and held)
    assertThat(emitter.dropped()).isEqualTo(180);
    assertThat(emitter.buffered()).isEqualTo(20);
    // the producer handed a record back at least once: still held, none failed
    await().atMost(Duration.ofSeconds(60)).until(() -> emitter.recordsNotTaken() > 0);
    assertThat(emitter.buffered()).isEqualTo(20);
    assertThat(emitter.sent()).isZero();
    assertThat(emitter.failed()).isZero();
    assertThat(registry.scrape()).contains("meshlog_telemetry_events_dropped_total 180.0")
        .contains("meshlog_telemetry_records_not_taken_total");

    gate.open = true;
    // what was held is delivered, making room for new events; with no further request, the
    // drops the held records did not carry go on a loss-only record of their own
    await().atMost(Duration.ofSeconds(60)).until(() -> emitter.sent() == 20
        && emitter.unreported() == 0 && emitter.buffered() == 0);
    await().atMost(Duration.ofSeconds(60)).until(() -> reportedLoss() == 180);
    for (int i = 0; i < 10; i++) {
      emitter.log(TelemetryEmitterTest.request(1_000 + i));
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> emitter.sent() == 30);

    List<RequestEvent> delivered = events();
    assertThat(delivered).extracting(RequestEvent::getRequestId).containsExactlyElementsOf(
        java.util.stream.Stream.concat(java.util.stream.IntStream.range(0, 20).boxed(),
            java.util.stream.IntStream.range(1_000, 1_010).boxed()).map(i -> "req-" + i)
            .toList());
    // reported once: the later requests' events carry none of it
    assertThat(reportedLoss()).isEqualTo(180);
    assertThat(delivered.subList(20, 30)).extracting(RequestEvent::getDroppedBefore)
        .containsOnly(0L);
    assertThat(emitter.unreported()).isZero();
    assertThat(emitter.failed()).isZero();
    assertThat(emitter.buffered()).isZero();
    assertThat(emitter.dropped()).isEqualTo(180);
  }

  /** The loss on the topic: events' {@code droppedBefore} and loss-only records' {@code lost}. */
  private long reportedLoss() {
    long lost = 0;
    for (var r : TopicRecords.all(kafka.clientConfig(), topic)) {
      RequestEventBatch batch = Topics.TELEMETRY_REQUESTS.deserializeValue(r.value());
      if (batch.getLossReport() != null) {
        assertThat(r.key()).isEqualTo("default/productpage->default/reviews");
        lost += batch.getLossReport().getLost();
      }
      lost += batch.getEvents().stream().mapToLong(RequestEvent::getDroppedBefore).sum();
    }
    return lost;
  }

  private List<RequestEvent> events() {
    return TopicRecords.all(kafka.clientConfig(), topic).stream()
        .flatMap(r -> Topics.TELEMETRY_REQUESTS.deserializeValue(r.value()).getEvents().stream())
        .toList();
  }

  /**
   * A TCP port in front of the broker's bootstrap address that closes every connection while
   * shut and forwards bytes once open: an unreachable Kafka that comes back (after bootstrap the
   * producer reaches the broker at the address its metadata gives, past the gate).
   */
  static final class Gate implements AutoCloseable {
    private final ServerSocket server;
    private final String host;
    private final int port;
    volatile boolean open;

    Gate(String bootstrap) throws IOException {
      host = bootstrap.substring(0, bootstrap.lastIndexOf(':'));
      port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread t = new Thread(this::accept, "gate");
      t.setDaemon(true);
      t.start();
    }

    String address() {
      return "127.0.0.1:" + server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          if (!open) {
            s.close();
            continue;
          }
          Socket up = new Socket(host, port);
          pipe(s, up);
          pipe(up, s);
        } catch (IOException e) {
          // closed, or one connection failed: the client retries
        }
      }
    }

    private static void pipe(Socket from, Socket to) throws IOException {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      Thread t = new Thread(() -> {
        try (from; to) {
          in.transferTo(out);
        } catch (IOException e) {
          // one side closed
        }
      }, "gate-pipe");
      t.setDaemon(true);
      t.start();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
