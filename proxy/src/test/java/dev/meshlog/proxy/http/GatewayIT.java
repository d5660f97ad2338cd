package dev.meshlog.proxy.http;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.match;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import dev.meshlog.events.discovery.AbortFault;
import dev.meshlog.events.discovery.CorsPolicy;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.FaultInjection;
import dev.meshlog.events.discovery.GatewayServer;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.RetryPolicy;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.proxy.Gateway;
import dev.meshlog.proxy.Sidecar;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ViewTranslator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An ingress gateway in front of two productpage instances (each behind its sidecar), run from
 * a hand-made gateway view as config-service compiles them: servers with hosts, and routes of
 * VirtualServices bound to the gateway carrying those VirtualServices' hosts.
 */
class GatewayIT {

  private static final String GATEWAY_HOST = "gateway.bookinfo-gateway.default";
  private static final GatewayBinding BINDING = new GatewayBinding("bookinfo-gateway", "default");

  private TestMesh mesh;
  private Sidecar v1;
  private Sidecar v2;

  @BeforeEach
  void start() {
    mesh = new TestMesh();
    v1 = mesh.serverSidecar("productpage", "v1", "zone-a", mesh.namedBackend("productpage-v1"));
    v2 = mesh.serverSidecar("productpage", "v2", "zone-a", mesh.namedBackend("productpage-v2"));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  private static Endpoint endpoint(Sidecar s, String version) {
    return Endpoint.newBuilder().setInstanceId("productpage-" + version).setAddress("127.0.0.1")
        .setPort(s.inboundPort()).setLabels(Map.of("version", version)).setZone("zone-a")
        .setCluster("c1").setHealth(EndpointHealth.HEALTHY).build();
  }

  private ServiceView productpage() {
    return view("productpage").setEndpoints(List.of(endpoint(v1, "v1"), endpoint(v2, "v2")))
        .setSubsets(List.of(subset("v1"), subset("v2"))).build();
  }

  private static HttpRoute.Builder bound(HttpRoute.Builder route, String... hosts) {
    return route.setVirtualService("default/bookinfo").setHosts(List.of(hosts));
  }

  /** The gateway view: one HTTP server on 8080 for bookinfo.example.com and *.bookinfo.test. */
  private static ServiceView gatewayView(HttpRoute... routes) {
    return ServiceView.newBuilder().setHost(GATEWAY_HOST).setService("bookinfo-gateway")
        .setNamespace("default").setVersion(1).setGeneratedAt(dev.meshlog.proxy.support.Views.T0)
        .setGatewayServers(List.of(GatewayServer.newBuilder().setName("http").setPort(8080)
            .setProtocol(Protocol.HTTP).setHosts(List.of("bookinfo.example.com", "*.bookinfo.test"))
            .build()))
        .setHttpRoutes(List.of(routes)).build();
  }

  private Gateway gateway(ServiceView... views) {
    ProxySnapshot snapshot = ProxySnapshot.of(java.util.Arrays.stream(views)
        .map(ViewTranslator::translate).toList());
    ProxyIdentity id = ProxyIdentity.of("bookinfo-gateway", "default", "", "zone-a", "c1");
    ProxyRuntime rt = new ProxyRuntime(mesh.vertx, Sidecar.newClient(mesh.vertx, 8),
        new SnapshotHolder(snapshot, id, Clock.systemUTC()), Clock.systemUTC(),
        ThreadLocalRandom::current, mesh.log, ListenerLimits.DEFAULT, "cluster.local");
    return Gateway.start(rt, BINDING, "127.0.0.1", 0).await();
  }

  private static HttpMatch uri(MatchType type, String value) {
    return HttpMatch.newBuilder().setUri(match(type, value)).build();
  }

  @Test
  void routesARequestForAServedHostToTheMeshDestinationOfItsRoute() {
    Gateway gw = gateway(productpage(), gatewayView(
        bound(route("v2-api", List.of(uri(MatchType.PREFIX, "/api")), to("productpage", "v2", 100)),
            "bookinfo.example.com").build(),
        bound(route("pages", List.of(uri(MatchType.EXACT, "/productpage")),
            to("productpage", "v1", 100)), "bookinfo.example.com").build()));

    TestMesh.Response page = mesh.get(gw.port(), "bookinfo.example.com", "/productpage",
        "x-request-id", "gw-1");
    TestMesh.Response api = mesh.get(gw.port(), "bookinfo.example.com:8080", "/api/v1/products");

    assertThat(page.status()).isEqualTo(200);
    assertThat(page.body()).isEqualTo("productpage-v1");
    assertThat(page.header("x-seen-host")).isEqualTo("bookinfo.example.com");
    assertThat(api.body()).isEqualTo("productpage-v2");
    AccessLogEntry entry = mesh.log.await("gateway", "gw-1");
    assertThat(entry.route()).isEqualTo("pages");
    assertThat(entry.destinationService()).isEqualTo(host("productpage"));
    assertThat(entry.sourceWorkload()).isEqualTo("bookinfo-gateway");
    assertThat(mesh.log.await("inbound", "gw-1").sourceWorkload()).isEqualTo("bookinfo-gateway");
  }

  @Test
  void answersACorsPreflightAtTheGatewayAndMarksTheActualResponse() {
    CorsPolicy cors = CorsPolicy.newBuilder()
        .setAllowOrigins(List.of(match(MatchType.PREFIX, "https://shop.")))
        .setAllowMethods(List.of("GET", "PUT")).setMaxAgeSeconds(600L).build();
    Gateway gw = gateway(productpage(), gatewayView(bound(route("all", List.of(),
        to("productpage", "v1", 100)).setCorsPolicy(cors), "bookinfo.example.com").build()));

    TestMesh.Response preflight = mesh.send(gw.port(), io.vertx.core.http.HttpMethod.OPTIONS,
        "bookinfo.example.com", "/api/cart", null, "origin", "https://shop.example.com",
        "access-control-request-method", "PUT", "x-request-id", "cors-pf");
    TestMesh.Response actual = mesh.get(gw.port(), "bookinfo.example.com", "/api/cart",
        "origin", "https://shop.example.com");

    assertThat(preflight.status()).isEqualTo(200);
    assertThat(preflight.header("access-control-allow-origin")).isEqualTo("https://shop.example.com");
    assertThat(preflight.header("access-control-allow-methods")).isEqualTo("GET,PUT");
    assertThat(preflight.header("access-control-max-age")).isEqualTo("600");
    assertThat(preflight.header("x-served-by")).isNull();
    assertThat(mesh.log.await("gateway", "cors-pf").status()).isEqualTo(200);
    assertThat(mesh.log.count(e -> "inbound".equals(e.direction())
        && "cors-pf".equals(e.requestId()))).isZero();
    assertThat(actual.body()).isEqualTo("productpage-v1");
    assertThat(actual.header("access-control-allow-origin")).isEqualTo("https://shop.example.com");
  }

  @Test
  void stripsEnvoyAndMeshHeadersAnOutsideClientSends() {
    java.util.concurrent.ConcurrentLinkedQueue<io.vertx.core.MultiMap> seen =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    Sidecar v3 = mesh.serverSidecar("productpage", "v3", "zone-a", mesh.backend(req -> {
      seen.add(io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(req.headers()));
      req.response().end("productpage-v3");
    }));
    Gateway gw = gateway(view("productpage").setEndpoints(List.of(endpoint(v3, "v3")))
        .setSubsets(List.of(subset("v3"))).build(), gatewayView(
        bound(route("all", List.of(), to("productpage", "v3", 100)), "bookinfo.example.com")
            .build()));

    TestMesh.Response r = mesh.get(gw.port(), "bookinfo.example.com", "/", "x-request-id",
        "gw-spoof", "x-meshlog-peer", "prod/payments/v1/c1/zone-a/payments-v1",
        "x-meshlog-source-workload", "payments-v1", "x-envoy-retry-on", "5xx",
        "x-envoy-upstream-rq-timeout-ms", "1", "x-kept", "k");

    assertThat(r.body()).isEqualTo("productpage-v3");
    assertThat(seen.remove().names()).map(String::toLowerCase)
        .noneMatch(n -> n.startsWith("x-envoy-") && !n.equals("x-envoy-external-address")
            && !n.equals("x-envoy-attempt-count") || n.startsWith("x-meshlog-"))
        .contains("x-kept");
    AccessLogEntry inbound = mesh.log.await("inbound", "gw-spoof");
    assertThat(inbound.sourceWorkload()).isEqualTo("bookinfo-gateway");
    assertThat(inbound.sourcePeer()).contains("bookinfo-gateway").doesNotContain("payments");
  }

  @Test
  void matchesTheHostAgainstTheRoutesVirtualServiceHostsIncludingWildcards() {
    Gateway gw = gateway(productpage(), gatewayView(
        bound(route("test", List.of(), to("productpage", "v2", 100)), "*.bookinfo.test").build(),
        bound(route("prod", List.of(), to("productpage", "v1", 100)), "bookinfo.example.com")
            .build()));

    assertThat(mesh.get(gw.port(), "qa.bookinfo.test", "/").body()).isEqualTo("productpage-v2");
    assertThat(mesh.get(gw.port(), "BookInfo.Example.com", "/").body())
        .isEqualTo("productpage-v1");
  }

  @Test
  void answers404ForAHostNoServerServesOrNoRouteMatches() {
    Gateway gw = gateway(productpage(), gatewayView(
        bound(route("prod", List.of(uri(MatchType.PREFIX, "/productpage")),
            to("productpage", "v1", 100)), "bookinfo.example.com").build()));

    TestMesh.Response unknownHost = mesh.get(gw.port(), "evil.example.com", "/productpage",
        "x-request-id", "gw-404");
    TestMesh.Response unknownPath = mesh.get(gw.port(), "bookinfo.example.com", "/admin");

    assertThat(unknownHost.status()).isEqualTo(404);
    assertThat(unknownPath.status()).isEqualTo(404);
    assertThat(mesh.log.await("gateway", "gw-404").flags()).containsExactly(ResponseFlag.NR);
  }

  @Test
  void usesOnlyMatchesBoundToThisGateway() {
    Gateway gw = gateway(productpage(), gatewayView(
        bound(route("other-gw", List.of(HttpMatch.newBuilder().setGateways(List.of("ops/other"))
            .build()), to("productpage", "v2", 100)), "bookinfo.example.com").build(),
        bound(route("this-gw", List.of(HttpMatch.newBuilder()
            .setGateways(List.of("default/bookinfo-gateway")).build()),
            to("productpage", "v1", 100)), "bookinfo.example.com").build()));

    assertThat(mesh.get(gw.port(), "bookinfo.example.com", "/").body())
        .isEqualTo("productpage-v1");
  }

  @Test
  void appliesRetriesAndFaultsOfTheGatewayRoute() {
    AtomicInteger calls = new AtomicInteger();
    Sidecar flaky = mesh.serverSidecar("details", "v1", "zone-a", mesh.backend(req -> {
      if (calls.incrementAndGet() == 1) {
        req.response().setStatusCode(503).end("warming up");
      } else {
        TestMesh.echo("details").handle(req);
      }
    }));
    ServiceView details = view("details").setEndpoints(List.of(Endpoint.newBuilder()
        .setInstanceId("details-1").setAddress("127.0.0.1").setPort(flaky.inboundPort())
        .setHealth(EndpointHealth.HEALTHY).build())).build();
    Gateway gw = gateway(productpage(), details, gatewayView(
        bound(route("teapot", List.of(uri(MatchType.PREFIX, "/teapot")), to("details", null, 100))
            .setFault(FaultInjection.newBuilder().setAbort(AbortFault.newBuilder()
                .setHttpStatus(418).build()).build()), "bookinfo.example.com").build(),
        bound(route("details", List.of(), to("details", null, 100))
            .setRetries(RetryPolicy.newBuilder().setAttempts(2).setRetryOn(List.of("5xx"))
                .setBackoffBaseMillis(1).setBackoffMaxMillis(2).build()),
            "bookinfo.example.com").build()));

    TestMesh.Response retried = mesh.get(gw.port(), "bookinfo.example.com", "/details/1",
        "x-request-id", "gw-r");
    TestMesh.Response aborted = mesh.get(gw.port(), "bookinfo.example.com", "/teapot",
        "x-request-id", "gw-f");

    assertThat(retried.status()).isEqualTo(200);
    assertThat(retried.body()).isEqualTo("details");
    assertThat(mesh.log.await("gateway", "gw-r").attempts()).isEqualTo(2);
    assertThat(aborted.status()).isEqualTo(418);
    assertThat(mesh.log.await("gateway", "gw-f").flags()).containsExactly(ResponseFlag.FI);
  }

  @Test
  void tellsTheDestinationWhoTheClientIs() {
    Gateway gw = gateway(productpage(), gatewayView(bound(route("all", List.of(),
        to("productpage", "v1", 100)), "bookinfo.example.com").build()));
    java.util.concurrent.ConcurrentLinkedQueue<String> seen =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    Sidecar echo = mesh.serverSidecar("productpage", "v1", "zone-a", mesh.backend(req -> {
      seen.add(String.valueOf(req.getHeader("x-forwarded-for")));
      req.response().end();
    }));
    gw.holder().apply(ProxySnapshot.of(ViewTranslator.translate(view("productpage")
        .setEndpoints(List.of(endpoint(echo, "v1"))).setSubsets(List.of(subset("v1")))
        .build()), gw.holder().snapshot().service(GATEWAY_HOST).orElseThrow()));

    mesh.get(gw.port(), "bookinfo.example.com", "/", "x-forwarded-for", "203.0.113.9");

    assertThat(seen).containsExactly("203.0.113.9, 127.0.0.1");
  }

  @Test
  void anEndpointThatIsTheGatewaysOwnListenerIs503Uh() {
    Gateway gw = gateway(productpage(), gatewayView(bound(route("all", List.of(),
        to("productpage", "v1", 100)), "bookinfo.example.com").build()));
    Endpoint self = Endpoint.newBuilder().setInstanceId("self").setAddress("127.0.0.1")
        .setPort(gw.port()).setLabels(Map.of("version", "v1")).setHealth(EndpointHealth.HEALTHY)
        .build();
    gw.holder().apply(ProxySnapshot.of(ViewTranslator.translate(view("productpage")
        .setEndpoints(List.of(self)).setSubsets(List.of(subset("v1"))).build()),
        gw.holder().snapshot().service(GATEWAY_HOST).orElseThrow()));

    TestMesh.Response r = mesh.get(gw.port(), "bookinfo.example.com", "/", "x-request-id", "gl");

    assertThat(r.status()).isEqualTo(503);
    assertThat(mesh.log.await("gateway", "gl").flags()).containsExactly(ResponseFlag.UH);
    assertThat(mesh.log.count(e -> "gateway".equals(e.direction()))).isEqualTo(1);
    assertThat(gw.holder().current().loops()).singleElement()
        .satisfies(l -> assertThat(l.listener().name()).isEqualTo("gateway"));
  }

  @Test
  void anHttpsRedirectServerAnswers301ToHttpsAndRoutesNothing() {
    ServiceView redirecting = ServiceView.newBuilder(gatewayView(bound(route("all", List.of(),
            to("productpage", "v1", 100)), "bookinfo.example.com", "plain.example.com").build()))
        .setGatewayServers(List.of(
            GatewayServer.newBuilder().setName("http").setPort(8080).setProtocol(Protocol.HTTP)
                .setHosts(List.of("bookinfo.example.com"))
                .setTls(dev.meshlog.events.discovery.GatewayTls.newBuilder()
                    .setHttpsRedirect(true).build()).build(),
            GatewayServer.newBuilder().setName("plain").setPort(8080).setProtocol(Protocol.HTTP)
                .setHosts(List.of("plain.example.com")).build()))
        .build();
    Gateway gw = gateway(productpage(), redirecting);

    TestMesh.Response r = mesh.get(gw.port(), "BookInfo.example.com:8080",
        "/productpage?u=1&v=two", "x-request-id", "gw-redirect");
    TestMesh.Response plain = mesh.get(gw.port(), "plain.example.com", "/productpage",
        "x-request-id", "gw-plain");

    assertThat(r.status()).isEqualTo(301);
    assertThat(r.header("location")).isEqualTo("https://bookinfo.example.com/productpage?u=1&v=two");
    assertThat(r.body()).isEmpty();
    AccessLogEntry entry = mesh.log.await("gateway", "gw-redirect");
    assertThat(entry.status()).isEqualTo(301);
    assertThat(entry.flags()).isEmpty();
    assertThat(plain.status()).isEqualTo(200);
    assertThat(plain.body()).isEqualTo("productpage-v1");
    mesh.log.await("inbound", "gw-plain");
    assertThat(mesh.log.count(e -> "inbound".equals(e.direction()))).isEqualTo(1);
  }
}
