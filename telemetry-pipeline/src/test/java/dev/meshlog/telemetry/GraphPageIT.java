package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.HeadlessChromium;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The graph page in a real headless Chromium: known traffic in, the expected services, versions
 * and edges drawn. Skipped when {@code /usr/bin/chromium} is absent. Leaves a screenshot at
 * {@code target/graph-page.png}.
 */
@WithKafka
class GraphPageIT {

  private static TelemetryService service;
  private static String ns;
  private static String ns200;

  @BeforeAll
  static void start(KafkaCluster kafka, @TempDir Path state) throws Exception {
    Assumptions.assumeTrue(HeadlessChromium.installed(), "no " + HeadlessChromium.BINARY);
    try (Admin admin = kafka.admin()) {
      new TopicBootstrapper(admin).ensureAll();
    }
    ns = KafkaCluster.uniqueName("shop");
    service = TelemetryService.start(new TelemetryService.Settings(kafka.bootstrapServers(), state,
        "127.0.0.1", 0, "127.0.0.1", Duration.ofMillis(100),
        TelemetryTopology.Settings.defaults(KafkaCluster.uniqueName("telemetry-page"))), Clock.systemUTC());
    assertThat(service.app().awaitRunning(Duration.ofSeconds(90))).isTrue();
    Instant now = Instant.now().minusSeconds(5);
    List<RequestEvent> events = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      events.add(Requests.request(ns, "frontend", "v1", "reviews", "v1", 200, 12 + i % 7, now));
      events.add(Requests.request(ns, "frontend", "v1", "reviews", "v2", i % 5 == 0 ? 503 : 200, 30 + i, now));
      events.add(Requests.request(ns, "reviews", "v2", "ratings", "v1", 200, 4, now));
    }
    // After an outage frontend's proxy reports 25 lost events on its first batch's first event,
    // and reviews v2's proxy 3 on its (not counted) inbound report of a call.
    events.set(0, RequestEvent.newBuilder(events.get(0)).setDroppedBefore(25).build());
    events.add(RequestEvent.newBuilder(Requests.request(ns, "frontend", "v1", "reviews", "v2", 200, 30, now))
        .setReporter(dev.meshlog.events.telemetry.Reporter.DESTINATION).setDroppedBefore(3).build());
    // reviews v1 talks to a database over TCP: 4 connections, each opened, reported once open
    // and at its close (the second report's bytes only), by both proxies (the inbound ones are
    // not counted)
    for (int c = 0; c < 4; c++) {
      Instant opened = now.minusSeconds(20);
      for (RequestEvent e : List.of(
          Requests.tcp(ns, "reviews", "v1", "mysql", "v1", opened, 10_000, true, false, 30_000, 300_000),
          Requests.tcp(ns, "reviews", "v1", "mysql", "v1", opened, 19_000, false, true, 1_000, 10_000))) {
        events.add(e);
        events.add(RequestEvent.newBuilder(e).setReporter(dev.meshlog.events.telemetry.Reporter.DESTINATION).build());
      }
    }
    // Awkward names (markup, quotes; the page must show them as text) and, in a namespace of
    // their own, 200 services calling one hub.
    for (int i = 0; i < 3; i++) {
      events.add(Requests.request(ns, "<img src=x onerror=window.pwned=1>", "v1", "evil\"'", "v<script>1", 200, 5, now));
    }
    ns200 = KafkaCluster.uniqueName("wide");
    for (int i = 0; i < 200; i++) {
      events.add(Requests.request(ns200, "svc-" + i, "v1", "hub", "v1", 200, 5, now));
    }
    // A mixed topic, as while proxies are upgraded: each edge's first half in batches (up to
    // five events, as an emitter's drain writes them), the rest one event per record, as
    // releases before batching wrote them.
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        Topics.TELEMETRY_REQUESTS.keySerde().serializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      Map<String, List<RequestEvent>> byEdge = new java.util.LinkedHashMap<>();
      events.forEach(e -> byEdge.computeIfAbsent(e.getDestination().getService() + "/"
          + e.getDestination().getVersion() + "<-" + e.getSource().getService(), k -> new ArrayList<>()).add(e));
      for (List<RequestEvent> edge : byEdge.values()) {
        int half = edge.size() / 2;
        for (int from = 0; from < half; from += 5) {
          List<RequestEvent> batch = edge.subList(from, Math.min(from + 5, half));
          producer.send(new ProducerRecord<>(Topics.TELEMETRY_REQUESTS.name(), Requests.key(batch.get(0)),
              Requests.batchBytes(batch)));
        }
        edge.subList(half, edge.size()).forEach(e -> producer.send(new ProducerRecord<>(
            Topics.TELEMETRY_REQUESTS.name(), Requests.key(e), Requests.single(e))));
      }
    }
    HttpClient http = HttpClient.newHttpClient();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
      String body = http.send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/graph?window=5m")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      return body.split("\"namespace\":\"" + ns + "\"", -1).length > 1 && body.contains("ratings")
          && body.contains("\"requests\":40") && body.contains("\"connectionsClosed\":4")
          && body.contains("\"id\":\"" + ns + "/frontend\"") && lostBy(body, "frontend") == 25
          && lostBy(body, "reviews") == 3 && body.contains("onerror") && body.split("\"" + ns200 + "/svc-", -1).length > 200;
    });
  }

  /** What the graph answer {@code body} says this test's {@code service}'s proxies reported lost. */
  private static long lostBy(String body, String service) throws java.io.IOException {
    for (com.fasterxml.jackson.databind.JsonNode n : new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(body).path("nodes")) {
      if (n.path("id").asText().equals(ns + "/" + service)) {
        return n.path("lostReported").asLong();
      }
    }
    return -1;
  }

  @AfterAll
  static void stop() {
    if (service != null) {
      service.close();
    }
  }

  private static String base() {
    return "http://127.0.0.1:" + service.httpPort();
  }

  @Test
  void drawsTheServicesVersionsAndCallsOfKnownTraffic(@TempDir Path profile) throws Exception {
    // The broker is shared with the module's other ITs, which may report losses of their own
    // proxies: the page's total is the graph's, at least this test's 28.
    long total = new com.fasterxml.jackson.databind.ObjectMapper().readTree(HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(base() + "/api/v1/graph?window=5m")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).path("lostReported").asLong();
    assertThat(total).isGreaterThanOrEqualTo(28);
    String dom = new HeadlessChromium(profile).dumpDom(base() + "/?window=5m", 4000);
    assertThat(dom).contains("data-state=\"loaded\"");
    assertThat(dom).contains("data-service=\"" + ns + "/frontend\"");
    assertThat(dom).contains("data-service=\"" + ns + "/reviews\" data-versions=\"v1,v2\"");
    assertThat(dom).contains("data-service=\"" + ns + "/ratings\"");
    assertThat(dom).contains("data-edge=\"" + ns + "/frontend/v1-&gt;" + ns + "/reviews/v1\"");
    assertThat(dom).contains("data-edge=\"" + ns + "/frontend/v1-&gt;" + ns + "/reviews/v2\"");
    assertThat(dom).contains("data-edge=\"" + ns + "/reviews/v2-&gt;" + ns + "/ratings/v1\"");
    // reviews v2 fails one call in five: its row is marked bad (> 5% errors).
    assertThat(dom).containsPattern("<tr data-edge=\"" + ns + "/frontend/v1-&gt;" + ns
        + "/reviews/v2\" class=\"bad\"[^>]*><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>40</td><td>8 \\(20\\.0%\\)</td>");
    // The losses proxies reported are not in the counts: the page says so, and whose they are.
    assertThat(dom).containsPattern("<div id=\"losses\" role=\"alert\" data-lost=\"" + total + "\">[^<]*"
        + total + " request events lost by proxies\u2019 telemetry are not counted");
    assertThat(dom).contains("<span data-reporter=\"" + ns + "/frontend/v1\" data-lost=\"25\">frontend v1 (" + ns + ") 25</span>");
    assertThat(dom).contains("<span data-reporter=\"" + ns + "/reviews/v2\" data-lost=\"3\">reviews v2 (" + ns + ") 3</span>");
    // The database edge: TCP alone, drawn dashed with its bytes/s and connections; its row has no
    // request figures (not 0 rps, not failing) and its connections and bytes per second both ways.
    String db = ns + "/reviews/v1-&gt;" + ns + "/mysql/v1";
    assertThat(dom).contains("data-service=\"" + ns + "/mysql\"");
    assertThat(dom).containsPattern("<tr data-edge=\"" + db + "\" class=\"\" data-protocols=\"tcp\">"
        + "<td>[^<]*</td><td>[^<]*</td>(<td>\u2013</td>){5}<td>tcp</td><td>4 / 4 / 0</td><td>[0-9.]+ [KM]?B/s / [0-9.]+ [KM]?B/s</td>");
    assertThat(dom).containsPattern("<li data-edge=\"" + db + "#tcp\" data-protocol=\"tcp\" data-line-style=\"dashed\">"
        + "tcp · [0-9.]+ [KM]?B/s · 4 conns</li>");
    assertThat(dom).doesNotContain("<li data-edge=\"" + db + "\"");
    // an HTTP edge is drawn solid, as before
    assertThat(dom).containsPattern("<li data-edge=\"" + ns + "/reviews/v2-&gt;" + ns
        + "/ratings/v1\" data-protocol=\"http\" data-line-style=\"solid\">[0-9.]+ rps");
    // Cytoscape drew the canvas.
    assertThat(dom).contains("<canvas");
  }

  @Test
  void showsMarkupInServiceAndVersionNamesAsText(@TempDir Path profile) throws Exception {
    String dom = new HeadlessChromium(profile).dumpDom(base() + "/?window=5m&namespace=" + ns, 4000);
    assertThat(dom).contains("data-state=\"loaded\"");
    assertThat(dom).contains("&lt;img src=x onerror=window.pwned=1&gt;").contains("v&lt;script&gt;1");
    assertThat(dom).doesNotContain("<img src=\"x\"").doesNotContain("<img src=x").doesNotContain("<script>1");
    // the namespace filter: this test's services only (the broker is shared with other ITs)
    assertThat(java.util.regex.Pattern.compile("data-service=\"([^\"]*)\"").matcher(dom).results()
        .map(r -> r.group(1))).isNotEmpty().allMatch(id -> id.startsWith(ns + "/"));
  }

  @Test
  void drawsTwoHundredServices(@TempDir Path profile) throws Exception {
    String dom = new HeadlessChromium(profile).dumpDom(base() + "/?window=5m&namespace=" + ns200, 8000);
    assertThat(dom).contains("data-state=\"loaded\"").contains("201 services, 200 edges");
    assertThat(dom).contains("data-edge=\"" + ns200 + "/svc-199/v1-&gt;" + ns200 + "/hub/v1\"");
    assertThat(dom).contains("<canvas");
  }

  @Test
  void showsAnEmptyGraphForANamespaceWithoutTraffic(@TempDir Path profile) throws Exception {
    String dom = new HeadlessChromium(profile).dumpDom(base() + "/?window=5m&namespace=nothing-here", 4000);
    assertThat(dom).contains("data-state=\"loaded\"").contains("0 services, 0 edges");
  }

  @Test
  void refusesABadNamespaceFilterWithAClearMessageOnTheApiAndThePage(@TempDir Path profile) throws Exception {
    HttpResponse<String> bad = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(base() + "/api/v1/graph?namespace=shop,,default")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("namespace: 'shop,,default' (expected: namespace names separated by commas");
    String dom = new HeadlessChromium(profile).dumpDom(base() + "/?window=5m&namespace=shop,,default", 4000);
    assertThat(dom).contains("data-state=\"error\"").contains("cannot load the graph: namespace: ");
  }

  @Test
  void leavesAScreenshot(@TempDir Path profile) throws Exception {
    Path target = Path.of("target", "graph-page.png").toAbsolutePath();
    Files.deleteIfExists(target);
    new HeadlessChromium(profile).screenshot(base() + "/?window=5m", 4000, target);
    assertThat(target).exists();
    assertThat(Files.size(target)).isGreaterThan(10_000);
  }
}
