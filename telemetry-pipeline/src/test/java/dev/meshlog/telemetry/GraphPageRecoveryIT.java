package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.HeadlessChromium;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The graph page open in a real headless Chromium while the pipeline restarts: it says the graph
 * it shows is stale while the API is away (refused connections, then connections that get no
 * answer), and draws the live graph again once the API answers on
 * the same port, without a reload. Skipped when {@code /usr/bin/chromium} is absent.
 */
@WithKafka
class GraphPageRecoveryIT {

  private static final Duration PAGE = Duration.ofSeconds(60);

  @Test
  void marksTheGraphStaleWhileThePipelineIsAwayAndRecoversWithoutAReload(KafkaCluster kafka,
      @TempDir Path state, @TempDir Path profiles) throws Exception {
    Assumptions.assumeTrue(HeadlessChromium.installed(), "no " + HeadlessChromium.BINARY);
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    String ns = KafkaCluster.uniqueName("restart");
    TelemetryService.Settings first = settings(kafka, state, 0, KafkaCluster.uniqueName("telemetry-restart"));
    TelemetryService service = TelemetryService.start(first, Clock.systemUTC());
    try {
      assertThat(service.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
      int port = service.httpPort();
      Instant now = Instant.now().minusSeconds(5);
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
          Topics.TELEMETRY_REQUESTS.keySerde().serializer(), new ByteArraySerializer())) {
        for (int i = 0; i < 10; i++) {
          RequestEvent e = Requests.request(ns, "frontend", "v1", "reviews", "v1", 200, 12, now);
          producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), Requests.key(e), Requests.single(e)));
        }
      }
      String edge = ns + "/frontend/v1->" + ns + "/reviews/v1";
      HttpClient http = HttpClient.newHttpClient();
      URI graph = URI.create("http://127.0.0.1:" + port + "/api/v1/graph?window=15m&namespace=" + ns);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() ->
          http.send(HttpRequest.newBuilder(graph).build(), HttpResponse.BodyHandlers.ofString()).body()
              .contains("\"requests\":10"));

      try (LivePage page = LivePage.open(profiles, "http://127.0.0.1:" + port + "/?window=15m&namespace=" + ns)) {
        await().atMost(PAGE).pollInterval(Duration.ofMillis(250)).until(() ->
            page.eval("document.getElementById('status')?.dataset.state").equals("loaded")
                && page.eval("document.querySelector('#edges tr[data-edge=\"" + edge + "\"]') !== null").equals("true"));
        assertThat(page.eval("document.body?.dataset.stale")).isNotEqualTo("true");
        // set on this document: still there afterwards means the page was not reloaded
        page.eval("window.notReloaded = 'yes'");

        service.close();
        service = null;
        // the API is away: the page says so and that what it shows is not live
        await().atMost(PAGE).pollInterval(Duration.ofMillis(250)).until(() ->
            page.eval("document.getElementById('status')?.dataset.state").equals("error"));
        assertThat(page.eval("document.getElementById('status').textContent"))
            .startsWith("cannot load the graph: the pipeline does not answer")
            .contains("showing the graph of ").contains("not live");
        assertThat(page.eval("document.body?.dataset.stale")).isEqualTo("true");
        assertThat(page.eval("getComputedStyle(document.getElementById('graph')).opacity")).isNotEqualTo("1");
        // its last graph is kept, not blanked
        assertThat(page.eval("document.querySelector('#edges tr[data-edge=\"" + edge + "\"]') !== null")).isEqualTo("true");

        // something on the port that takes connections and never answers (a hung process): the
        // page gives up on each request after 15 s and says so, rather than wait forever
        try (java.net.ServerSocket silent = new java.net.ServerSocket(port, 50, java.net.InetAddress.getLoopbackAddress())) {
          await().atMost(PAGE).pollInterval(Duration.ofMillis(250)).until(() ->
              page.eval("document.getElementById('status')?.textContent").contains("no answer within 15 s"));
          assertThat(page.eval("document.body?.dataset.stale")).isEqualTo("true");
        }

        // the pipeline again, on the same port and state: the page draws the live graph by itself
        service = TelemetryService.start(settings(kafka, state, port, first.topology().application()), Clock.systemUTC());
        assertThat(service.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
        // RUNNING is not yet every store partition answering: the first graph after the restart
        // may be a partial one (said so on the page), so wait for the whole graph
        await().atMost(PAGE).pollInterval(Duration.ofMillis(250)).until(() ->
            page.eval("document.getElementById('status')?.dataset.state").equals("loaded")
                && page.eval("document.getElementById('status').textContent")
                    .startsWith("2 services, 1 edges"));
        assertThat(page.eval("document.body?.dataset.stale")).isNotEqualTo("true");
        assertThat(page.eval("getComputedStyle(document.getElementById('graph')).opacity")).isEqualTo("1");
        assertThat(page.eval("document.getElementById('status').textContent")).startsWith("2 services, 1 edges");
        assertThat(page.eval("document.querySelector('#edges tr[data-edge=\"" + edge + "\"] td:nth-child(4)').textContent"))
            .isEqualTo("10");
        assertThat(page.eval("window.notReloaded")).isEqualTo("yes");
      }
    } finally {
      if (service != null) {
        service.close();
      }
    }
  }

  private static TelemetryService.Settings settings(KafkaCluster kafka, Path state, int port, String applicationId) {
    return new TelemetryService.Settings(kafka.bootstrapServers(), state, "127.0.0.1", port, "127.0.0.1",
        Duration.ofMillis(100), TelemetryTopology.Settings.defaults(applicationId));
  }
}
