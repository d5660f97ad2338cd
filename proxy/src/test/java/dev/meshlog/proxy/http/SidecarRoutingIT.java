package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.http.TestMesh.countBy;
import static dev.meshlog.proxy.http.TestMesh.eventually;
import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.match;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.meshlog.events.discovery.ConsistentHash;
import dev.meshlog.events.discovery.Destination;
import dev.meshlog.events.discovery.DirectResponse;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.HeaderOperations;
import dev.meshlog.events.discovery.Headers;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.LbPolicy;
import dev.meshlog.events.discovery.LoadBalancer;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.events.discovery.Redirect;
import dev.meshlog.events.discovery.Rewrite;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.TrafficPolicy;
import dev.meshlog.proxy.Sidecar;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Routing through two real proxies: the app's client sidecar, then the server sidecar of the
 * chosen reviews instance, then that instance's app.
 */
class SidecarRoutingIT {

  private TestMesh mesh;
  private Sidecar v1;
  private Sidecar v2;
  private final ConcurrentLinkedQueue<HttpServerRequest> mirrored = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void startReviews() {
    mesh = new TestMesh();
    v1 = mesh.serverSidecar("reviews", "v1", "zone-a", mesh.namedBackend("reviews-v1"));
    v2 = mesh.serverSidecar("reviews", "v2", "zone-a", mesh.namedBackend("reviews-v2"));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  private static Endpoint endpoint(Sidecar s, String version) {
    return Endpoint.newBuilder().setInstanceId("reviews-" + version).setAddress("127.0.0.1")
        .setPort(s.inboundPort()).setLabels(Map.of("app", "reviews", "version", version))
        .setZone("zone-a").setCluster("c1").setHealth(EndpointHealth.HEALTHY).build();
  }

  private ServiceView.Builder reviews(HttpRoute... routes) {
    return view("reviews").setEndpoints(List.of(endpoint(v1, "v1"), endpoint(v2, "v2")))
        .setSubsets(List.of(subset("v1"), subset("v2"))).setHttpRoutes(List.of(routes));
  }

  private static HttpMatch header(String name, MatchType type, String value) {
    return HttpMatch.newBuilder().setHeaders(Map.of(name, match(type, value))).build();
  }

  @Test
  void routesJasonToV2AndEveryoneElseToV1() {
    Sidecar client = mesh.clientSidecar(reviews(
        route("jason", List.of(header("end-user", MatchType.EXACT, "jason")),
            to("reviews", "v2", 100)).build(),
        route("default", List.of(), to("reviews", "v1", 100)).build()).build());

    assertThat(mesh.get(client.outboundPort(), "reviews:9080", "/reviews/1", "end-user", "jason")
        .body()).isEqualTo("reviews-v2");
    assertThat(mesh.get(client.outboundPort(), "reviews:9080", "/reviews/1", "end-user", "ana")
        .body()).isEqualTo("reviews-v1");
  }

  @Test
  void routesFirefoxUserAgentsToV2ByRegex() {
    Sidecar client = mesh.clientSidecar(reviews(
        route("firefox", List.of(header("user-agent", MatchType.REGEX, ".*Firefox.*")),
            to("reviews", "v2", 100)).build(),
        route("default", List.of(), to("reviews", "v1", 100)).build()).build());

    assertThat(mesh.get(client.outboundPort(), "reviews", "/", "user-agent",
        "Mozilla/5.0 (X11; rv:120.0) Gecko/20100101 Firefox/120.0").body())
        .isEqualTo("reviews-v2");
    assertThat(mesh.get(client.outboundPort(), "reviews", "/", "user-agent", "curl/8.4").body())
        .isEqualTo("reviews-v1");
  }

  @Test
  void splitsNinetyTenExactlyOverTwoHundredRequests() {
    Sidecar client = mesh.clientSidecar(reviews(route("split", List.of(),
        to("reviews", "v1", 90), to("reviews", "v2", 10)).build()).build());

    List<TestMesh.Response> responses = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      responses.add(mesh.get(client.outboundPort(), "reviews:9080", "/"));
    }

    assertThat(countBy(responses, "x-served-by"))
        .containsExactlyInAnyOrderEntriesOf(Map.of("reviews-v1", 180L, "reviews-v2", 20L));
  }

