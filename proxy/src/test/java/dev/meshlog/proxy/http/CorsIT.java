package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.match;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import dev.meshlog.events.discovery.CorsPolicy;
import dev.meshlog.events.discovery.DirectResponse;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.UnmatchedPreflights;
import dev.meshlog.proxy.Sidecar;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A route's corsPolicy through two real proxies on loopback (the app's client sidecar, then the
 * ratings sidecar and app): preflights answered by the client sidecar without reaching the app,
 * actual requests forwarded with their responses marked.
 */
class CorsIT {

  private static final String EXAMPLE = "https://example.com";

  private TestMesh mesh;
  private Sidecar ratings;
  private final AtomicInteger appRequests = new AtomicInteger();

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    int app = mesh.backend(req -> {
      appRequests.incrementAndGet();
      TestMesh.echo("ratings").handle(req);
    });
    ratings = mesh.serverSidecar("ratings", "v1", "zone-a", app);
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  private static CorsPolicy.Builder cors() {
    return CorsPolicy.newBuilder()
        .setAllowOrigins(List.of(match(MatchType.EXACT, EXAMPLE),
            match(MatchType.REGEX, "https://[a-z]+[.]example[.]org")))
        .setAllowMethods(List.of("POST", "GET")).setAllowHeaders(List.of("X-Foo-Bar"))
        .setExposeHeaders(List.of("x-served-by")).setMaxAgeSeconds(86_400L)
        .setAllowCredentials(true);
  }

  private Sidecar client(CorsPolicy cors, HttpRoute... before) {
    Endpoint endpoint = Endpoint.newBuilder().setInstanceId("ratings-v1").setAddress("127.0.0.1")
        .setPort(ratings.inboundPort()).setLabels(Map.of("app", "ratings", "version", "v1"))
        .setZone("zone-a").setCluster("c1").setHealth(EndpointHealth.HEALTHY).build();
    List<HttpRoute> routes = new java.util.ArrayList<>(List.of(before));
    routes.add(route("ratings", List.of(), to("ratings", "v1", 100)).setCorsPolicy(cors).build());
    ServiceView view = view("ratings").setEndpoints(List.of(endpoint))
        .setSubsets(List.of(subset("v1"))).setHttpRoutes(routes).build();
    return mesh.clientSidecar(view);
  }

  private TestMesh.Response preflight(Sidecar client, String origin) {
    return mesh.send(client.outboundPort(), HttpMethod.OPTIONS, "ratings:9080", "/ratings/1",
        null, "origin", origin, "access-control-request-method", "POST",
        "access-control-request-headers", "x-foo-bar", "x-request-id", "pf-" + origin.length());
  }

  @Test
  void answersAPreflightFromAnAllowedOriginWithoutReachingTheApp() {
    Sidecar client = client(cors().build());

    TestMesh.Response answer = preflight(client, EXAMPLE);
    TestMesh.Response regexOrigin = preflight(client, "https://docs.example.org");

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.header("access-control-allow-origin")).isEqualTo(EXAMPLE);
    assertThat(answer.header("access-control-allow-methods")).isEqualTo("POST,GET");
    assertThat(answer.header("access-control-allow-headers")).isEqualTo("X-Foo-Bar");
    assertThat(answer.header("access-control-max-age")).isEqualTo("86400");
    assertThat(answer.header("access-control-allow-credentials")).isEqualTo("true");
    assertThat(answer.header("x-served-by")).isNull();
    assertThat(answer.body()).isEmpty();
    assertThat(regexOrigin.header("access-control-allow-origin"))
        .isEqualTo("https://docs.example.org");
    AccessLogEntry entry = mesh.log.await("outbound", "pf-" + EXAMPLE.length());
    assertThat(entry.status()).isEqualTo(200);
    assertThat(entry.route()).isEqualTo("ratings");
    assertThat(appRequests).hasValue(0);
  }

  @Test
  void forwardsAnActualRequestFromAnAllowedOriginAndMarksItsResponse() {
    Sidecar client = client(cors().build());

    TestMesh.Response response = mesh.get(client.outboundPort(), "ratings:9080", "/ratings/1",
        "origin", EXAMPLE);

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("ratings");
    assertThat(response.header("access-control-allow-origin")).isEqualTo(EXAMPLE);
    assertThat(response.header("access-control-expose-headers")).isEqualTo("x-served-by");
    assertThat(response.header("access-control-allow-credentials")).isEqualTo("true");
    assertThat(response.header("access-control-allow-methods")).isNull();
    assertThat(appRequests).hasValue(1);
  }

  @Test
  void aRequestFromAnOriginNotAllowedOrWithoutOneGetsNoCorsHeaders() {
    Sidecar client = client(cors().build());

    TestMesh.Response other = mesh.get(client.outboundPort(), "ratings:9080", "/ratings/1",
        "origin", "https://evil.io");
    TestMesh.Response none = mesh.get(client.outboundPort(), "ratings:9080", "/ratings/1");

    for (TestMesh.Response r : List.of(other, none)) {
      assertThat(r.body()).isEqualTo("ratings");
      assertThat(r.headers().names()).noneMatch(n -> n.toLowerCase().startsWith("access-control-"));
    }
  }

  @Test
  void anUnmatchedPreflightGoesToTheAppByDefaultAndIsAnsweredWithoutAnOriginUnderIgnore() {
    Sidecar forward = client(cors().build());
    TestMesh.Response forwarded = preflight(forward, "https://evil.io");

    assertThat(forwarded.body()).isEqualTo("ratings");
    assertThat(forwarded.header("access-control-allow-origin")).isNull();
    assertThat(appRequests).hasValue(1);

    Sidecar ignore = client(cors().setUnmatchedPreflights(UnmatchedPreflights.IGNORE).build());
    TestMesh.Response ignored = preflight(ignore, "https://evil.io");

    assertThat(ignored.status()).isEqualTo(200);
    assertThat(ignored.body()).isEmpty();
    assertThat(ignored.header("access-control-allow-origin")).isNull();
    assertThat(appRequests).hasValue(1);
  }

  @Test
  void aDirectResponseRouteIsNotSubjectToCorsAsInEnvoy() {
    HttpRoute direct = route("direct", List.of(HttpMatch.newBuilder()
        .setUri(match(MatchType.PREFIX, "/direct")).build()))
        .setDirectResponse(DirectResponse.newBuilder().setStatus(204).build())
        .setCorsPolicy(cors().build()).build();
    Sidecar client = client(cors().build(), direct);

    TestMesh.Response response = mesh.send(client.outboundPort(), HttpMethod.OPTIONS,
        "ratings:9080", "/direct", null, "origin", EXAMPLE, "access-control-request-method", "GET");

    assertThat(response.status()).isEqualTo(204);
    assertThat(response.header("access-control-allow-origin")).isNull();
  }
}
