package dev.meshlog.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.meshlog.proxy.ProxyTransport.Kind;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The transport choice on real sockets: io_uring and epoll load on this Linux machine (kernel
 * 6.x, x86_64), and a native transport that cannot load leaves the proxy serving on the next.
 */
class ProxyTransportIT {

  /** A native transport whose library failed to load, as on another OS or architecture. */
  private static final Transport BROKEN = new Transport() {
    @Override
    public String name() {
      return "epoll";
    }

    @Override
    public boolean available() {
      return false;
    }

    @Override
    public Throwable unavailabilityCause() {
      return new UnsatisfiedLinkError("no netty_transport_native_epoll_x86_64 in java.library.path");
    }

    @Override
    public io.vertx.core.spi.transport.Transport implementation() {
      throw new AssertionError("an unavailable transport must not be used");
    }
  };

  @Test
  void autoRunsIoUringWhereTheKernelAllowsIt() throws Exception {
    // A container's seccomp profile may forbid io_uring; then AUTO's NIO is tested below.
    assumeTrue(Transport.IO_URING.available(), () -> "io_uring cannot run here: "
        + Transport.IO_URING.unavailabilityCause());
    Transport chosen = ProxyTransport.choose(Kind.AUTO);
    assertThat(chosen.name()).isEqualTo("io_uring");
    assertThat(serverChannelOf(chosen)).isEqualTo("IoUringSocketChannel");
  }

  @Test
  void epollServesWhenAskedFor() throws Exception {
    Transport chosen = ProxyTransport.choose(Kind.EPOLL);
    assertThat(chosen.name()).isEqualTo("epoll");
    assertThat(serverChannelOf(chosen)).isEqualTo("EpollSocketChannel");
  }

  @Test
  void autoTakesNioNotEpollWhenIoUringCannotLoad() {
    assertThat(ProxyTransport.choose(Kind.AUTO, Transport.EPOLL, BROKEN))
        .isSameAs(Transport.NIO);
    assertThat(ProxyTransport.choose(Kind.AUTO, Transport.EPOLL, null))
        .isSameAs(Transport.NIO);
  }

  @Test
  void nativeTransportThatCannotLoadFallsBackToNioAndServes() throws Exception {
    assertThat(ProxyTransport.choose(Kind.AUTO, BROKEN, BROKEN)).isSameAs(Transport.NIO);
    assertThat(ProxyTransport.choose(Kind.AUTO, null, null)).isSameAs(Transport.NIO);
    assertThat(ProxyTransport.choose(Kind.IO_URING, Transport.EPOLL, BROKEN))
        .isSameAs(Transport.NIO);
    Transport chosen = ProxyTransport.choose(Kind.EPOLL, BROKEN, BROKEN);
    assertThat(chosen).isSameAs(Transport.NIO);
    assertThat(serverChannelOf(chosen)).isEqualTo("NioSocketChannel");
  }

  @Test
  void rejectsAnUnknownTransportName() {
    assertThatThrownBy(() -> Kind.parse("kqueue2"))
        .hasMessage("transport: kqueue2 (expected: auto, epoll, io_uring or nio)");
    assertThat(Kind.parse("io-uring")).isEqualTo(Kind.IO_URING);
    assertThat(Kind.parse(" ")).isEqualTo(Kind.AUTO);
  }

  @Test
  void proxyRefusesAnUnknownTransportBeforeStarting(@TempDir Path dir) {
    ProxyMain main = new ProxyMain();
    new CommandLine(main).parseArgs("--service", "s", "--app-port", "1", "--inbound-port", "0",
        "--outbound-port", "0", "--admin-port", "0", "--transport", "kqueue2",
        "--snapshot-file", dir.resolve("refused.views").toString());
    assertThatThrownBy(main::start).isInstanceOf(CommandLine.ParameterException.class)
        .hasMessage("--transport: kqueue2 (expected: auto, epoll, io_uring or nio)");
  }

  /** The class of a server's channel on a proxy's Vert.x with {@code transport}. */
  private static String serverChannelOf(Transport transport) throws Exception {
    Vertx vertx = ProxyTransport.vertx(new VertxOptions().setEventLoopPoolSize(1), transport,
        Duration.ofSeconds(10));
    try {
      return roundTrip(vertx);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** The class of the server's channel for one request over loopback, as its response body. */
  private static String roundTrip(Vertx vertx) throws Exception {
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1"))
        .requestHandler(r -> r.response().end(
            ((ConnectionBase) r.connection()).channel().getClass().getSimpleName()))
        .listen(0).await(10, TimeUnit.SECONDS);
    HttpClientAgent client = vertx.createHttpClient();
    try {
      return client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/")
          .compose(req -> req.send().compose(resp -> resp.body()))
          .await(10, TimeUnit.SECONDS).toString();
    } finally {
      client.close();
      server.close();
    }
  }
}