  @Test
  void sendsEachUserToTheSameInstanceWithAConsistentHashOnAHeader() {
    Sidecar client = mesh.clientSidecar(reviews().setTrafficPolicy(TrafficPolicy.newBuilder()
        .setLoadBalancer(LoadBalancer.newBuilder().setSimple(LbPolicy.UNSPECIFIED)
            .setConsistentHash(ConsistentHash.newBuilder().setHttpHeaderName("x-user").build())
            .build()).build()).build());

    Map<String, java.util.Set<String>> servedBy = new java.util.TreeMap<>();
    for (int round = 0; round < 3; round++) {
      for (int user = 0; user < 20; user++) {
        TestMesh.Response r = mesh.get(client.outboundPort(), "reviews", "/", "x-user", "u" + user);
        // a failed exchange, or a body lost on the way, would otherwise show only as an odd body
        // among the instances
        assertThat(r.status()).as("round %d, user u%d: %s %s", round, user, r.headers(), r.body())
            .isEqualTo(200);
        assertThat(r.body()).as("round %d, user u%d: %s", round, user, r.headers().entries())
            .isIn("reviews-v1", "reviews-v2");
        servedBy.computeIfAbsent("u" + user, u -> new java.util.TreeSet<>()).add(r.body());
      }
    }

    assertThat(servedBy.values()).allSatisfy(s -> assertThat(s).hasSize(1));
    assertThat(servedBy.values().stream().flatMap(java.util.Set::stream).distinct())
        .containsExactlyInAnyOrder("reviews-v1", "reviews-v2");
  }

  @Test
  void sendsEachUserToTheSameInstanceWithAConsistentHashOnAQueryParameter() {
    Sidecar client = mesh.clientSidecar(reviews().setTrafficPolicy(TrafficPolicy.newBuilder()
        .setLoadBalancer(LoadBalancer.newBuilder().setSimple(LbPolicy.UNSPECIFIED)
            .setConsistentHash(ConsistentHash.newBuilder().setHttpQueryParameterName("user").setMinimumRingSize(65_537L).build()).build())
        .build()).build());

    Map<String, java.util.Set<String>> servedBy = new java.util.TreeMap<>();
    for (int round = 0; round < 3; round++) {
      for (int user = 0; user < 20; user++) {
        TestMesh.Response r = mesh.get(client.outboundPort(), "reviews",
            "/reviews?page=" + round + "&user=u" + user);
        assertThat(r.status()).isEqualTo(200);
        servedBy.computeIfAbsent("u" + user, u -> new java.util.TreeSet<>()).add(r.body());
      }
    }
    java.util.Set<String> withoutTheParameter = new java.util.TreeSet<>();
    for (int i = 0; i < 40; i++) {
      withoutTheParameter.add(mesh.get(client.outboundPort(), "reviews", "/reviews?page=1").body());
    }

    assertThat(servedBy.values()).allSatisfy(s -> assertThat(s).hasSize(1));
    assertThat(servedBy.values().stream().flatMap(java.util.Set::stream).distinct())
        .containsExactlyInAnyOrder("reviews-v1", "reviews-v2");
    // No parameter, no hash: a random instance each time, as Envoy's ring does.
    assertThat(withoutTheParameter).containsExactlyInAnyOrder("reviews-v1", "reviews-v2");
  }

  @Test
  void refusesConnectTunnels() {
    Sidecar client = mesh.clientSidecar(reviews().build());

    assertThat(mesh.send(client.outboundPort(), HttpMethod.CONNECT, "reviews:443",
        "reviews:443", null).status()).isEqualTo(501);
  }

