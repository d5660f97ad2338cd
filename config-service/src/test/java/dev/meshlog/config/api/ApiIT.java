package dev.meshlog.config.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.client.ConfigCommands;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.config.testing.WithControlPlane;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.discovery.ViewProblem;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ProxyState;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.events.status.ViewAck;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.KafkaCluster;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API on a real socket, against the real broker and control plane. */
@WithControlPlane
class ApiIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  private static final String WRITER = "writer-token-0123456789";
  private static final String READER = "reader-token-0123456789";
  private static final String LEAVER = "leaver-token-0123456789";

  @TempDir
  static Path files;

  private static Vertx vertx;
  /** The open API, as a local run has it. */
  private static ConfigApi api;
  /** The API with per-user tokens: ana writes, grafana reads, leaver reads until revoked. */
  private static ConfigApi users;
  private static TokenFile userTokens;
  private static MeshClient client;
  private String namespace;

  @BeforeAll
  static void start(KafkaCluster kafka) throws Exception {
    vertx = Vertx.vertx();
    api = ConfigApi.start(vertx, new ConfigApi.Settings(kafka.bootstrapServers(), "127.0.0.1", 0,
        Duration.ofSeconds(30)), new ParsedDocuments(), Clock.systemUTC());
    Path tokens = Files.writeString(files.resolve("tokens.csv"), userTokens(true));
    // read again every 50 ms, not 5 s: a revocation shows without waiting long
    userTokens = TokenFile.load(tokens, "--api-token-file " + tokens)
        .refreshingEvery(Duration.ofMillis(50));
    users = ConfigApi.start(vertx, new ConfigApi.Settings(kafka.bootstrapServers(), "127.0.0.1",
        0, Duration.ofSeconds(30), Map.of(), userTokens), new ParsedDocuments(),
        Clock.systemUTC());
    client = new MeshClient(kafka.clientConfig(), Duration.ofSeconds(30));
    await().atMost(Duration.ofSeconds(30)).until(() -> api.readModel().isReady()
        && users.readModel().isReady());
  }

  /** The users' token file, in the Kubernetes static token format. */
  private static String userTokens(boolean withLeaver) {
    return "# token,user,uid,\"roles\"\n"
        + WRITER + ",ana,1001,write\n"
        + READER + ",grafana,1002,read\n"
        + (withLeaver ? LEAVER + ",leaver,1003,read\n" : "");
  }

  @AfterAll
  static void stop() {
    api.close();
    users.close();
    client.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @BeforeEach
  void namespace() {
    namespace = KafkaCluster.uniqueName("ns");
  }

  private static HttpResponse<String> send(String method, String path, String body)
      throws IOException, InterruptedException {
    return send(api, method, path, body);
  }

  /** A request to {@code target} with {@code headers} (name, value, name, value, ...). */
  private static HttpResponse<String> send(ConfigApi target, String method, String path,
                                           String body, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + target.port() + path)).timeout(Duration.ofSeconds(60));
    request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A request to the per-user API with {@code token}, and more headers. */
  private static HttpResponse<String> as(String token, String method, String path, String body,
                                         String... headers)
      throws IOException, InterruptedException {
    String[] all = java.util.Arrays.copyOf(headers, headers.length + 2);
    all[headers.length] = "Authorization";
    all[headers.length + 1] = "Bearer " + token;
    return send(users, method, path, body, all);
  }

  private static JsonNode json(HttpResponse<String> response) throws IOException {
    return JSON.readTree(response.body());
  }

  private Resource reviews(int weight) {
    ObjectNode spec = JSON.createObjectNode();
    spec.putArray("hosts").add("reviews");
    spec.putArray("http").addObject().putArray("route").addObject().put("weight", weight)
        .putObject("destination").put("host", "reviews");
    return new Resource("networking.istio.io/v1", "VirtualService", namespace, "reviews", Map.of(),
        spec);
  }

  /** The resource as a user writes it in YAML. */
  private String yaml(int weight) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
          namespace: %s
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination:
                host: reviews
              weight: %d
        """.formatted(namespace, weight);
  }

  private String resourcePath() {
    return "/api/v1/resources/virtualservices/" + namespace + "/reviews";
  }

  @Test
  void withAOneTokenFileEveryEndpointButHealthAsksForItAndAppliesWithItAsTheHeadersActor(
      KafkaCluster kafka) throws Exception {
    String token = "s3cret-token-of-the-operator";
    Path file = Files.writeString(files.resolve("api-token"), token + "\n");
    try (ConfigApi guarded = ConfigApi.start(vertx, new ConfigApi.Settings(
        kafka.bootstrapServers(), "127.0.0.1", 0, Duration.ofSeconds(30), Map.of(),
        TokenFile.load(file, "--api-token-file " + file)),
        new ParsedDocuments(), Clock.systemUTC())) {
      String base = "http://127.0.0.1:" + guarded.port();
      java.util.function.BiFunction<String, String, HttpRequest.Builder> request =
          (path, authorization) -> {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(60));
            return authorization == null ? b : b.header("Authorization", authorization);
          };

      HttpResponse<String> anonymous = HTTP.send(request.apply("/api/v1/apply", null)
          .POST(HttpRequest.BodyPublishers.ofString(yaml(100))).build(),
          HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> wrong = HTTP.send(request.apply("/api/v1/resources",
          "Bearer s3cret-token-of-the-operatoR").GET().build(),
          HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> health = HTTP.send(request.apply("/healthz", null).GET().build(),
          HttpResponse.BodyHandlers.ofString());

      assertThat(anonymous.statusCode()).isEqualTo(401);
      assertThat(anonymous.headers().firstValue("WWW-Authenticate"))
          .contains("Bearer realm=\"meshlog\"");
      assertThat(json(anonymous).at("/errors/0/message").asText())
          .startsWith("no bearer token");
      assertThat(wrong.statusCode()).isEqualTo(401);
      assertThat(json(wrong).at("/errors/0/message").asText()).startsWith("a wrong bearer");
      assertThat(health.statusCode()).isIn(200, 503);
      // Nothing of the refused apply reached the log.
      assertThat(api.readModel().resource(new ResourceId("VirtualService", namespace,
          "reviews"))).isEmpty();

      HttpResponse<String> applied = HTTP.send(request.apply("/api/v1/apply", "Bearer " + token)
          .header(ApiServer.ACTOR_HEADER, "carla")
          .POST(HttpRequest.BodyPublishers.ofString(yaml(100))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
      // As before per-user tokens: the shared token records the actor the caller names.
      JsonNode history = json(HTTP.send(request.apply(resourcePath() + "/history",
          "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString()));
      assertThat(history.at("/revisions/0/actor").asText()).isEqualTo("carla");
      JsonNode index = json(HTTP.send(request.apply("/api/v1/", "Bearer " + token).GET().build(),
          HttpResponse.BodyHandlers.ofString()));
      assertThat(index.at("/routes/0/token").asBoolean()).isTrue();
    }
  }

  @Test
  void aWritersApplyDeleteAndRollbackRecordItsUserAsTheActor() throws Exception {
    HttpResponse<String> applied = as(WRITER, "POST", "/api/v1/apply", yaml(100));
    HttpResponse<String> again = as(WRITER, "POST", "/api/v1/apply", yaml(50),
        ApiServer.ACTOR_HEADER, "ana");
    HttpResponse<String> rollback = as(WRITER, "POST", resourcePath() + "/rollback?revision=1",
        null);
    HttpResponse<String> deleted = as(WRITER, "DELETE", resourcePath(), null);

    assertThat(List.of(applied, again, rollback, deleted))
        .allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(200));
    HttpResponse<String> history = as(READER, "GET", resourcePath() + "/history", null);
    assertThat(history.statusCode()).as(history.body()).isEqualTo(200);
    List<String> actors = new ArrayList<>();
    json(history).path("revisions").forEach(r -> actors.add(r.path("actor").asText()));
    assertThat(actors).containsExactly("ana", "ana", "ana", "ana");
  }

  @Test
  void aPerUserTokenNamingSomeoneElseAsActorIsRefusedAndNothingIsApplied() throws Exception {
    HttpResponse<String> spoofed = as(WRITER, "POST", "/api/v1/apply", yaml(100),
        ApiServer.ACTOR_HEADER, "mallory");

    assertThat(spoofed.statusCode()).as(spoofed.body()).isEqualTo(403);
    assertThat(json(spoofed).at("/errors/0/path").asText()).isEqualTo(ApiServer.ACTOR_HEADER);
    assertThat(json(spoofed).at("/errors/0/message").asText()).startsWith(
        "X-Meshlog-Actor: mallory (expected: ana, the user of this bearer token, or no header");
    assertThat(spoofed.body()).doesNotContain(WRITER);
    assertThat(as(READER, "GET", resourcePath(), null).statusCode()).isEqualTo(404);
  }

  @Test
  void aReaderMayGetButNotApplyDeleteOrRollback() throws Exception {
    client.submit(List.of(ConfigCommands.of("seed", SourceType.CLI, Clock.systemUTC())
        .apply(reviews(100))));

    assertThat(List.of(as(READER, "GET", resourcePath(), null),
        as(READER, "GET", resourcePath() + "/history", null),
        as(READER, "GET", "/api/v1/resources?namespace=" + namespace, null),
        as(READER, "GET", "/api/v1/proxy-status", null),
        as(READER, "GET", "/api/v1/analyze", null), as(READER, "GET", "/api/v1/", null)))
        .allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(200));
    HttpResponse<String> apply = as(READER, "POST", "/api/v1/apply", yaml(50));
    HttpResponse<String> delete = as(READER, "DELETE", resourcePath(), null);
    HttpResponse<String> rollback = as(READER, "POST", resourcePath() + "/rollback?revision=1",
        null);

    assertThat(List.of(apply, delete, rollback))
        .allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(403));
    assertThat(json(apply).at("/errors/0/path").asText()).isEqualTo("Authorization");
    assertThat(json(apply).at("/errors/0/message").asText()).isEqualTo("user grafana may read,"
        + " not write: POST /api/v1/apply needs a token with the write role (--api-token-file)");
    assertThat(json(delete).at("/errors/0/message").asText())
        .contains("DELETE /api/v1/resources/{kind}/{namespace}/{name} needs");
    JsonNode current = json(as(READER, "GET", resourcePath(), null));
    assertThat(current.path("revision").asLong()).isEqualTo(1);
    assertThat(current.path("actor").asText()).isEqualTo("seed");
  }

  @Test
  void anUnknownOrMissingTokenIs401AndHealthAsksForNone() throws Exception {
    HttpResponse<String> unknown = as("not-a-token-of-the-file", "GET", "/api/v1/resources", null);
    HttpResponse<String> none = send(users, "GET", "/api/v1/resources", null);
    HttpResponse<String> health = send(users, "GET", "/healthz", null);

    assertThat(unknown.statusCode()).isEqualTo(401);
    assertThat(unknown.body()).doesNotContain("not-a-token-of-the-file");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"meshlog\"");
    assertThat(health.statusCode()).isEqualTo(200);
  }

  @Test
  void aRevokedTokenIsRefusedOnceTheApiHasReadTheFileAgain() throws Exception {
    assertThat(as(LEAVER, "GET", "/api/v1/resources", null).statusCode()).isEqualTo(200);

    // replaced as an operator should: a new file renamed over the old, never half written
    Path next = Files.writeString(files.resolve("tokens.csv.next"), userTokens(false));
    Files.move(next, files.resolve("tokens.csv"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);

    // the API's own timer reads the file (every 50 ms here): no restart, no call of ours
    await().atMost(Duration.ofSeconds(30)).until(() ->
        as(LEAVER, "GET", "/api/v1/resources", null).statusCode() == 401);
    HttpResponse<String> revoked = as(LEAVER, "GET", "/api/v1/resources", null);
    assertThat(revoked.statusCode()).isEqualTo(401);
    assertThat(json(revoked).at("/errors/0/message").asText()).startsWith("a wrong bearer token");
    assertThat(as(READER, "GET", "/api/v1/resources", null).statusCode()).isEqualTo(200);
  }

  @Test
  void theIndexSaysWhichRoutesNeedWriteAccess() throws Exception {
    JsonNode routes = json(as(READER, "GET", "/api/v1/", null)).path("routes");
    Map<String, String> access = new java.util.LinkedHashMap<>();
    routes.forEach(r -> access.put(r.path("method").asText() + " " + r.path("path").asText(),
        r.path("access").asText() + (r.path("token").asBoolean() ? "" : ", no token")));

    assertThat(access).containsEntry("POST /api/v1/apply", "write")
        .containsEntry("DELETE /api/v1/resources/{kind}/{namespace}/{name}", "write")
        .containsEntry("POST /api/v1/resources/{kind}/{namespace}/{name}/rollback", "write")
        .containsEntry("GET /api/v1/resources/{kind}/{namespace}/{name}/history", "read")
        .containsEntry("GET /api/v1/", "read")
        .containsEntry("GET /healthz", "none, no token");
    assertThat(access.entrySet()).filteredOn(e -> e.getKey().startsWith("GET /api"))
        .allSatisfy(e -> assertThat(e.getValue()).isEqualTo("read"));
  }

  @Test
  void appliesABodyAndServesItBackAsJson() throws Exception {
    HttpResponse<String> applied = send("POST", "/api/v1/apply", yaml(100));
    assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
    assertThat(json(applied).at("/results/0/changeType").asText()).isEqualTo("CREATED");

    HttpResponse<String> got = send("GET", resourcePath(), null);
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.headers().firstValue("Content-Type")).contains("application/json; charset=utf-8");
    JsonNode node = json(got);
    assertThat(node.path("resource").asText()).isEqualTo("VirtualService/" + namespace + "/reviews");
    assertThat(node.path("revision").asLong()).isEqualTo(1);
    assertThat(node.path("actor").asText()).isEqualTo("api");
    assertThat(node.at("/source/type").asText()).isEqualTo("API");
    assertThat(node.at("/document/spec/http/0/route/0/weight").asInt()).isEqualTo(100);

    JsonNode list = json(send("GET", "/api/v1/resources/vs?namespace=" + namespace, null));
    assertThat(list.path("items")).hasSize(1);
  }

  @Test
  void aDryRunValidatesWithoutApplying() throws Exception {
    HttpResponse<String> response = send("POST", "/api/v1/apply?dryRun=true", yaml(100));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).at("/results/0/changeType").asText()).isEqualTo("CREATED");
    assertThat(send("GET", resourcePath(), null).statusCode()).isEqualTo(404);
  }

  @Test
  void anInvalidResourceIs422WithItsFieldErrors() throws Exception {
    HttpResponse<String> response = send("POST", "/api/v1/apply", yaml(120));
    assertThat(response.statusCode()).isEqualTo(422);
    JsonNode error = json(response).at("/errors/0");
    assertThat(error.path("resource").asText()).isEqualTo("VirtualService/" + namespace + "/reviews");
    assertThat(error.path("path").asText()).isEqualTo("spec.http[0].route[0].weight");
    assertThat(error.path("value").asText()).isEqualTo("120");
    assertThat(error.path("message").asText()).isEqualTo("120 (expected: 0..100)");
  }

  @Test
  void aBodyThatIsNotAResourceIs400() throws Exception {
    HttpResponse<String> response = send("POST", "/api/v1/apply", "kind: [unclosed");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).path("errors")).isNotEmpty();
  }

  private String sidecarJson(String name, boolean named) {
    return "{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"Sidecar\", \"metadata\": {"
        + (named ? "\"name\": \"" + name + "\", " : "") + "\"namespace\": \"" + namespace
        + "\"}, \"spec\": {}}";
  }

  @Test
  void appliesAStreamOfJsonObjectsAndNamesTheIndexOfOneThatIsNoResource() throws Exception {
    byte[] stream = (sidecarJson("a", true) + "\n" + sidecarJson("b", true) + "\n")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    HttpResponse<String> applied = post("/api/v1/apply", "application/json", stream);
    assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
    assertThat(json(applied).path("results")).extracting(r -> r.path("resource").asText())
        .containsExactly("Sidecar/" + namespace + "/a", "Sidecar/" + namespace + "/b");

    byte[] bad = (sidecarJson("c", true) + sidecarJson("d", false))
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    HttpResponse<String> refused = post("/api/v1/apply", "application/json", bad);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(json(refused).at("/errors/0/path").asText()).isEqualTo("objects[1].metadata.name");
    assertThat(send("GET", "/api/v1/resources/sidecar/" + namespace + "/c", null).statusCode())
        .as("nothing of a body with an error is applied").isEqualTo(404);
  }

  @Test
  void aResourceOverOneRecordIsRejectedByNameAndTheRestOfTheBodyApplies() throws Exception {
    // 790 KB of YAML (under the body's 1 MiB), 1.05 MB as a command: "a", four bytes, where
    // YAML wrote a, in three.
    String gateways = String.join(", ", java.util.Collections.nCopies(262_000, "a"));
    String big = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: big, namespace: %s}
        spec:
          hosts: [big]
          gateways: [%s]
          http:
          - route:
            - destination: {host: big}
        ---
        """.formatted(namespace, gateways);
    HttpResponse<String> response = send("POST", "/api/v1/apply", big + yaml(100));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
    JsonNode error = json(response).at("/errors/0");
    assertThat(error.path("resource").asText()).isEqualTo("VirtualService/" + namespace + "/big");
    assertThat(error.path("message").asText()).contains("bytes as a command (expected: at most "
        + "1000000 bytes");
    assertThat(send("GET", resourcePath(), null).statusCode()).as("the other resource applied")
        .isEqualTo(200);
  }

  @Test
  void aBodyOverOneMebibyteIs413() throws Exception {
    String big = "#".repeat(ApiServer.MAX_BODY_BYTES + 1);
    HttpResponse<String> response = send("POST", "/api/v1/apply", big);
    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(json(response).at("/errors/0/message").asText()).contains("at most 1 MiB");
  }

  private static HttpResponse<String> post(String path, String contentType, byte[] body)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + api.port() + path)).timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aBodyThatIsNotUtf8Is400AndNothingIsApplied() throws Exception {
    // "café" in ISO-8859-1: decoded leniently, the é became U+FFFD and was stored so.
    byte[] latin1 = yaml(100).replace("    weight: 100",
        "    weight: 100\n    headers: {request: {set: {x-who: \"caf\u00e9\"}}}")
        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    HttpResponse<String> response = post("/api/v1/apply", "application/yaml", latin1);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(json(response).at("/errors/0/message").asText()).contains("not UTF-8");
    assertThat(send("GET", resourcePath(), null).statusCode()).isEqualTo(404);
  }

  @Test
  void aContentTypeThatIsNeitherYamlNorJsonIs415() throws Exception {
    HttpResponse<String> response = post("/api/v1/apply", "application/x-www-form-urlencoded",
        yaml(100).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(415);
    assertThat(json(response).at("/errors/0/message").asText())
        .contains("application/x-www-form-urlencoded").contains("application/yaml");
    for (String accepted : new String[] {"application/yaml", "application/x-yaml", "text/yaml",
        "application/json; charset=utf-8", "text/plain"}) {
      HttpResponse<String> ok = post("/api/v1/apply?dryRun=true", accepted,
          yaml(100).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      assertThat(ok.statusCode()).as(accepted + ": " + ok.body()).isEqualTo(200);
    }
  }

  @Test
  void anUnknownQueryParameterIs400AndNothingIsApplied() throws Exception {
    // A misspelt dryRun must not turn a dry run into a real apply.
    HttpResponse<String> response = send("POST", "/api/v1/apply?dryrun=true", yaml(100));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(json(response).at("/errors/0/path").asText()).isEqualTo("dryrun");
    assertThat(json(response).at("/errors/0/message").asText()).contains("dryRun, expectedRevision");
    HttpResponse<String> badValue = send("POST", "/api/v1/apply?dryRun=yes", yaml(100));
    assertThat(badValue.statusCode()).as(badValue.body()).isEqualTo(400);
    assertThat(send("GET", resourcePath(), null).statusCode()).isEqualTo(404);
  }

  @Test
  void kubectlsDryRunAllIsADryRun() throws Exception {
    HttpResponse<String> response = send("POST", "/api/v1/apply?dryRun=All", yaml(100));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(json(response).path("dryRun").asBoolean()).isTrue();
    assertThat(send("GET", resourcePath(), null).statusCode()).isEqualTo(404);
  }

  @Test
  void concurrentAppliesAtTheSameExpectedRevisionOneWinsTheOtherIs409() throws Exception {
    assertThat(send("POST", "/api/v1/apply?expectedRevision=0", yaml(100)).statusCode())
        .isEqualTo(200);
    var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      var first = pool.submit(() -> send("POST", "/api/v1/apply?expectedRevision=1", yaml(99)
          .replace("weight: 99", "weight: 100\n    timeout: 1s")));
      var second = pool.submit(() -> send("POST", "/api/v1/apply?expectedRevision=1", yaml(99)
          .replace("weight: 99", "weight: 100\n    timeout: 2s")));
      List<Integer> statuses = new ArrayList<>(List.of(first.get().statusCode(),
          second.get().statusCode()));
      assertThat(statuses).as(first.get().body() + second.get().body())
          .containsExactlyInAnyOrder(200, 409);
      HttpResponse<String> conflict = first.get().statusCode() == 409 ? first.get() : second.get();
      assertThat(json(conflict).at("/errors/0/path").asText()).isEqualTo("expectedRevision");
    } finally {
      pool.shutdown();
    }
    assertThat(json(send("GET", resourcePath(), null)).path("revision").asLong()).isEqualTo(2);
    HttpResponse<String> bad = send("POST", "/api/v1/apply?expectedRevision=-1", yaml(100));
    assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
  }

  @Test
  void historyAndRollbackOverHttp() throws Exception {
    ConfigCommands commands = ConfigCommands.of("ana", SourceType.CLI, Clock.systemUTC());
    client.submit(List.of(commands.apply(reviews(100))));
    client.submit(List.of(commands.apply(reviews(50))));

    HttpResponse<String> rollback = send("POST", resourcePath() + "/rollback?revision=1", null);
    assertThat(rollback.statusCode()).as(rollback.body()).isEqualTo(200);
    assertThat(json(rollback).at("/results/0/rolledBackTo").asLong()).isEqualTo(1);

    JsonNode history = json(send("GET", resourcePath() + "/history", null));
    assertThat(history.path("revisions")).hasSize(3);
    assertThat(history.at("/revisions/0/actor").asText()).isEqualTo("ana");
    assertThat(history.at("/revisions/0/changeType").asText()).isEqualTo("CREATED");
    assertThat(history.at("/revisions/2/rolledBackTo").asLong()).isEqualTo(1);
    assertThat(history.at("/revisions/2/source/type").asText()).isEqualTo("API");

    assertThat(send("POST", resourcePath() + "/rollback", null).statusCode()).isEqualTo(400);
    assertThat(send("POST", resourcePath() + "/rollback?revision=9", null).statusCode())
        .isEqualTo(404);
  }

  @Test
  void deleteRemovesAndAMissingResourceIs404() throws Exception {
    client.submit(List.of(ConfigCommands.of("ana", SourceType.CLI, Clock.systemUTC())
        .apply(reviews(100))));

    HttpResponse<String> deleted = send("DELETE", resourcePath(), null);
    assertThat(deleted.statusCode()).isEqualTo(200);
    assertThat(json(deleted).at("/results/0/changeType").asText()).isEqualTo("DELETED");
    assertThat(send("GET", resourcePath(), null).statusCode()).isEqualTo(404);

    HttpResponse<String> again = send("DELETE", resourcePath(), null);
    assertThat(again.statusCode()).isEqualTo(404);
    assertThat(json(again).at("/errors/0/resource").asText())
        .isEqualTo("VirtualService/" + namespace + "/reviews");
  }

  @Test
  void anUnknownKindIs400AndAnUnknownPathIs404() throws Exception {
    HttpResponse<String> kind = send("GET", "/api/v1/resources/virtualservise", null);
    assertThat(kind.statusCode()).isEqualTo(400);
    assertThat(json(kind).at("/errors/0/message").asText()).contains("unknown kind virtualservise");
    assertThat(send("GET", "/api/v1/nothing", null).statusCode()).isEqualTo(404);
    assertThat(send("PUT", "/api/v1/apply", "x").statusCode()).isEqualTo(405);
  }

  @Test
  void proxyStatusAndAnalyzeComeFromTheLatestViewsAndStatuses(KafkaCluster kafka) throws Exception {
    String host = KafkaCluster.uniqueName("svc") + ".default.svc.cluster.local";
    String proxy = KafkaCluster.uniqueName("proxy");
    Instant now = Instant.now();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(Topics.DISCOVERY_VIEWS.name(), host,
          Topics.DISCOVERY_VIEWS.serializeValue(ServiceView.newBuilder().setHost(host)
              .setVersion(2).setGeneratedAt(now).setProblems(List.of(ViewProblem.newBuilder()
                  .setResource("VirtualService/" + namespace + "/broken").setPath("spec.http[0]")
                  .setMessage("subset v9 is not defined").build())).build())));
      producer.send(new ProducerRecord<>(Topics.PROXY_STATUS.name(), proxy,
          Topics.PROXY_STATUS.serializeValue(ProxyStatus.newBuilder().setProxyId(proxy)
              .setState(ProxyState.RUNNING).setStartedAt(now).setReportedAt(now)
              .setViews(List.of(ViewAck.newBuilder().setHost(host).setVersion(1)
                  .setAck(AckState.ACK).setUpdatedAt(now).build())).build())));
    }
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      JsonNode status = json(send("GET", "/api/v1/proxy-status", null));
      List<JsonNode> mine = new ArrayList<>();
      status.path("proxies").forEach(p -> {
        if (p.path("proxyId").asText().equals(proxy)) {
          mine.add(p);
        }
      });
      assertThat(mine).singleElement().satisfies(p -> {
        assertThat(p.path("status").asText()).isEqualTo("STALE");
        assertThat(p.at("/views/0/latestVersion").asLong()).isEqualTo(2);
      });
    });
    JsonNode analysis = json(send("GET", "/api/v1/analyze", null));
    assertThat(analysis.path("errors").asLong()).isGreaterThanOrEqualTo(1);
    assertThat(analysis.path("resources").toString())
        .contains("VirtualService/" + namespace + "/broken");
  }

  @Test
  void analyzeReportsAHeldViewUntilItsTombstone(KafkaCluster kafka) throws Exception {
    String host = KafkaCluster.uniqueName("big") + "." + namespace + ".svc.cluster.local";
    Instant since = Instant.parse("2026-11-24T12:00:00Z");
    ViewHold hold = ViewHold.newBuilder().setHost(host).setService("big").setNamespace(namespace)
        .setViewBytes(1_234_567).setLimitBytes(1_000_000).setSince(since).setUpdatedAt(since)
        .setKeptVersion(7L).setEndpoints(12).setHttpRoutes(0)
        .setCause("registration of " + namespace + "/big/big-12").build();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(Topics.DISCOVERY_HOLDS.name(), host,
          Topics.DISCOVERY_HOLDS.serializeValue(hold)));
    }
    String resource = "ServiceView/" + namespace + "/" + host;
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      JsonNode analysis = json(send("GET", "/api/v1/analyze", null));
      List<JsonNode> mine = new ArrayList<>();
      analysis.path("resources").forEach(r -> {
        if (r.path("resource").asText().equals(resource)) {
          mine.add(r);
        }
      });
      assertThat(mine).singleElement().satisfies(r -> {
        JsonNode finding = r.at("/findings/0");
        assertThat(finding.path("severity").asText()).isEqualTo("ERROR");
        assertThat(finding.path("path").asText()).isEqualTo("view");
        assertThat(finding.path("message").asText()).startsWith("held back: 1234567 bytes"
            + " (expected: at most 1000000 bytes, what one Kafka record carries); proxies keep"
            + " version 7 since 2026-11-24T12:00:00Z");
        assertThat(finding.at("/hold/host").asText()).isEqualTo(host);
        assertThat(finding.at("/hold/viewBytes").asInt()).isEqualTo(1_234_567);
        assertThat(finding.at("/hold/limitBytes").asInt()).isEqualTo(1_000_000);
        assertThat(finding.at("/hold/since").asText()).isEqualTo("2026-11-24T12:00:00Z");
        assertThat(finding.at("/hold/keptVersion").asLong()).isEqualTo(7);
      });
      assertThat(analysis.path("errors").asLong()).isGreaterThanOrEqualTo(1);
    });

    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.clientConfig(),
        new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(Topics.DISCOVERY_HOLDS.name(), host, null));
    }
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(send("GET", "/api/v1/analyze", null).body()).doesNotContain(resource));
  }

  @Test
  void theRootOfTheApiIsAnIndexOfItsRoutes() throws Exception {
    HttpResponse<String> slash = send("GET", "/api/v1/", null);
    HttpResponse<String> bare = send("GET", "/api/v1", null);
    assertThat(slash.statusCode()).isEqualTo(200);
    assertThat(bare.statusCode()).isEqualTo(200);
    assertThat(json(bare)).isEqualTo(json(slash));
    JsonNode routes = json(slash).path("routes");
    List<String> listed = new ArrayList<>();
    routes.forEach(r -> listed.add(r.path("method").asText() + " " + r.path("path").asText()));
    assertThat(listed).contains("GET /api/v1/", "POST /api/v1/apply", "GET /api/v1/resources",
        "GET /api/v1/resources/{kind}/{namespace}/{name}/history", "GET /api/v1/analyze",
        "GET /api/v1/proxy-status", "GET /healthz").doesNotHaveDuplicates();
    routes.forEach(r -> assertThat(r.path("description").asText()).as(r.toString()).isNotBlank());
    // The index is the table the server routes by.
    assertThat(listed).containsExactlyElementsOf(api.server().routes().stream()
        .map(r -> r.method().name() + " " + r.path()).toList());
  }

  @Test
  void everyRouteTheIndexListsIsAnsweredAndNoOtherMethodIs() throws Exception {
    JsonNode routes = json(send("GET", "/api/v1/", null)).path("routes");
    Map<String, java.util.Set<String>> methodsByPath = new java.util.LinkedHashMap<>();
    routes.forEach(r -> methodsByPath.computeIfAbsent(r.path("path").asText(),
        k -> new java.util.TreeSet<>()).add(r.path("method").asText()));
    for (JsonNode route : routes) {
      String path = concrete(route.path("path").asText());
      HttpResponse<String> answer = send(route.path("method").asText(), path, null);
      assertThat(answer.statusCode()).as(route + ": " + answer.body()).isNotEqualTo(405);
      assertThat(answer.body()).as(route.toString()).doesNotContain("no such endpoint");
    }
    for (Map.Entry<String, java.util.Set<String>> entry : methodsByPath.entrySet()) {
      HttpResponse<String> put = send("PUT", concrete(entry.getKey()), "x");
      assertThat(put.statusCode()).as(entry.getKey()).isEqualTo(405);
      assertThat(java.util.Set.of(put.headers().firstValue("Allow").orElseThrow().split(", ")))
          .as(entry.getKey()).isEqualTo(entry.getValue());
    }
    HttpResponse<String> unknown = send("GET", "/api/v1/resources/vs/" + namespace, null);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(json(unknown).at("/errors/0/message").asText()).startsWith("no such endpoint");
  }

  /** A route's path with its {@code {name}} segments filled in: a resource that does not exist. */
  private String concrete(String template) {
    return template.replace("{kind}", "virtualservices").replace("{namespace}", namespace)
        .replace("{name}", "absent");
  }
}
