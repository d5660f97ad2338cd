package dev.meshlog.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

/**
 * The transport choice on real sockets: epoll loads on this Linux machine, and a native
 * transport that cannot load leaves the proxy serving on NIO.
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
  void autoRunsEpollWhereItsNativeLibraryLoads() throws Exception {
    Transport chosen = ProxyTransport.choose(Kind.AUTO);
    assertThat(chosen.name()).isEqualTo("epoll");
    assertThat(chosen.available()).isTrue();
    Vertx vertx = ProxyTransport.vertx(new VertxOptions().setEventLoopPoolSize(1), chosen,
        Duration.ofSeconds(10));
    try {
      assertThat(roundTrip(vertx)).isEqualTo("EpollSocketChannel");
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void ioUringLoadsWhenAskedFor() {
    Transport chosen = ProxyTransport.choose(Kind.IO_URING);
    assertThat(chosen.name()).isIn("io_uring", "nio");
  }

  @Test
  void nativeTransportThatCannotLoadFallsBackToNioAndServes() throws Exception {
    Transport chosen = ProxyTransport.choose(Kind.EPOLL, BROKEN, BROKEN);
    assertThat(chosen).isSameAs(Transport.NIO);
    assertThat(ProxyTransport.choose(Kind.AUTO, null, null)).isSameAs(Transport.NIO);
    Vertx vertx = ProxyTransport.vertx(new VertxOptions().setEventLoopPoolSize(1), chosen,
        Duration.ofSeconds(10));
    try {
      assertThat(roundTrip(vertx)).isEqualTo("NioSocketChannel");
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void rejectsAnUnknownTransportName() {
    assertThatThrownBy(() -> Kind.parse("kqueue2"))
        .hasMessage("transport: kqueue2 (expected: auto, epoll, io_uring or nio)");
    assertThat(Kind.parse("io-uring")).isEqualTo(Kind.IO_URING);
    assertThat(Kind.parse(" ")).isEqualTo(Kind.AUTO);
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
