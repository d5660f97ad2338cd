package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import dev.meshlog.proxy.config.LbConfig;
import dev.meshlog.proxy.route.SimpleRequest;
import org.junit.jupiter.api.Test;

class HashKeyTest {

  private static LbConfig ring(LbConfig.HashKey key) {
    return new LbConfig(LbConfig.Policy.RING_HASH, key, 1024, true, List.of());
  }

  @Test
  void hashesTheNamedHeader() {
    LbConfig lb = ring(new LbConfig.HashKey("x-user", null, null, false));

    assertThat(ProxyExchange.hashKey(lb, SimpleRequest.get("reviews", "/", "x-user", "ana"),
        ProxyExchange.cookieSink())).isEqualTo("ana");
  }

  @Test
  void hashesTheCallersIp() {
    LbConfig lb = ring(new LbConfig.HashKey(null, null, null, true));
    SimpleRequest r = new SimpleRequest("GET", "/", "reviews", Map.of(), "10.1.2.3");

    assertThat(ProxyExchange.hashKey(lb, r, ProxyExchange.cookieSink())).isEqualTo("10.1.2.3");
  }

  @Test
  void hashesTheCookieAndSetsOneWhenTheCallerHasNone() {
    LbConfig lb = ring(new LbConfig.HashKey(null, "session", 3_600_000L, false));
    List<String> setCookie = ProxyExchange.cookieSink();

    String given = ProxyExchange.hashKey(lb, SimpleRequest.get("reviews", "/", "cookie",
        "a=1; session=s-9"), ProxyExchange.cookieSink());
    String generated = ProxyExchange.hashKey(lb, SimpleRequest.get("reviews", "/"), setCookie);

    assertThat(given).isEqualTo("s-9");
    assertThat(setCookie).singleElement().asString()
        .startsWith("session=" + generated + "; Max-Age=3600");
  }

  @Test
  void hashesTheFirstValueOfTheQueryParameterAndNothingWithoutIt() {
    LbConfig lb = ring(new LbConfig.HashKey(null, null, null, false, "user"));

    assertThat(ProxyExchange.hashKey(lb, SimpleRequest.get("reviews", "/r?a=1&user=ana&user=bo"),
        ProxyExchange.cookieSink())).isEqualTo("ana");
    assertThat(ProxyExchange.hashKey(lb, SimpleRequest.get("reviews", "/r?a=1"),
        ProxyExchange.cookieSink())).isNull();
    assertThat(ProxyExchange.hashKey(lb, SimpleRequest.get("reviews", "/r", "user", "ana"),
        ProxyExchange.cookieSink())).isNull();
  }

  @Test
  void hashesNothingForOtherPolicies() {
    assertThat(ProxyExchange.hashKey(LbConfig.DEFAULT, SimpleRequest.get("reviews", "/"),
        ProxyExchange.cookieSink())).isNull();
  }
}
