package dev.meshlog.proxy.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.meshlog.proxy.config.EndpointConfig;
import org.junit.jupiter.api.Test;

class LoopGuardTest {

  private static EndpointConfig at(String address, int port) {
    return EndpointConfig.of(address, port, Map.of(), "", "");
  }

  private static LoopGuard guard(String host, int port) throws UnknownHostException {
    return LoopGuard.of(List.of(new LoopGuard.Listener("outbound", host, port)),
        Set.of(InetAddress.getByName("10.1.2.3")));
  }

  @Test
  void aLoopbackListenerIsReachedAtItsOwnAddressOnly() throws UnknownHostException {
    LoopGuard g = guard("127.0.0.1", 15001);

    assertThat(g.loopsInto(at("127.0.0.1", 15001))).isPresent();
    assertThat(g.loopsInto(at("localhost", 15001))).isPresent();
    assertThat(g.loopsInto(at("0.0.0.0", 15001))).isPresent();
    assertThat(g.loopsInto(at("127.0.0.1", 15006))).isEmpty();
    assertThat(g.loopsInto(at("127.0.0.2", 15001))).isEmpty();
    assertThat(g.loopsInto(at("10.1.2.3", 15001))).isEmpty();
  }

  @Test
  void aWildcardListenerIsReachedAtAnyLocalAddress() throws UnknownHostException {
    LoopGuard g = guard("0.0.0.0", 15001);

    assertThat(g.loopsInto(at("127.0.0.1", 15001))).isPresent();
    assertThat(g.loopsInto(at("127.9.9.9", 15001))).isPresent();
    assertThat(g.loopsInto(at("10.1.2.3", 15001))).isPresent();
    assertThat(g.loopsInto(at("::ffff:10.1.2.3", 15001))).isPresent();
    assertThat(g.loopsInto(at("10.1.2.4", 15001))).isEmpty();
  }

  @Test
  void aHostNameIsNotResolved() throws UnknownHostException {
    assertThat(guard("0.0.0.0", 15001).loopsInto(at("books.example", 15001))).isEmpty();
  }

  @Test
  void guardsNothingBeforeTheListenersAreKnown() {
    assertThat(LoopGuard.NONE.loopsInto(at("127.0.0.1", 15001))).isEmpty();
  }

  @Test
  void refusesAListenerWithoutAPort() {
    assertThatThrownBy(() -> new LoopGuard.Listener("outbound", "127.0.0.1", 0))
        .hasMessage("listener outbound port: 0 (expected: 1..65535, the port it is bound to)");
  }
}
