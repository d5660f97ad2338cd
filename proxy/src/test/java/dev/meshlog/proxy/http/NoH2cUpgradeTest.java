package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

/** The h2c upgrade taken out of a first request's headers, and nothing else. */
class NoH2cUpgradeTest {

  private static HttpHeaders headers(String... pairs) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      h.add(pairs[i], pairs[i + 1]);
    }
    return h;
  }

  @Test
  void takesOutAnH2cUpgradeWithItsSettingsAndConnectionTokens() {
    HttpHeaders h = headers("Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c",
        "HTTP2-Settings", "AAMAAABkAAQCAAAAAAIAAAAA", "Host", "reviews");

    HeaderDeadline.withoutH2cUpgrade(h);

    assertThat(h.names()).containsExactly("Host");
  }

  @Test
  void keepsAnotherUpgradeAndTheConnectionTokensItNeeds() {
    HttpHeaders h = headers("Connection", "keep-alive, Upgrade, HTTP2-Settings",
        "Upgrade", "websocket, h2c", "HTTP2-Settings", "AAMAAABk");

    HeaderDeadline.withoutH2cUpgrade(h);

    assertThat(h.get("Upgrade")).isEqualTo("websocket");
    assertThat(h.get("Connection")).isEqualTo("keep-alive, Upgrade");
    assertThat(h.contains("HTTP2-Settings")).isFalse();
  }

  @Test
  void leavesARequestWithoutAnH2cUpgradeAsItIs() {
    HttpHeaders h = headers("Connection", "Upgrade", "Upgrade", "websocket");

    HeaderDeadline.withoutH2cUpgrade(h);

    assertThat(h.get("Upgrade")).isEqualTo("websocket");
    assertThat(h.get("Connection")).isEqualTo("Upgrade");
  }
}