  @Test
  void passesTraceHeadersOnAndCreatesThemWhenAbsent() {
    Sidecar client = mesh.clientSidecar(reviews().build());

    TestMesh.Response fresh = mesh.get(client.outboundPort(), "reviews", "/");
    TestMesh.Response given = mesh.get(client.outboundPort(), "reviews", "/", "x-request-id",
        "req-42", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");

    assertThat(fresh.header("x-seen-request-id")).matches("[0-9a-f-]{36}");
    assertThat(fresh.header("x-seen-traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
    assertThat(given.header("x-seen-request-id")).isEqualTo("req-42");
    assertThat(given.header("x-seen-traceparent"))
        .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    AccessLogEntry outbound = mesh.log.await("outbound", "req-42");
    AccessLogEntry inbound = mesh.log.await("inbound", "req-42");
    assertThat(outbound.status()).isEqualTo(200);
    assertThat(outbound.destinationService()).isEqualTo(host("reviews"));
    assertThat(inbound.sourceWorkload()).isEqualTo("productpage-v1");
    assertThat(outbound.flagString()).isEqualTo("-");
  }

  @Test
  void forwardsAnAbsoluteUriProxyRequestToTheHostItNames() {
    Sidecar client = mesh.clientSidecar(reviews().build());

    TestMesh.Response r = mesh.get(client.outboundPort(), "ignored.example",
        "http://reviews.default:9080/reviews/7?x=1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("x-seen-path")).isEqualTo("/reviews/7?x=1");
    assertThat(r.header("x-seen-host")).isEqualTo("reviews.default:9080");
  }

  @Test
  void answers404WithFlagNrForAnUnknownHost() {
    Sidecar client = mesh.clientSidecar(reviews().build());

    TestMesh.Response r = mesh.get(client.outboundPort(), "ratings:9080", "/", "x-request-id",
        "nr-1");

    assertThat(r.status()).isEqualTo(404);
    assertThat(mesh.log.await("outbound", "nr-1").flags()).containsExactly(ResponseFlag.NR);
  }

  @Test
  void rewritesThePrefixAndAuthorityAndEditsHeadersBothWays() {
    HeaderOperations add = HeaderOperations.newBuilder().setSet(Map.of("x-env", "prod")).build();
    HeaderOperations strip = HeaderOperations.newBuilder().setRemove(List.of("x-served-by"))
        .setAdd(Map.of("x-route", "v2-api")).build();
    Sidecar client = mesh.clientSidecar(reviews(route("api", List.of(HttpMatch.newBuilder()
            .setUri(match(MatchType.PREFIX, "/api/v1/")).build()), to("reviews", "v2", 100))
        .setRewrite(Rewrite.newBuilder().setUri("/v2/").setAuthority("reviews-internal").build())
        .setHeaders(Headers.newBuilder().setRequest(add).setResponse(strip).build()).build())
        .build());

    TestMesh.Response r = mesh.get(client.outboundPort(), "reviews", "/api/v1/books?id=3");

    assertThat(r.header("x-seen-path")).isEqualTo("/v2/books?id=3");
    assertThat(r.header("x-seen-host")).isEqualTo("reviews-internal");
    assertThat(r.header("x-served-by")).isNull();
    assertThat(r.header("x-route")).isEqualTo("v2-api");
  }

  @Test
  void answersRedirectsAndDirectResponsesWithoutCallingAnEndpoint() {
    Sidecar client = mesh.clientSidecar(reviews(
        HttpRoute.newBuilder().setName("moved").setMatches(List.of(HttpMatch.newBuilder()
                .setUri(match(MatchType.EXACT, "/old")).build()))
            .setRedirect(Redirect.newBuilder().setUri("/new").setResponseCode(302).build()).build(),
        HttpRoute.newBuilder().setName("teapot")
            .setDirectResponse(DirectResponse.newBuilder().setStatus(418).setBody("short and stout")
                .build()).build()).build());

    TestMesh.Response moved = mesh.get(client.outboundPort(), "reviews:9080", "/old");
    TestMesh.Response teapot = mesh.get(client.outboundPort(), "reviews:9080", "/anything");

    assertThat(moved.status()).isEqualTo(302);
    assertThat(moved.header("location")).isEqualTo("http://reviews:9080/new");
    assertThat(teapot.status()).isEqualTo(418);
    assertThat(teapot.body()).isEqualTo("short and stout");
  }

  @Test
  void mirrorsRequestsFireAndForgetWithoutAffectingTheResponse() {
    int shadowApp = mesh.backend(mirrored::add); // never answers
    Sidecar shadow = mesh.serverSidecar("reviews", "v3", "zone-a", shadowApp);
    Endpoint v3 = Endpoint.newBuilder(endpoint(shadow, "v3")).build();
    Sidecar client = mesh.clientSidecar(view("reviews")
        .setEndpoints(List.of(endpoint(v1, "v1"), v3))
        .setSubsets(List.of(subset("v1"), subset("v3")))
        .setHttpRoutes(List.of(route("mirrored", List.of(), to("reviews", "v1", 100))
            .setMirror(Destination.newBuilder().setHost(host("reviews")).setSubset("v3").build())
            .setMirrorPercentage(100.0).build()))
        .build());

    TestMesh.Response r = mesh.send(client.outboundPort(), HttpMethod.POST, "reviews:9080",
        "/reviews", Buffer.buffer("{\"stars\":5}"), "x-request-id", "m-1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("reviews-v1");
    assertThat(r.header("x-seen-body-length")).isEqualTo("11");
    eventually(() -> assertThat(mirrored).hasSize(1));
    HttpServerRequest copy = mirrored.peek();
    assertThat(copy.getHeader("host")).isEqualTo("reviews-shadow:9080");
    assertThat(copy.getHeader("x-request-id")).isEqualTo("m-1");
    assertThat(copy.path()).isEqualTo("/reviews");
  }
}
