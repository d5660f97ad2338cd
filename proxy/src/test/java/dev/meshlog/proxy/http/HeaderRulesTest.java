package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import dev.meshlog.proxy.config.HeaderOps;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class HeaderRulesTest {

  @Test
  void dropsHopByHopHeadersAndThoseConnectionNames() {
    MultiMap in = HttpHeaders.headers().add("Host", "reviews").add("Connection", "keep-alive, "
        + "X-Secret").add("X-Secret", "s").add("Transfer-Encoding", "chunked").add("Upgrade", "h2c")
        .add("X-Kept", "k");
    MultiMap out = HttpHeaders.headers();

    HeaderRules.copyEndToEnd(in, out);

    assertThat(out.names()).containsExactlyInAnyOrder("Host", "X-Kept");
  }

  @Test
  void removesThenSetsThenAdds() {
    MultiMap h = HttpHeaders.headers().add("x-a", "1").add("x-b", "old");

    HeaderRules.apply(new HeaderOps(Map.of("x-b", "new"), Map.of("x-c", "3"), List.of("x-a")), h);

    assertThat(h.get("x-a")).isNull();
    assertThat(h.getAll("x-b")).containsExactly("new");
    assertThat(h.get("x-c")).isEqualTo("3");
  }

  @Test
  void createsARequestIdAndAW3cTraceparentOnlyWhenAbsentOrMalformed() {
    MultiMap given = HttpHeaders.headers().add("x-request-id", "abc")
        .add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    MultiMap bad = HttpHeaders.headers().add("traceparent", "nonsense");

    assertThat(HeaderRules.ensureRequestId(given)).isEqualTo("abc");
    assertThat(HeaderRules.ensureTraceparent(given))
        .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertThat(HeaderRules.ensureTraceparent(bad)).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
  }

  @Test
  void acceptsExactlyTheTraceparentsTheW3cFormatAllows() {
    String ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    List<String> bad = List.of("", ok + "0", ok.substring(1), ok.toUpperCase(),
        ok.replace('-', '_'), ok.substring(0, 35) + "0" + ok.substring(36),
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01");

    assertThat(HeaderRules.wellFormedTraceparent(ok)).isTrue();
    for (String b : bad) {
      assertThat(HeaderRules.wellFormedTraceparent(b)).as(b).isFalse();
    }
    for (int i = 0; i < 100; i++) {
      MultiMap h = HttpHeaders.headers();
      String created = HeaderRules.ensureTraceparent(h);
      assertThat(created).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
      assertThat(HeaderRules.wellFormedTraceparent(created)).isTrue();
    }
  }

  @Test
  void createsRequestIdsThatAreVersion4Uuids() {
    for (int i = 0; i < 100; i++) {
      java.util.UUID id = java.util.UUID.fromString(
          HeaderRules.ensureRequestId(HttpHeaders.headers()));
      assertThat(id.version()).isEqualTo(4);
      assertThat(id.variant()).isEqualTo(2);
    }
  }

  @Test
  void dropsHopByHopHeadersWhateverTheirCase() {
    MultiMap in = HttpHeaders.headers().add("KEEP-ALIVE", "timeout=5").add("Te", "deflate")
        .add("Proxy-Authorization", "x").add("connection", "X-Gone").add("x-gone", "1")
        .add("Proxy-Connection", "x").add("Proxy-Authenticate", "x").add("TRAILER", "x")
        .add("Transfer-encoding", "chunked").add("upgrade", "x").add("Expect", "100-continue")
        .add("X-Kept", "k").add("Tx", "k2").add("Connections", "k3");
    MultiMap out = HttpHeaders.headers();

    HeaderRules.copyEndToEnd(in, out);

    assertThat(out.names()).containsExactlyInAnyOrder("X-Kept", "Tx", "Connections");
  }

  @Test
  void keepsEveryEndToEndHeaderWhenConnectionNamesOnlyKeepAliveOrClose() {
    MultiMap in = HttpHeaders.headers().add("Connection", "keep-alive").add("connection", "Close")
        .add("Keep-Alive", "timeout=5").add("Content-Length", "3").add("X-Kept", "k")
        .add("Close", "not a hop-by-hop header");
    MultiMap out = HttpHeaders.headers();

    HeaderRules.copyEndToEnd(in, out);

    assertThat(out.names()).containsExactlyInAnyOrder("Content-Length", "X-Kept", "Close");
  }

  @Test
  void dropsEveryHeaderThatConnectionNamesInAnyOfItsValues() {
    MultiMap in = HttpHeaders.headers().add("Connection", "close,,x-one").add("Connection",
        " X-Two ").add("x-ONE", "1").add("X-two", "2").add("X-Three", "3");
    MultiMap out = HttpHeaders.headers();

    HeaderRules.copyEndToEnd(in, out);

    assertThat(out.names()).containsExactly("X-Three");
  }

  @Test
  void removesEnvoyAndMeshControlHeadersInAnyCaseAndKeepsTheRest() {
    MultiMap h = HttpHeaders.headers().add("X-Envoy-Retry-On", "5xx").add("x-meshlog-peer", "p")
        .add("X-MESHLOG-Source-Workload", "w").add("x-envoyish", "kept").add("x-kept", "k");

    HeaderRules.removeControlHeaders(h);

    assertThat(h.names()).containsExactlyInAnyOrder("x-envoyish", "x-kept");
  }

  @Test
  void findsATokenInACommaSeparatedListInAnyCase() {
    assertThat(HeaderRules.hasToken("x-trace, Close", "close")).isTrue();
    assertThat(HeaderRules.hasToken("keep-alive,,upgrade", "upgrade")).isTrue();
    assertThat(HeaderRules.hasToken("closed, x-close", "close")).isFalse();
  }
}
