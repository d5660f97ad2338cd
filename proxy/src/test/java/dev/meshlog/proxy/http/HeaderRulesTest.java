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
}
