package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class UpstreamClientsTest {

  @Test
  void takesTheOwnPoolWhenNothingIsSaid() {
    assertThat(UpstreamClients.Kind.parse(null)).isEqualTo(UpstreamClients.Kind.NETTY);
    assertThat(UpstreamClients.Kind.parse(" ")).isEqualTo(UpstreamClients.Kind.NETTY);
  }

  @Test
  void readsEitherClientInAnyCase() {
    assertThat(UpstreamClients.Kind.parse("Vertx")).isEqualTo(UpstreamClients.Kind.VERTX);
    assertThat(UpstreamClients.Kind.parse("NETTY")).isEqualTo(UpstreamClients.Kind.NETTY);
  }

  @Test
  void refusesAnUnknownClientNamingTheChoices() {
    assertThatThrownBy(() -> UpstreamClients.Kind.parse("okhttp"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("upstream client: okhttp (expected: netty or vertx)");
  }
}
