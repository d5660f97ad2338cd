package dev.meshlog.proxy.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.http.AccessLogEntry;
import dev.meshlog.proxy.http.ResponseFlag;
import dev.meshlog.schemas.Topics;
import org.junit.jupiter.api.Test;

class RequestEventsTest {

  static final Instant START = Instant.parse("2026-01-02T03:04:05.678Z");
  static final String TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  final ProxyIdentity productpage = new ProxyIdentity("pp-1", "productpage", "shop", "v1", "",
      "zone-a", "c1", "", Map.of());
  final ProxyIdentity reviews = new ProxyIdentity("rv-2", "reviews", "shop", "v2", "", "zone-b",
      "c1", "", Map.of());

  static AccessLogEntry entry(String direction, int status, Set<ResponseFlag> flags,
                              String destination, EndpointConfig upstream, String peer,
                              int attempts, String grpc) {
    return new AccessLogEntry(START, direction, "GET", "/reviews/7?x=1", "HTTP/1.1", status,
        flags, 12, 345, 3, 2, "req-1", "reviews:9080", "curl", upstream == null ? null
        : upstream.hostPort(), "c", "r1", attempts, "productpage-v1", destination, grpc,
        TRACEPARENT, peer, upstream, 3_456);
  }

  @Test
  void outboundRequestIsReportedBySourceWithTheEndpointsVersionAndLocality() {
    EndpointConfig endpoint = EndpointConfig.of("10.0.0.7", 15006,
        Map.of("app", "reviews", "version", "v2"), "zone-b", "c2");
    RequestEvents.Keyed k = new RequestEvents(productpage, "cluster.local").of(entry("outbound",
        503, EnumSet.of(ResponseFlag.URX, ResponseFlag.UF), "reviews.shop.svc.cluster.local",
        endpoint, null, 3, null));

    assertThat(k.key()).isEqualTo("shop/productpage->shop/reviews");
    RequestEvent e = k.event();
    assertThat(e.getReporter()).isEqualTo(Reporter.SOURCE);
    assertThat(e.getProxyId()).isEqualTo("pp-1");
    assertThat(e.getSource().getService()).isEqualTo("productpage");
    assertThat(e.getSource().getVersion()).isEqualTo("v1");
    assertThat(e.getSource().getZone()).isEqualTo("zone-a");
    assertThat(e.getSource().getWorkload()).isEqualTo("productpage-v1");
    assertThat(e.getDestination().getService()).isEqualTo("reviews");
    assertThat(e.getDestination().getNamespace()).isEqualTo("shop");
    assertThat(e.getDestination().getVersion()).isEqualTo("v2");
    assertThat(e.getDestination().getZone()).isEqualTo("zone-b");
    assertThat(e.getDestination().getCluster()).isEqualTo("c2");
    assertThat(e.getDestination().getWorkload()).isEqualTo("reviews-v2");
    assertThat(e.getResponseCode()).isEqualTo(503);
    assertThat(e.getResponseFlags()).containsExactly("UF", "URX");
    assertThat(e.getRetries()).isEqualTo(2);
    assertThat(e.getPath()).isEqualTo("/reviews/7");
    assertThat(e.getMethod()).isEqualTo("GET");
    assertThat(e.getAuthority()).isEqualTo("reviews:9080");
    assertThat(e.getRoute()).isEqualTo("r1");
    assertThat(e.getTraceId()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(e.getRequestId()).isEqualTo("req-1");
    assertThat(e.getRequestBytes()).isEqualTo(12);
    assertThat(e.getResponseBytes()).isEqualTo(345);
    assertThat(e.getDurationMicros()).isEqualTo(3_456);
    assertThat(e.getStartTime()).isEqualTo(START);
    assertThat(e.getGrpcStatus()).isNull();
    assertThat(e.getProtocol()).isEqualTo("HTTP/1.1");
  }

  @Test
  void inboundRequestNamesTheCallerFromItsPeerHeader() {
    RequestEvents.Keyed k = new RequestEvents(reviews, "cluster.local").of(entry("inbound",
        200, Set.of(), "reviews.shop.svc.cluster.local", null, PeerMetadata.encode(productpage),
        1, "0"));

    assertThat(k.key()).isEqualTo("shop/productpage->shop/reviews");
    RequestEvent e = k.event();
    assertThat(e.getReporter()).isEqualTo(Reporter.DESTINATION);
    assertThat(e.getSource().getService()).isEqualTo("productpage");
    assertThat(e.getSource().getVersion()).isEqualTo("v1");
    assertThat(e.getSource().getCluster()).isEqualTo("c1");
    assertThat(e.getDestination().getService()).isEqualTo("reviews");
    assertThat(e.getDestination().getVersion()).isEqualTo("v2");
    assertThat(e.getDestination().getZone()).isEqualTo("zone-b");
    assertThat(e.getGrpcStatus()).isEqualTo(0);
    assertThat(e.getProtocol()).isEqualTo("grpc");
    assertThat(e.getRetries()).isZero();
  }

  @Test
  void inboundRequestWithoutOrWithABadPeerHeaderComesFromOutsideTheMesh() {
    RequestEvents events = new RequestEvents(reviews, "cluster.local");
    for (String peer : new String[] {null, "", "only/three/parts", "ns/%zz/v/c/z/w"}) {
      RequestEvent e = events.of(entry("inbound", 200, Set.of(),
          "reviews.shop.svc.cluster.local", null, peer, 1, null)).event();
      assertThat(e.getSource().getService()).as(String.valueOf(peer)).isEmpty();
      assertThat(e.getSource().getWorkload()).isEqualTo("unknown");
    }
  }

  @Test
  void gatewayRequestComesFromTheGateway() {
    ProxyIdentity gw = new ProxyIdentity("gw-1", "bookinfo-gateway", "shop", "", "", "", "", "",
        Map.of());
    RequestEvents.Keyed k = new RequestEvents(gw, "cluster.local").of(entry("gateway", 200,
        Set.of(), "productpage.shop.svc.cluster.local", null, null, 1, null));
    assertThat(k.event().getReporter()).isEqualTo(Reporter.GATEWAY);
    assertThat(k.key()).isEqualTo("shop/bookinfo-gateway->shop/productpage");
  }

  @Test
  void serviceEntryHostIsTheServiceWithoutNamespaceAndNoRouteIsUnknown() {
    RequestEvents events = new RequestEvents(productpage, "cluster.local");
    assertThat(events.of(entry("outbound", 200, Set.of(), "api.example.com", null, null, 1,
        null)).key()).isEqualTo("shop/productpage->/api.example.com");
    RequestEvent nr = events.of(entry("outbound", 404, EnumSet.of(ResponseFlag.NR), "unknown",
        null, null, 0, null)).event();
    assertThat(nr.getDestination().getService()).isEqualTo("unknown");
    assertThat(nr.getResponseFlags()).containsExactly("NR");
    assertThat(nr.getRetries()).isZero();
  }

  @Test
  void aRequestPassedThroughNamesItsHostAsTheServiceWithoutNamespace() {
    EndpointConfig outside = new EndpointConfig("PassthroughCluster/api.example.com:80",
        "203.0.113.9", 80, Map.of(), "", "", "", true, 1);
    RequestEvents.Keyed k = new RequestEvents(productpage, "cluster.local").of(entry("outbound",
        200, Set.of(), "api.example.com", outside, null, 1, null));

    assertThat(k.key()).isEqualTo("shop/productpage->/api.example.com");
    assertThat(k.event().getDestination().getService()).isEqualTo("api.example.com");
    assertThat(k.event().getDestination().getNamespace()).isEmpty();
    assertThat(k.event().getDestination().getVersion()).isEmpty();
  }

  @Test
  void tcpConnectionsAreNotRequestEvents() {
    AccessLogEntry tcp = new AccessLogEntry(START, "outbound", "-", "db:5432", "TCP", 0, Set.of(),
        1, 2, 3, -1, null, null, null, null, null, null, 1, "w", "db", null);
    assertThat(new RequestEvents(productpage, "cluster.local").of(tcp)).isNull();
  }

  @Test
  void peerMetadataRoundTripsOddCharacters() {
    ProxyIdentity odd = new ProxyIdentity("x", "a/b c", "ns%", "v 1", "", "z/1", "c,2", "",
        Map.of());
    PeerMetadata p = PeerMetadata.decode(PeerMetadata.encode(odd));
    assertThat(p).isEqualTo(new PeerMetadata("ns%", "a/b c", "v 1", "c,2", "z/1", "a/b c-v 1"));
  }

  @Test
  void eventsOfOneEdgeShareTheirWorkloadAndKeyAndOtherEdgesGetTheirOwn() {
    RequestEvents events = new RequestEvents(productpage, "cluster.local");
    EndpointConfig v2 = EndpointConfig.of("10.0.0.7", 15006, Map.of("version", "v2"), "zone-b",
        "c2");
    EndpointConfig v3 = EndpointConfig.of("10.0.0.8", 15006, Map.of("version", "v3"), "zone-b",
        "c2");
    String host = "reviews.shop.svc.cluster.local";

    RequestEvents.Keyed a = events.of(entry("outbound", 200, Set.of(), host, v2, null, 1, null));
    RequestEvents.Keyed b = events.of(entry("outbound", 200, Set.of(), host, v2, null, 1, null));
    RequestEvents.Keyed c = events.of(entry("outbound", 200, Set.of(), host, v3, null, 1, null));
    RequestEvents.Keyed d = events.of(entry("outbound", 200, Set.of(),
        "ratings.shop.svc.cluster.local", v2, null, 1, null));

    assertThat(b.event().getDestination()).isSameAs(a.event().getDestination());
    assertThat(b.key()).isSameAs(a.key());
    assertThat(c.event().getDestination().getVersion()).isEqualTo("v3");
    assertThat(d.event().getDestination().getService()).isEqualTo("ratings");
    assertThat(d.key()).isEqualTo("shop/productpage->shop/ratings");
  }

  @Test
  void eachCallerIsNamedByItsOwnHeaderWhenManyCallersComeAndGo() {
    RequestEvents events = new RequestEvents(reviews, "cluster.local");
    for (int i = 0; i < RequestEvents.CACHE_ENTRIES * 2 + 3; i++) {
      ProxyIdentity caller = new ProxyIdentity("pp-" + i, "svc-" + i, "shop", "v1", "",
          "zone-a", "c1", "", Map.of());
      RequestEvents.Keyed k = events.of(entry("inbound", 200, Set.of(),
          "reviews.shop.svc.cluster.local", null, PeerMetadata.encode(caller), 1, null));

      assertThat(k.event().getSource().getService()).isEqualTo("svc-" + i);
      assertThat(k.key()).isEqualTo("shop/svc-" + i + "->shop/reviews");
    }
    assertThat(events.of(entry("inbound", 200, Set.of(), "reviews.shop.svc.cluster.local", null,
        "not/a/peer", 1, null)).event().getSource().getWorkload()).isEqualTo("unknown");
  }

  @Test
  void writesEachEntrysEventStraightIntoTheEncoderAsTheTopicsSerdeWritesTheEvent() {
    EndpointConfig endpoint = EndpointConfig.of("10.0.0.7", 15006,
        Map.of("app", "reviews", "version", "v2"), "zone-b", "c2");
    String peer = PeerMetadata.encode(productpage);
    List<AccessLogEntry> entries = new ArrayList<>();
    for (String direction : List.of("outbound", "inbound", "gateway")) {
      for (String path : Arrays.asList("/reviews/7?x=1", "/plain", "http://h:80/p?q=://x",
          "https://h", "h?://x", "/é/ü?x", "", null)) {
        for (String trace : Arrays.asList(TRACEPARENT, null, "bad", TRACEPARENT.substring(0, 35),
            TRACEPARENT.substring(0, 36))) {
          // method, authority, route and protocol (gRPC or not) change now and then: the
          // encoder's copy of a field's last bytes must follow
          entries.add(new AccessLogEntry(START.plusNanos(entries.size() * 1_001L), direction,
              entries.size() % 3 == 2 ? "GET" : "POST", path, "HTTP/2", 200 + entries.size() % 400,
              entries.size() % 3 == 0 ? EnumSet.of(ResponseFlag.URX, ResponseFlag.UF)
                  : Set.of(), entries.size() * 1_000L, 123_456_789L, 3, 2, "req-" + path,
              entries.size() % 4 == 3 ? "rév:9080" : "reviews:9080", "curl", null, "c",
              entries.size() % 2 == 0 ? "r1" : null,
              entries.size() % 4, "productpage-v1", "reviews.shop.svc.cluster.local",
              entries.size() % 5 == 0 ? " 14 " : entries.size() % 5 == 1 ? "x" : null, trace,
              entries.size() % 2 == 0 ? peer : null, entries.size() % 3 == 1 ? endpoint : null,
              entries.size() % 7 == 0 ? -1 : 3_456));
        }
      }
    }
    RequestEvents viaEvent = new RequestEvents(reviews, "cluster.local");
    RequestEvents direct = new RequestEvents(reviews, "cluster.local");
    RequestEventEncoder encoder = new RequestEventEncoder();
    long dropped = 0;
    List<RequestEvent> all = new ArrayList<>();
    encoder.beginBatch();
    for (AccessLogEntry entry : entries) {
      RequestEvents.Keyed k = viaEvent.of(entry);
      k.event().setDroppedBefore(dropped);
      RequestEvents.Edge edge = direct.edgeOf(entry);
      // each alone, as a batch of one
      RequestEventEncoder single = new RequestEventEncoder();
      single.beginBatch();
      direct.encodeBody(entry, edge, dropped, single);
      assertThat(single.batch(1)).as(entry.line())
          .isEqualTo(Topics.TELEMETRY_REQUESTS.serializeValue(new RequestEventBatch(
              List.of(k.event()), null)));
      assertThat(edge.keyBytes()).isEqualTo(k.keyBytes());
      assertThat(edge.key()).isEqualTo(k.key());
      // a loss-only record on this entry's edge names the proxy and the edge as its event does
      RequestEventEncoder loss = new RequestEventEncoder();
      loss.beginLossReport();
      java.time.Instant at = START.plusMillis(entries.indexOf(entry));
      direct.encodeLossReport(entry, edge, dropped + 1, at, loss);
      RequestEvent ev = k.event();
      assertThat(loss.lossOnly()).as(entry.line())
          .isEqualTo(Topics.TELEMETRY_REQUESTS.serializeValue(new RequestEventBatch(List.of(),
              new dev.meshlog.events.telemetry.LossReport(ev.getProxyId(), ev.getReporter(),
                  ev.getSource(), ev.getDestination(), dropped + 1, at))));
      // and all in one batch, appended one after the other
      direct.encodeBody(entry, edge, dropped, encoder);
      all.add(k.event());
      dropped = dropped * 3 + 1;
    }
    assertThat(encoder.batch(all.size()))
        .isEqualTo(Topics.TELEMETRY_REQUESTS.serializeValue(new RequestEventBatch(all, null)));
    AccessLogEntry tcp = new AccessLogEntry(START, "outbound", "-", "db:5432", "TCP", 0,
        Set.of(), 1, 2, 3, -1, null, null, null, null, null, null, 1, "x", "db", null);
    assertThat(direct.edgeOf(tcp)).isNull();
  }

  /** A TCP connection's entry as the relays make it. */
  static AccessLogEntry tcpEntry(String direction, Set<ResponseFlag> flags,
                                 EndpointConfig upstream, String peer, int attempts) {
    return new AccessLogEntry(START, direction, "-", "-", "TCP", 0, flags, 8, 14, 2, -1, null,
        "db.shop.svc.cluster.local:5432", null, upstream == null ? null : upstream.hostPort(),
        "outbound|||db.shop.svc.cluster.local", null, attempts, "productpage-v1",
        "db.shop.svc.cluster.local", null, null, peer, upstream, 2_345);
  }

  @Test
  void tcpReportsAreEventsOfProtocolTcpFromBothSidesWithTheirReport() {
    EndpointConfig endpoint = EndpointConfig.of("10.0.0.9", 15006,
        Map.of("app", "db", "version", "v3"), "zone-b", "c2");
    RequestEvents.Keyed out = new RequestEvents(productpage, "cluster.local").of(new TcpEvent(
        tcpEntry("outbound", Set.of(), endpoint, null, 2), 100, 2_000, 15_000_000, 1, true,
        false));
    assertThat(out.key()).isEqualTo("shop/productpage->shop/db");
    RequestEvent e = out.event();
    assertThat(e.getReporter()).isEqualTo(Reporter.SOURCE);
    assertThat(e.getProtocol()).isEqualTo("tcp");
    assertThat(e.getDestination().getWorkload()).isEqualTo("db-v3");
    assertThat(e.getDestination().getZone()).isEqualTo("zone-b");
    assertThat(e.getSource().getWorkload()).isEqualTo("productpage-v1");
    assertThat(e.getAuthority()).isEqualTo("db.shop.svc.cluster.local:5432");
    assertThat(e.getMethod()).isEmpty();
    assertThat(e.getPath()).isEmpty();
    assertThat(e.getResponseCode()).isZero();
    assertThat(e.getRetries()).isEqualTo(1);
    assertThat(e.getRequestBytes()).isEqualTo(100);
    assertThat(e.getResponseBytes()).isEqualTo(2_000);
    assertThat(e.getDurationMicros()).isEqualTo(15_000_000);
    assertThat(e.getStartTime()).isEqualTo(START);
    assertThat(e.getTcp().getOpened()).isTrue();
    assertThat(e.getTcp().getClosed()).isFalse();

    RequestEvents.Keyed in = new RequestEvents(reviews, "cluster.local").of(TcpEvent.alone(
        tcpEntry("inbound", EnumSet.of(ResponseFlag.UF), null,
            PeerMetadata.encode(productpage), 1)));
    assertThat(in.key()).isEqualTo("shop/productpage->shop/reviews");
    assertThat(in.event().getReporter()).isEqualTo(Reporter.DESTINATION);
    assertThat(in.event().getSource().getWorkload()).isEqualTo("productpage-v1");
    assertThat(in.event().getSource().getZone()).isEqualTo("zone-a");
    assertThat(in.event().getResponseFlags()).containsExactly("UF");
    assertThat(in.event().getRequestBytes()).isEqualTo(8);
    assertThat(in.event().getResponseBytes()).isEqualTo(14);
    assertThat(in.event().getDurationMicros()).isEqualTo(2_345);
    assertThat(in.event().getTcp().getOpened()).isTrue();
    assertThat(in.event().getTcp().getClosed()).isTrue();
  }

  @Test
  void aTcpReportEncodedFromItsEntryIsTheTopicsBytesOfItsEvent() {
    EndpointConfig endpoint = EndpointConfig.of("10.0.0.9", 15006,
        Map.of("app", "db", "version", "v3"), "zone-b", "c2");
    List<TcpEvent> reports = List.of(
        new TcpEvent(tcpEntry("outbound", Set.of(), endpoint, null, 3), 0, 0, 0, 2, true, false),
        new TcpEvent(tcpEntry("outbound", Set.of(), endpoint, null, 3), 1L << 40, 64, 1, 0,
            false, false),
        new TcpEvent(tcpEntry("gateway", EnumSet.of(ResponseFlag.DC), endpoint, null, 1), 5, 6,
            7, 0, false, true),
        TcpEvent.alone(tcpEntry("outbound", EnumSet.of(ResponseFlag.UH), null, null, 1)),
        TcpEvent.alone(tcpEntry("inbound", EnumSet.of(ResponseFlag.NR), null, "bad", 1)),
        TcpEvent.alone(tcpEntry("inbound", Set.of(), null, PeerMetadata.encode(productpage),
            1)));
    RequestEvents viaEvent = new RequestEvents(reviews, "cluster.local");
    RequestEvents direct = new RequestEvents(reviews, "cluster.local");
    RequestEventEncoder encoder = new RequestEventEncoder();
    encoder.beginBatch();
    List<RequestEvent> all = new ArrayList<>();
    long dropped = 0;
    for (TcpEvent t : reports) {
      RequestEvents.Keyed k = viaEvent.of(t);
      k.event().setDroppedBefore(dropped);
      RequestEvents.Edge edge = direct.edgeOf(t);
      assertThat(edge.key()).isEqualTo(k.key());
      direct.encodeBody(t, edge, dropped, encoder);
      // an HTTP request between TCP reports: its null tcp union follows a TCP one's record
      AccessLogEntry http = entry("inbound", 200, Set.of(), "reviews.shop.svc.cluster.local",
          null, null, 1, null);
      direct.encodeBody(http, direct.edgeOf(http), 0, encoder);
      all.add(k.event());
      all.add(viaEvent.of(http).event());
      dropped = dropped * 5 + 1;
    }
    assertThat(encoder.batch(all.size()))
        .isEqualTo(Topics.TELEMETRY_REQUESTS.serializeValue(new RequestEventBatch(all, null)));
  }
}
