package dev.meshlog.config.api;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.client.ConfigCommands;
import dev.meshlog.config.client.CurrentResource;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.client.Outcome;
import dev.meshlog.config.client.Revision;
import dev.meshlog.config.client.SubmitTimeoutException;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.config.status.Analysis;
import dev.meshlog.config.status.Convergence;
import dev.meshlog.config.status.ProxyStatusTable;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.RejectionReason;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.status.ProxyStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The config HTTP API on a Vert.x core {@link HttpServer}, routed through one table of
 * {@link ApiRoute}s ({@link #routes()}) that {@code GET /api/v1/} also serves as the API's index:
 * apply, resources (list, get, delete, history, rollback), proxy status, analyze, and
 * {@code /healthz} (200 once the read model is loaded). A path no route has is 404; a method a
 * path lacks is 405 with {@code Allow}.
 *
 * <p>With tokens configured ({@code --api-token-file}, {@link ApiTokens}), every endpoint but
 * {@code /healthz} answers 401 unless the request carries {@code Authorization: Bearer TOKEN} of
 * one of them (compared in constant time), and 403 when the token may read but the route writes
 * ({@link ApiRoute#access()}). A per-user token's user is the actor of the commands it sends; an
 * {@code X-Meshlog-Actor} naming someone else is refused (403), not ignored. The one shared token
 * of a one-token file, and an open API (no tokens, as for a local run), may do everything and
 * record the header's actor, else {@code api}.
 *
 * <p>Reads are served on the event loop from the {@link ReadModel}; parsing, validation and Kafka
 * work run on worker threads. Bodies over {@link #MAX_BODY_BYTES} get 413; bad input gets 400 or
 * 422 with {@code {"errors":[{"resource","path","value","message"}]}} (400: a document that is
 * not a resource at all; 422: a resource with invalid fields); rejected commands get 409
 * (conflict), 404 (not found) or 422 (invalid), with the same errors.
 */
public final class ApiServer {

  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

  /** The largest request body accepted: 1 MiB. */
  public static final int MAX_BODY_BYTES = 1 << 20;
  /** How long a write waits for the read model to show it before answering anyway. */
  private static final Duration READ_YOUR_WRITES = Duration.ofSeconds(5);
  private static final String PREFIX = "/api/v1/";
  /** Request header naming who asks; commands name "api" otherwise. */
  public static final String ACTOR_HEADER = "X-Meshlog-Actor";

  private final Vertx vertx;
  private final MeshClient client;
  private final ReadModel readModel;
  private final DocumentCheck check;
  private final Clock clock;
  /** The tokens in force, or {@code null}: an open API. */
  private final Supplier<ApiTokens> tokens;
  private HttpServer server;
  /** Every route, dispatched and listed from this one table. */
  private final List<ApiRoute> routes;

  /**
   * @param vertx the Vert.x instance to serve on
   * @param client submits commands
   * @param readModel answers reads
   * @param check parses and validates applied YAML
   * @param clock gives commands their {@code requestedAt}
   */
  public ApiServer(Vertx vertx, MeshClient client, ReadModel readModel, DocumentCheck check,
                   Clock clock) {
    this(vertx, client, readModel, check, clock, null);
  }

  /**
   * An API that asks every request but {@code /healthz} for {@code Authorization: Bearer TOKEN}
   * with a token of {@code tokens} (asked for each request: a {@link TokenFile} read again puts
   * its tokens in force at once); {@code null} asks for nothing.
   */
  public ApiServer(Vertx vertx, MeshClient client, ReadModel readModel, DocumentCheck check,
                   Clock clock, Supplier<ApiTokens> tokens) {
    this.vertx = vertx;
    this.client = client;
    this.readModel = readModel;
    this.check = check;
    this.clock = clock;
    this.tokens = tokens;
    this.routes = buildRoutes();
  }

  /**
   * Who sends the request, as its bearer token says; answers 401 and is empty when the token is
   * missing or none of the API's. An open API's caller is {@link Caller#SHARED}.
   */
  private Optional<Caller> authenticate(HttpServerRequest request) {
    if (tokens == null) {
      return Optional.of(Caller.SHARED);
    }
    String given = request.getHeader("Authorization");
    String token = given == null ? null : bearer(given.strip());
    Optional<Caller> caller = token == null ? Optional.empty() : tokens.get().caller(token);
    if (caller.isEmpty()) {
      request.response().putHeader("WWW-Authenticate", "Bearer realm=\"meshlog\"");
      error(request, 401, "", "Authorization", (given == null ? "no" : "a wrong")
          + " bearer token (expected: Authorization: Bearer <a token of the config service's"
          + " --api-token-file>)");
    }
    return caller;
  }

  /** The token of an {@code Authorization: Bearer TOKEN} value (scheme in any case), or null. */
  private static String bearer(String authorization) {
    return authorization.regionMatches(true, 0, "Bearer ", 0, 7)
        ? authorization.substring(7).strip() : null;
  }

  /**
   * Whether {@code caller} may use {@code route}; answers 403 when not: a token that may only
   * read on a route that writes, or a per-user token whose {@code X-Meshlog-Actor} names
   * someone else (as Kubernetes refuses impersonation the caller was not granted).
   */
  private boolean permitted(HttpServerRequest request, ApiRoute route, Caller caller) {
    if (!caller.access().covers(route.access())) {
      LOG.warn("refused {} {}: {} may {}, not {}", request.method(), request.path(),
          caller.describe(), caller.access().label(), route.access().label());
      error(request, 403, "", "Authorization", caller.describe() + " may "
          + caller.access().label() + ", not " + route.access().label() + ": "
          + route.method() + " " + route.path() + " needs a token with the "
          + route.access().label() + " role (--api-token-file)");
      return false;
    }
    String actor = request.getHeader(ACTOR_HEADER);
    if (route.access() == Access.WRITE && caller.user() != null && actor != null
        && !actor.isBlank() && !actor.strip().equals(caller.user())) {
      LOG.warn("refused {} {}: {} named {} as the actor", request.method(), request.path(),
          caller.describe(), actor.strip());
      error(request, 403, "", ACTOR_HEADER, ACTOR_HEADER + ": " + actor.strip()
          + " (expected: " + caller.user() + ", the user of this bearer token, or no header:"
          + " a per-user token records its own user as the actor)");
      return false;
    }
    return true;
  }

  /** Starts listening; completes with the bound port ({@code port} 0 picks a free one). */
  public Future<Integer> listen(String host, int port) {
    server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port)
        .setDecompressionSupported(false));
    server.requestHandler(this::handle);
    return server.listen().map(HttpServer::actualPort);
  }

  /** Stops listening. */
  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  // ---- routing --------------------------------------------------------------------------------

  /**
   * Every route the API answers, in the order the index lists them: the router dispatches
   * through this table only, and {@code GET /api/v1/} serves it.
   */
  private List<ApiRoute> buildRoutes() {
    String resource = PREFIX + "resources/{kind}/{namespace}/{name}";
    return List.of(
        new ApiRoute(HttpMethod.GET, PREFIX, "this index: every route of the API, one line each",
            Access.READ, (request, p, caller) -> index(request)),
        new ApiRoute(HttpMethod.POST, PREFIX + "apply", "apply resources: YAML (several"
            + " documents) or JSON (one object or a stream of them), at most 1 MiB;"
            + " ?dryRun=true (or All) validates only, ?expectedRevision=N applies only at revision N",
            Access.WRITE, (request, p, caller) -> apply(request, caller)),
        new ApiRoute(HttpMethod.GET, PREFIX + "resources", "every current resource"
            + " (?namespace= filters)", Access.READ, (request, p, caller) -> {
              if (loaded(request)) {
                list(request, null);
              }
            }),
        new ApiRoute(HttpMethod.GET, PREFIX + "resources/{kind}", "the current resources of a kind"
            + " (vs, virtualservices, ...; ?namespace= filters)", Access.READ,
            (request, p, caller) -> kind(request, p).ifPresent(kind -> {
              if (loaded(request)) {
                list(request, kind);
              }
            })),
        new ApiRoute(HttpMethod.GET, resource, "one resource as it is now, with its revision",
            Access.READ, (request, p, caller) -> id(request, p).ifPresent(id -> {
              if (loaded(request)) {
                Optional<CurrentResource> current = readModel.resource(id);
                if (current.isPresent()) {
                  json(request, 200, ApiJson.resource(current.get()));
                } else {
                  error(request, 404, id.key(), "metadata.name", id.key() + " not found");
                }
              }
            })),
        new ApiRoute(HttpMethod.DELETE, resource, "delete the resource (404 when it does not"
            + " exist)", Access.WRITE,
            (request, p, caller) -> id(request, p).ifPresent(id ->
                submit(request, commands(request, caller).delete(id)))),
        new ApiRoute(HttpMethod.GET, resource + "/history", "every revision of the resource:"
            + " change, actor, source, times", Access.READ,
            (request, p, caller) -> id(request, p).ifPresent(id -> history(request, id))),
        new ApiRoute(HttpMethod.POST, resource + "/rollback", "roll back to ?revision=N: a new"
            + " revision whose document is N's", Access.WRITE,
            (request, p, caller) -> id(request, p).ifPresent(id -> rollback(request, id, caller))),
        new ApiRoute(HttpMethod.GET, PREFIX + "proxy-status", "each proxy's sync state per view,"
            + " and the convergence of each change", Access.READ, (request, p, caller) -> {
              if (loaded(request)) {
                proxyStatus(request);
              }
            }),
        new ApiRoute(HttpMethod.GET, PREFIX + "analyze", "the problems found while compiling"
            + " views, per resource, and the views held back for size", Access.READ,
            (request, p, caller) -> {
              if (loaded(request)) {
                Analysis analysis = Analysis.of(readModel.views().values(),
                    readModel.holds().values());
                json(request, 200, ApiJson.analysis(analysis));
              }
            }),
        new ApiRoute(HttpMethod.GET, "/healthz", "200 once the read model has loaded the log, 503"
            + " before; asks for no token", Access.NONE, (request, p, caller) -> request.response()
            .setStatusCode(readModel.isReady() ? 200 : 503)
            .end(readModel.isReady() ? "ok\n" : "loading\n")));
  }

  /** The routes the API answers, in index order. */
  public List<ApiRoute> routes() {
    return routes;
  }

  private void handle(HttpServerRequest request) {
    String path = request.path();
    try {
      List<String> segments = ApiRoute.segments(path);
      List<ApiRoute> matching = new ArrayList<>();
      Map<String, String> params = null;
      ApiRoute chosen = null;
      for (ApiRoute route : routes) {
        Optional<Map<String, String>> bound = route.match(segments);
        if (bound.isPresent()) {
          matching.add(route);
          if (route.method() == request.method()) {
            chosen = route;
            params = bound.get();
          }
        }
      }
      boolean open = !matching.isEmpty() && matching.stream().allMatch(ApiRoute::open);
      Optional<Caller> caller = open ? Optional.of(Caller.SHARED) : authenticate(request);
      if (caller.isEmpty()) {
        return; // an unknown path asks for the token too: without it, nothing about the API shows
      }
      if (matching.isEmpty()) {
        notFound(request);
      } else if (chosen == null) {
        methodNotAllowed(request, matching.stream().map(r -> r.method().name())
            .collect(Collectors.joining(", ")));
      } else if (permitted(request, chosen, caller.get())) {
        chosen.handler().handle(request, params, caller.get());
      }
    } catch (RuntimeException e) {
      LOG.error("{} {} failed", request.method(), path, e);
      error(request, 500, "", "", "internal error: " + e.getMessage());
    }
  }

  /** {@code GET /api/v1/}: the route table, one line per route. */
  private void index(HttpServerRequest request) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("api", "meshlog config-service " + PREFIX);
    ArrayNode list = node.putArray("routes");
    for (ApiRoute route : routes) {
      ObjectNode r = list.addObject();
      r.put("method", route.method().name());
      r.put("path", route.path());
      r.put("description", route.summary());
      r.put("access", route.access().label());
      r.put("token", !route.open() && tokens != null);
    }
    json(request, 200, node);
  }

  /** The kind of the path, or a 400 naming the kinds there are. */
  private Optional<Kind> kind(HttpServerRequest request, Map<String, String> params) {
    String name = params.get("kind");
    Optional<Kind> kind = Kind.byUserName(name);
    if (kind.isEmpty()) {
      error(request, 400, "", "kind", "unknown kind " + name + " (expected one of: "
          + Arrays.stream(Kind.values()).map(Kind::kindName).collect(Collectors.joining(", "))
          + ")");
    }
    return kind;
  }

  /** The resource of the path, or a 400 for an unknown kind. */
  private Optional<ResourceId> id(HttpServerRequest request, Map<String, String> params) {
    return kind(request, params).map(kind -> new ResourceId(kind.kindName(),
        params.get("namespace"), params.get("name")));
  }

  private void history(HttpServerRequest request, ResourceId id) {
    if (!loaded(request)) {
      return;
    }
    List<Revision> history = readModel.history(id);
    if (history.isEmpty()) {
      error(request, 404, id.key(), "metadata.name", id.key() + " has no history");
      return;
    }
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("resource", id.key());
    ArrayNode revisions = node.putArray("revisions");
    history.forEach(r -> revisions.add(ApiJson.revision(r)));
    json(request, 200, node);
  }

  private void rollback(HttpServerRequest request, ResourceId id, Caller caller) {
    String value = request.getParam("revision");
    long revision;
    try {
      revision = Long.parseLong(value == null ? "" : value);
    } catch (NumberFormatException e) {
      revision = 0;
    }
    if (revision < 1) {
      error(request, 400, id.key(), "revision", "revision: " + value
          + " (expected: ?revision=N with N a revision of the resource, 1 or more)");
      return;
    }
    submit(request, commands(request, caller).rollback(id, revision));
  }

  // ---- reads ----------------------------------------------------------------------------------

  private void list(HttpServerRequest request, Kind kind) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    ArrayNode items = node.putArray("items");
    String namespace = request.getParam("namespace");
    for (CurrentResource current : readModel.resources().values()) {
      if ((kind == null || current.id().kind().equals(kind.kindName()))
          && (namespace == null || current.id().namespace().equals(namespace))) {
        items.add(ApiJson.resource(current));
      }
    }
    json(request, 200, node);
  }

  private void proxyStatus(HttpServerRequest request) {
    var views = readModel.views();
    var statuses = readModel.proxyStatuses().values();
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    ArrayNode proxies = node.putArray("proxies");
    ProxyStatusTable.rows(views, statuses).forEach(r -> proxies.add(ApiJson.proxy(r)));
    ArrayNode changes = node.putArray("changes");
    Convergence.of(views, statuses).forEach(c -> changes.add(ApiJson.change(c)));
    json(request, 200, node);
  }

  // ---- writes ---------------------------------------------------------------------------------

  private void apply(HttpServerRequest request, Caller caller) {
    String length = request.getHeader("Content-Length");
    if (length != null && parseLong(length) > MAX_BODY_BYTES) {
      tooLarge(request);
      return;
    }
    Buffer body = Buffer.buffer();
    boolean[] overflow = {false};
    request.handler(chunk -> {
      if (overflow[0]) {
        return;
      }
      if (body.length() + chunk.length() > MAX_BODY_BYTES) {
        overflow[0] = true;
        tooLarge(request);
        return;
      }
      body.appendBuffer(chunk);
    });
    request.endHandler(v -> {
      if (overflow[0]) {
        return;
      }
      ApplyRequest apply = ApplyRequest.of(request, body);
      if (apply.error() != null) {
        json(request, apply.error().status(), apply.error().body());
        return;
      }
      ConfigCommands commands = commands(request, caller);
      blocking(request, () -> applyBlocking(apply.text(), apply.dryRun(), apply.expectedRevision(),
          commands));
    });
  }

  /**
   * What a {@code POST /apply} asks for, checked before anything is parsed: its query (only
   * {@code dryRun} and {@code expectedRevision}: a misspelt {@code dryrun} must not turn a dry
   * run into a real apply), its content type (YAML, JSON or plain text, else 415) and a body
   * that is UTF-8 (a lenient decoding would store U+FFFD in place of each bad byte).
   */
  private record ApplyRequest(String text, boolean dryRun, Long expectedRevision, Reply error) {

    private static final List<String> PARAMETERS = List.of("dryRun", "expectedRevision");
    private static final List<String> MEDIA_TYPES = List.of("application/yaml",
        "application/x-yaml", "text/yaml", "text/x-yaml", "application/json", "text/plain",
        "application/apply-patch+yaml");

    static ApplyRequest of(HttpServerRequest request, Buffer body) {
      for (String name : request.params().names()) {
        if (!PARAMETERS.contains(name)) {
          return failed(400, name, "unknown query parameter " + name + " (expected: "
              + String.join(", ", PARAMETERS) + ")");
        }
      }
      String dryRunValue = request.getParam("dryRun");
      if (dryRunValue != null && !List.of("true", "false", "All").contains(dryRunValue)) {
        return failed(400, "dryRun", "dryRun: " + dryRunValue + " (expected: true, false or All)");
      }
      boolean dryRun = dryRunValue != null && !dryRunValue.equals("false");
      Long expectedRevision = null;
      String revisionValue = request.getParam("expectedRevision");
      if (revisionValue != null) {
        expectedRevision = parseLong(revisionValue);
        if (expectedRevision < 0 || !revisionValue.strip().equals(revisionValue)) {
          return failed(400, "expectedRevision", "expectedRevision: " + revisionValue
              + " (expected: the resource's current revision, or 0 if it must not exist)");
        }
      }
      String contentType = request.getHeader("Content-Type");
      if (contentType != null) {
        String mediaType = contentType.split(";", 2)[0].strip().toLowerCase(java.util.Locale.ROOT);
        if (!mediaType.isEmpty() && !MEDIA_TYPES.contains(mediaType)) {
          return new ApplyRequest(null, false, null, new Reply(415, ApiJson.errors(List.of(
              ApiJson.error("", "Content-Type", null, "Content-Type: " + contentType
                  + " (expected one of: " + String.join(", ", MEDIA_TYPES) + ")")))));
        }
      }
      try {
        String text = StandardCharsets.UTF_8.newDecoder()
            .decode(java.nio.ByteBuffer.wrap(body.getBytes())).toString();
        return new ApplyRequest(text, dryRun, expectedRevision, null);
      } catch (java.nio.charset.CharacterCodingException e) {
        return failed(400, "body", "not UTF-8 text (expected: a UTF-8 body)");
      }
    }

    private static ApplyRequest failed(int status, String path, String message) {
      return new ApplyRequest(null, false, null,
          new Reply(status, ApiJson.errors(List.of(ApiJson.error("", path, null, message)))));
    }
  }

  private Reply applyBlocking(String text, boolean dryRun, Long expectedRevision,
                              ConfigCommands commands) throws InterruptedException {
    DocumentCheck.Checked checked = check.check(text, "request");
    if (!checked.malformed().isEmpty()) {
      List<JsonNode> all = new ArrayList<>(checked.malformed());
      all.addAll(checked.invalid());
      return new Reply(400, ApiJson.errors(all));
    }
    if (!checked.invalid().isEmpty()) {
      return new Reply(422, ApiJson.errors(checked.invalid()));
    }
    if (checked.resources().isEmpty()) {
      return new Reply(400, ApiJson.errors(List.of(ApiJson.error("", "body", null,
          "no resources in the request body (expected one or more YAML documents)"))));
    }
    if (dryRun) {
      ObjectNode node = JsonNodeFactory.instance.objectNode();
      node.put("dryRun", true);
      ArrayNode results = node.putArray("results");
      checked.resources().forEach(r -> {
        ObjectNode result = results.addObject();
        result.put("resource", r.id().key());
        Optional<CurrentResource> current = readModel.resource(r.id());
        result.put("changeType", current.isEmpty() ? "CREATED"
            : r.sha256().equals(current.get().event().getDocumentHash()) ? "UNCHANGED" : "UPDATED");
      });
      return new Reply(200, node);
    }
    List<ConfigCommand> batch = new ArrayList<>();
    checked.resources().forEach(r -> batch.add(commands.apply(r, expectedRevision)));
    return outcomes(client.submit(batch));
  }

  private void submit(HttpServerRequest request, ConfigCommand command) {
    blocking(request, () -> outcomes(client.submit(List.of(command))));
  }

  /** 200 when every command was accepted; else 409, 404 or 422 with the errors. */
  private Reply outcomes(List<Outcome> outcomes) throws InterruptedException {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    ArrayNode results = node.putArray("results");
    List<JsonNode> errors = new ArrayList<>();
    List<RejectionReason> reasons = new ArrayList<>();
    for (Outcome outcome : outcomes) {
      ObjectNode result = ApiJson.outcome(outcome);
      results.add(result);
      if (outcome.accepted()) {
        // Read your writes: a GET right after this answer shows the change.
        readModel.awaitEvent(outcome.partition(), outcome.offset(), READ_YOUR_WRITES);
      } else {
        result.withArray("errors").forEach(errors::add);
        reasons.add(outcome.reason());
      }
    }
    if (errors.isEmpty() && reasons.isEmpty()) {
      return new Reply(200, node);
    }
    node.putArray("errors").addAll(errors);
    int status = reasons.stream().allMatch(r -> r == RejectionReason.CONFLICT) ? 409
        : reasons.stream().allMatch(r -> r == RejectionReason.NOT_FOUND) ? 404 : 422;
    return new Reply(status, node);
  }

  /**
   * Commands in the caller's name: a per-user token's user, else (the shared token, an open API)
   * the {@code X-Meshlog-Actor} header, else {@code api}.
   */
  private ConfigCommands commands(HttpServerRequest request, Caller caller) {
    String actor = caller.user() != null ? caller.user() : request.getHeader(ACTOR_HEADER);
    return ConfigCommands.of(actor == null || actor.isBlank() ? "api" : actor.strip(),
        SourceType.API, clock);
  }

  /** A status and a JSON body. */
  private record Reply(int status, JsonNode body) {}

  private void blocking(HttpServerRequest request, Callable<Reply> work) {
    Callable<Reply> guarded = () -> {
      try {
        return work.call();
      } catch (Exception e) {
        throw e;
      } catch (Throwable t) {
        // An Error must still answer the request rather than leave it hanging.
        throw new IllegalStateException(t.toString(), t);
      }
    };
    vertx.executeBlocking(guarded, false).onComplete(result -> {
      if (result.succeeded()) {
        json(request, result.result().status(), result.result().body());
      } else if (result.cause() instanceof SubmitTimeoutException e) {
        error(request, 504, "", "", e.getMessage());
      } else {
        LOG.warn("{} {} failed: {}", request.method(), request.path(), result.cause().toString());
        error(request, 503, "", "", String.valueOf(result.cause().getMessage()));
      }
    });
  }

  // ---- responses ------------------------------------------------------------------------------

  private boolean allow(HttpServerRequest request, HttpMethod method) {
    if (request.method() == method) {
      return true;
    }
    methodNotAllowed(request, method.name());
    return false;
  }

  private boolean loaded(HttpServerRequest request) {
    if (readModel.isReady()) {
      return true;
    }
    error(request, 503, "", "", "the read model is still loading the config log; retry shortly");
    return false;
  }

  private void methodNotAllowed(HttpServerRequest request, String allowed) {
    request.response().putHeader("Allow", allowed);
    error(request, 405, "", "", request.method() + " " + request.path()
        + " (expected: " + allowed + ")");
  }

  private void notFound(HttpServerRequest request) {
    error(request, 404, "", "", "no such endpoint: " + request.method() + " " + request.path());
  }

  private void tooLarge(HttpServerRequest request) {
    // Answer at once and close: the rest of the body is not worth reading.
    HttpServerResponse response = request.response();
    response.putHeader("Connection", "close");
    error(request, 413, "", "body", "request body larger than " + MAX_BODY_BYTES
        + " bytes (expected: at most 1 MiB)");
  }

  private void error(HttpServerRequest request, int status, String resource, String path,
                     String message) {
    json(request, status, ApiJson.errors(List.of(ApiJson.error(resource, path, null, message))));
  }

  private static void json(HttpServerRequest request, int status, JsonNode body) {
    HttpServerResponse response = request.response();
    if (response.ended()) {
      return;
    }
    String text;
    try {
      text = ApiJson.MAPPER.writeValueAsString(body) + "\n";
    } catch (JsonProcessingException e) {
      text = "{\"errors\":[{\"message\":\"cannot encode the response\"}]}\n";
      status = 500;
    }
    response.setStatusCode(status)
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .end(text);
  }

  private static long parseLong(String value) {
    try {
      return Long.parseLong(value.strip());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
